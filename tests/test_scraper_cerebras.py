from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from scrapers import ParseError, cerebras
from scrapers.registry import get_source
from tests.support import fixture_files, observed_at_for

FILES = fixture_files("cerebras")
BLOCKED = fixture_files("openai", "*BLOCKED*")
WHEN = observed_at_for(Path("x_2026-05-08"))


def _parse(path: Path) -> list:
    return cerebras.parse(path.read_bytes(), observed_at=observed_at_for(path))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_parse_cerebras_every_capture_yields_complete_non_negative_prices(path: Path) -> None:
    obs = _parse(path)
    assert len(obs) >= 2
    for o in obs:
        assert o.source == o.provider == "cerebras"
        assert o.variant == "standard"
        assert o.context_tier is None
        assert o.observed_at == observed_at_for(path)
        for price in (o.input_usd_per_mtok, o.output_usd_per_mtok):
            assert isinstance(price, Decimal)
            assert price >= 0


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_parse_cerebras_is_deterministic_with_unique_offering_keys(path: Path) -> None:
    first, second = _parse(path), _parse(path)
    assert first == second
    assert max(Counter(o.offering_key() for o in first).values()) == 1


def test_parse_cerebras_reads_the_developer_tier_table_from_the_page_payload() -> None:
    path = next(p for p in FILES if p and "2026-05-08" in p.name)
    obs = {o.provider_model_id: o for o in _parse(path)}
    expected = {
        "zai-glm-4.7": ("2.25", "2.75"),
        "gpt-oss-120b": ("0.35", "0.75"),
        "llama-3.1-8b": ("0.10", "0.10"),
        "qwen-3-235b-instruct": ("0.60", "1.20"),
    }
    assert set(obs) == set(expected)
    for model, (input_price, output_price) in expected.items():
        assert obs[model].input_usd_per_mtok == Decimal(input_price), model
        assert obs[model].output_usd_per_mtok == Decimal(output_price), model


def _payload_page(rows: list[list[str]]) -> bytes:
    table = {
        "_type": "table",
        "rows": [{"_type": "tableRow", "cells": cells} for cells in rows],
    }
    row = "5:" + json.dumps(["$", "$L3b", None, {"blocks": [table]}]) + "\n"
    script = "self.__next_f.push(" + json.dumps([1, row]) + ")"
    return f"<html><body><script>{script}</script></body></html>".encode()


def test_parse_cerebras_reads_a_rendered_html_table_too() -> None:
    html = (
        b"<table><tr><th>Model</th><th>Speed</th><th>Input</th><th>Output</th></tr>"
        b"<tr><td>[META]Llama Test 70B*</td><td>fast</td><td>$0.85/M tokens</td>"
        b"<td>$1.20 / M tokens</td></tr></table>"
    )
    (o,) = cerebras.parse(html, observed_at=WHEN)
    assert o.provider_model_id == "llama-test-70b"
    assert (o.input_usd_per_mtok, o.output_usd_per_mtok) == (Decimal("0.85"), Decimal("1.2"))


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"<html><body><h2>Developer tier Pricing</h2></body></html>",
        b"<html><title>Just a moment...</title></html>",
        _payload_page([["Model", "Input", "Output"], ["X 1B", "$$1/hour", "$$2/hour"]]),
        _payload_page([["Plan", "Price"], ["Pro", "$$50/month"]]),
    ],
)
def test_parse_cerebras_rejects_pages_without_a_per_token_table(raw: bytes) -> None:
    with pytest.raises(ParseError):
        cerebras.parse(raw, observed_at=WHEN)


@pytest.mark.parametrize("path", BLOCKED, ids=lambda p: p.name if p else "absent")
def test_parse_cerebras_rejects_a_recorded_cloudflare_challenge(path: Path) -> None:
    with pytest.raises(ParseError, match="Cloudflare"):
        cerebras.parse(path.read_bytes(), observed_at=WHEN)


def test_cerebras_is_registered() -> None:
    assert get_source("cerebras").SOURCE.url == "https://www.cerebras.ai/pricing"
