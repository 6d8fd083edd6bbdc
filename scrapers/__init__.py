"""Source modules: one per provider, ``fetch`` (network) and ``parse`` (pure)."""

from scrapers.base import GpuRate, LlmPrice, Observation, ParseError, SourceInfo

__all__ = ["GpuRate", "LlmPrice", "Observation", "ParseError", "SourceInfo"]
