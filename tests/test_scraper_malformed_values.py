"""A bad value inside a recognised page is a ParseError naming it, never a traceback or a drop."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from costcurve.core.observations import ParseError
from scrapers.registry import parse_source
from tests.support import fixture_files, only_llm

WHEN = datetime(2026, 8, 3, tzinfo=UTC)


def _entries(doc: Any) -> list[dict[str, Any]]:
    return doc["data"] if isinstance(doc, dict) else doc


def _with_prompt(path: Path, value: str) -> tuple[bytes, str]:
    doc = json.loads(path.read_bytes())
    entry = next(e for e in _entries(doc) if str(e["pricing"].get("prompt")) not in ("-1", "0"))
    entry["pricing"]["prompt"] = value
    return json.dumps(doc).encode(), entry["id"]


@pytest.mark.parametrize("path", fixture_files("openrouter"))
@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("abc", "not a number: 'abc'"),
        ("NaN", "not a finite number: 'NaN'"),
        ("Infinity", "not a finite number: 'Infinity'"),
        ("-0.5", "negative price '-0.5'"),
    ],
)
def test_a_malformed_openrouter_price_is_a_parse_error_naming_the_value(
    path: Path, value: str, says: str
) -> None:
    raw, _model_id = _with_prompt(path, value)
    with pytest.raises(ParseError, match="openrouter") as caught:
        parse_source("openrouter", raw, observed_at=WHEN)
    assert says in str(caught.value)


@pytest.mark.parametrize("path", fixture_files("openrouter"))
def test_an_absurd_but_finite_price_parses_exactly_for_the_plausibility_screen(path: Path) -> None:
    raw, model_id = _with_prompt(path, "1e30")
    [obs] = [
        o
        for o in only_llm(parse_source("openrouter", raw, observed_at=WHEN))
        if o.provider_model_id == model_id and getattr(o, "context_tier", None) is None
    ]
    assert obs.input_usd_per_mtok is not None
    assert obs.input_usd_per_mtok == 10**36


@pytest.mark.parametrize("path", fixture_files("openrouter"))
def test_a_listing_naming_one_offering_twice_is_a_parse_error(path: Path) -> None:
    doc = json.loads(path.read_bytes())
    entries = _entries(doc)
    entries.append(dict(entries[0]))
    with pytest.raises(ParseError, match="listed twice"):
        parse_source("openrouter", json.dumps(doc).encode(), observed_at=WHEN)
