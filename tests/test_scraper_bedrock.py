"""bedrock: per-token rows of the Bedrock pricing tables, variants and deployments apart."""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costcurve.core.observations import LlmPrice
from scrapers import ParseError
from scrapers import bedrock as source
from tests.support import fixture_files, observed_at_for, parse_recorded

FILES = fixture_files("bedrock")
VARIANTS = {
    "standard",
    "batch",
    "flex",
    "priority",
    "latency-optimized",
    "extended-access",
    "extended-access-batch",
    source.INFERRED_BATCH,
}


def _rows(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_bytes())


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "-", name.replace("*", "").strip().lower())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_parse_bedrock_keeps_offerings_unique_and_mostly_resolved(path: Path) -> None:
    obs = parse_recorded("bedrock", path)
    assert len(obs) > 200
    assert max(Counter(o.offering_key() for o in obs).values()) == 1
    assert {o.provider for o in obs} == {"aws-bedrock"}
    assert {o.variant for o in obs} <= VARIANTS
    assert {o.deployment for o in obs} <= {None, "geo", "global"}
    text_standard = [o for o in obs if o.modality == "text" and o.variant == "standard"]
    assert sum(o.model is not None for o in text_standard) / len(text_standard) > 0.8


def _standard_input(obs: list, name: str) -> Decimal | None:
    found = [
        o.input_usd_per_mtok
        for o in obs
        if _key(o.provider_model_id) == name
        and o.variant == "standard"
        and o.modality == "text"
        and o.input_usd_per_mtok is not None
    ]
    return min(found) if found else None


def test_per_1000_token_columns_are_per_million_exactly_unless_evidently_mislabelled() -> None:
    checked = 0
    for path in FILES:
        obs = parse_recorded("bedrock", path)
        for row in (r for r in _rows(path) if "Price per 1,000 input tokens" in r):
            written = Decimal(row["Price per 1,000 input tokens"].replace("$", "").strip())
            name = _key(next(v for k, v in row.items() if k == "Column_0" or "model" in k.lower()))
            found = {
                o.input_usd_per_mtok
                for o in obs
                if _key(o.provider_model_id) == name and o.variant == "latency-optimized"
            }
            standard = _standard_input(obs, name)
            if standard is not None and written * 1000 > standard * 100:
                # The recorded page prints per-million prices under this header.
                assert written in found
                assert written <= standard * 10
            else:
                assert written * 1000 in found
            checked += 1
    assert checked, "the later captures have a per-1,000 table (latency-optimized)"


def test_a_genuine_per_1000_column_is_multiplied_by_1000() -> None:
    rows = [
        {
            "Provider": "X",
            "Hierarchy_Path": "X",
            "Pricing_Category": "X",
            "X models": "Model A",
            "Price per 1,000 input tokens": "$0.0008",
            "Price per 1,000 output tokens": "$0.004",
        }
    ]
    (o,) = source.parse(
        json.dumps(rows).encode(), observed_at=observed_at_for(Path("x_2026-01-01"))
    )
    assert (o.input_usd_per_mtok, o.output_usd_per_mtok) == (Decimal("0.8"), Decimal("4"))


def test_extended_access_batch_columns_keep_both_variants() -> None:
    obs = parse_recorded("bedrock", FILES[-1])
    variants = {o.variant for o in obs if o.model == "claude-3.5-sonnet"}
    assert {"extended-access", "extended-access-batch"} <= variants


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_batch_columns_become_batch_observations(path: Path) -> None:
    obs = parse_recorded("bedrock", path)
    by_model = {(o.provider_model_id, o.deployment, o.region, o.variant): o for o in obs}
    checked = 0
    for row in _rows(path):
        batch = row.get("Price per 1M input tokens (batch)", "")
        name = row.get("Anthropic models")
        if not name or not batch.strip().startswith("$") or "Cross" not in row["Pricing_Category"]:
            continue
        deployment = "global" if "Global" in row["Pricing_Category"] else "geo"
        candidates = [
            o
            for (model, dep, _, variant), o in by_model.items()
            if _key(model) == _key(name) and dep == deployment and variant == "batch"
        ]
        assert Decimal(batch.replace("$", "").strip()) in {o.input_usd_per_mtok for o in candidates}
        checked += 1
    assert checked > 5


def test_global_and_geo_prices_of_one_model_are_separate_offerings() -> None:
    path = FILES[-1]
    obs = parse_recorded("bedrock", path)
    sonnet = {
        o.deployment: o
        for o in obs
        if o.model == "claude-sonnet-4.6" and o.variant == "standard" and o.region is None
    }
    assert {"geo", "global"} <= set(sonnet)
    assert sonnet["geo"].offering_key() != sonnet["global"].offering_key()
    assert sonnet["geo"].cache_write_usd_per_mtok is not None


def test_provisioned_throughput_rows_are_left_out() -> None:
    rows = _rows(FILES[-1])
    capacity = [r for r in rows if any("Commitment" in k for k in r)]
    assert capacity
    obs = parse_recorded("bedrock", FILES[-1])
    assert len(obs) < len(rows) - len(capacity)


def test_unnamed_regional_price_lists_are_kept_cheapest_first() -> None:
    obs = parse_recorded("bedrock", FILES[-1])
    lists = [o for o in obs if o.model == "gpt-oss-120b" and o.variant == "standard"]
    headline = [o for o in lists if o.region is None]
    others = [o for o in lists if o.region is not None]
    assert len(headline) == 1
    assert others
    assert all(o.input_usd_per_mtok >= headline[0].input_usd_per_mtok for o in others)


@pytest.mark.parametrize(
    "raw",
    [
        b"<html><title>Access Denied</title></html>",
        b"{}",
        b'[{"Provider": "X", "Hierarchy_Path": "X", "Pricing_Category": "X", "X models": "a"}]',
        b'[{"Provider": "X", "Hierarchy_Path": "X", "Pricing_Category": "X",'
        b' "X models": "a", "Price per 1M input tokens": "about a dollar"}]',
    ],
)
def test_unexpected_documents_are_parse_errors(raw: bytes) -> None:
    with pytest.raises(ParseError):
        source.parse(raw, observed_at=observed_at_for(Path("x_2026-01-01")))


def test_fetch_reads_the_pricing_page() -> None:
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url == source.URL
        return httpx.Response(200, content=b"[]")

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        assert source.fetch(client) == b"[]"


@pytest.mark.parametrize("path", FILES)
def test_a_list_at_half_of_another_is_an_inferred_batch_never_the_standard_price(
    path: Path,
) -> None:
    obs = [o for o in parse_recorded("bedrock", path) if isinstance(o, LlmPrice)]

    def group(o: LlmPrice) -> tuple[object, ...]:
        return (o.provider_model_id, o.deployment, o.modality)

    standard: dict[tuple[object, ...], list[LlmPrice]] = {}
    for o in obs:
        if o.variant == "standard":
            standard.setdefault(group(o), []).append(o)
    for lists in standard.values():
        for a in lists:
            for b in lists:
                assert not (
                    a.input_usd_per_mtok is not None
                    and b.input_usd_per_mtok is not None
                    and a.input_usd_per_mtok * 2 == b.input_usd_per_mtok
                    and (a.output_usd_per_mtok or 0) * 2 == (b.output_usd_per_mtok or 0)
                ), (a, b)
    batch = [o for o in obs if o.variant == "inferred-batch"]
    assert batch, "the recorded page has unlabelled half-price tables"
    for o in batch:
        assert o.input_usd_per_mtok is not None
        assert any(
            s.input_usd_per_mtok == o.input_usd_per_mtok * 2 for s in standard.get(group(o), [])
        ), o
