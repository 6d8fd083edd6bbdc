"""Find source modules by slug and run their parsers with model resolution.

Source modules register themselves by existing: every module of this package
that defines ``SOURCE`` is a source, so adding a provider is adding one file.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from datetime import datetime
from functools import cache
from types import ModuleType
from typing import Protocol, cast

import httpx
from pydantic import ValidationError

import scrapers
from costcurve.catalog import resolve_model
from scrapers.base import LlmPrice, Observation, ParseError, SourceInfo

_NOT_SOURCES = {"base", "http", "registry", "htmltext"}


class SourceModule(Protocol):
    SOURCE: SourceInfo
    fetch: Callable[[httpx.Client], bytes]
    parse: Callable[..., list[Observation]]


@cache
def sources() -> dict[str, SourceModule]:
    found: dict[str, SourceModule] = {}
    for info in pkgutil.iter_modules(scrapers.__path__):
        if info.name in _NOT_SOURCES or info.name.startswith("_"):
            continue
        module: ModuleType = importlib.import_module(f"scrapers.{info.name}")
        source = getattr(module, "SOURCE", None)
        if isinstance(source, SourceInfo):
            found[source.slug] = cast(SourceModule, module)
    return dict(sorted(found.items()))


def get_source(slug: str) -> SourceModule:
    try:
        return sources()[slug]
    except KeyError:
        known = ", ".join(sources())
        raise KeyError(f"unknown source {slug!r}; known sources: {known}") from None


def parse_source(slug: str, raw: bytes, *, observed_at: datetime) -> list[Observation]:
    """Parse ``raw`` with the source's parser and resolve canonical model slugs.

    Never returns an empty list: a page without prices is a ParseError.
    """
    module = get_source(slug)
    try:
        observations = module.parse(raw, observed_at=observed_at)
    except ParseError:
        raise
    except _MALFORMED as exc:
        # A recognised page with a bad value in it: name the value, lose nothing.
        raise ParseError(slug, f"malformed value: {describe_error(exc)}") from exc
    if not observations:
        raise ParseError(slug, "no prices found: the page structure has probably changed")
    _reject_duplicates(slug, observations)
    return [_resolve(obs) for obs in observations]


# What a parser raises when a field holds something it cannot read.
_MALFORMED = (ValueError, ArithmeticError, TypeError, KeyError, IndexError, AttributeError)


def describe_error(exc: BaseException) -> str:
    """The field and offending value of a validation error, else the error's own words."""
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors()[:3]:
            field = ".".join(str(p) for p in error.get("loc", ())) or "value"
            parts.append(f"{field}={error.get('input')!r}: {error.get('msg')}")
        return "; ".join(parts)
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _reject_duplicates(slug: str, observations: list[Observation]) -> None:
    """One listing naming the same offering twice cannot say which price is right."""
    seen: dict[tuple[object, ...], Observation] = {}
    for obs in observations:
        key = obs.offering_key()
        if key in seen:
            raise ParseError(slug, f"offering listed twice in one snapshot: {key}")
        seen[key] = obs


def _resolve(obs: Observation) -> Observation:
    if isinstance(obs, LlmPrice) and obs.model is None:
        slug = resolve_model(obs.provider, obs.provider_model_id)
        if slug is not None:
            return obs.model_copy(update={"model": slug})
    return obs
