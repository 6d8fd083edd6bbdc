"""What the GPU history datasets share: the parse result and provider spellings.

A GPU history parser returns :class:`GpuHistory`: the dated
:class:`~costcurve.core.observations.GpuRate` observations it could place, and
a count per reason of the rows it could not (a GPU name the catalog does not
know, a non-positive price). Nothing is dropped silently: the backfill prints
and records those counts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from costcurve.catalog.gpus import canonical_gpu
from costcurve.core.observations import GpuRate

# Third-party spellings of providers that also have first-party sources, so that
# one provider is one voter in the index whichever source saw it.
PROVIDER_ALIASES = {
    "vast.ai": "vastai",
    "vast": "vastai",
    "lambdalabs": "lambda",
    "lambda labs": "lambda",
    "crusoecloud": "crusoe",
    "massed compute": "massedcompute",
}


@dataclass
class GpuHistory:
    rates: list[GpuRate] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def provider_slug(name: str) -> str:
    text = name.strip().lower()
    text = PROVIDER_ALIASES.get(text, text)
    return re.sub(r"\s+", "-", text)


def dataset_gpu(name: str) -> str | None:
    """Canonical GPU of a dataset's GPU label (``H100_SXM``, ``H100_80GB SXM5``)."""
    return canonical_gpu(name.replace("_", " "))
