"""The genai-prices feed: conditional, time-of-day and tiered prices as dated versions.

Expected values are read here from the raw ``data.json``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from sqlalchemy import Engine

from costcurve.catalog import load_models, resolve_model
from costcurve.core.observations import ParseError
from costcurve.core.offer_terms import listing_variant, published_price
from db.backfill import backfill
from db.queries import llm_history, llm_prices_as_of
from scrapers.history import HistoryItem
from scrapers.history.genai_prices import parse
from tests.support import DATASETS, require_shared

PATH = DATASETS / "genai-prices" / "prices" / "new_data" / "v2" / "data.json"
# The feed's commit date (../shared/datasets/README.md): when this copy was fetched.
FETCHED = datetime(2026, 8, 21, tzinfo=UTC)


@cache
def _raw() -> bytes:
    require_shared(PATH)
    return PATH.read_bytes()


@cache
def _doc() -> list[dict[str, Any]]:
    return json.loads(_raw(), parse_float=Decimal)


def _models() -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["id"], m["id"]): m for p in _doc() for m in p["models"]}


@cache
def _items(fetched: datetime = FETCHED) -> tuple[HistoryItem, ...]:
    return tuple(parse(_raw(), observed_at=fetched))


def _find(provider: str, model_id: str, fetched: datetime = FETCHED) -> list[HistoryItem]:
    return [
        i
        for i in _items(fetched)
        if (i.price.provider, i.price.provider_model_id) == (provider, model_id)
    ]


def _utc(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)


def _release(provider: str, model_id: str) -> datetime:
    slug = resolve_model(provider, model_id)
    assert slug is not None
    return datetime.combine(load_models()[slug].release_date, datetime.min.time(), UTC)


def _io(item: HistoryItem) -> tuple[Decimal | None, Decimal | None]:
    return item.price.input_usd_per_mtok, item.price.output_usd_per_mtok


# --- the parser ------------------------------------------------------------------------------


def _published(value: Decimal | None) -> Decimal | None:
    # Float noise in the feed (0.18000000000000002) is not part of the price.
    return None if value is None else published_price(Decimal(value))


def test_parse_genai_prices_reads_every_plain_flat_model_at_the_fetch_date() -> None:
    checked = 0
    for (provider, model_id), model in _models().items():
        prices = model["prices"]
        if not isinstance(prices, dict) or any(isinstance(v, dict) for v in prices.values()):
            continue
        if "input_mtok" not in prices or "output_mtok" not in prices:
            assert _find(provider, model_id) == [], (provider, model_id)
            continue
        (item,) = _find(provider, model_id)
        p = item.price
        assert (p.input_usd_per_mtok, p.output_usd_per_mtok) == (
            _published(prices["input_mtok"]),
            _published(prices["output_mtok"]),
        )
        assert p.cached_input_usd_per_mtok == _published(prices.get("cache_read_mtok"))
        assert p.cache_write_usd_per_mtok == _published(prices.get("cache_write_mtok"))
        assert (p.observed_at, p.effective_from, item.change_kind) == (FETCHED, None, "observed")
        base_id, variant = listing_variant(model_id, model.get("name"))
        assert (p.source, p.provider, p.variant, p.context_tier) == (
            "genai-prices",
            provider,
            variant,
            None,
        )
        assert p.model == resolve_model(provider, base_id)
        checked += 1
    assert checked > 1000


def test_parse_genai_prices_turns_tiered_prices_into_context_tiers() -> None:
    checked = 0
    for (provider, model_id), model in _models().items():
        prices = model["prices"]
        if not isinstance(prices, dict) or not isinstance(prices.get("input_mtok"), dict):
            continue
        (tier,) = prices["input_mtok"]["tiers"]
        label = f">{tier['start'] // 1000}k"
        by_tier = {i.price.context_tier: i for i in _find(provider, model_id)}
        assert set(by_tier) == {None, label}
        assert by_tier[None].price.input_usd_per_mtok == prices["input_mtok"]["base"]
        assert by_tier[label].price.input_usd_per_mtok == tier["price"]
        output = prices["output_mtok"]
        expected_output = output["tiers"][0]["price"] if isinstance(output, dict) else output
        assert by_tier[label].price.output_usd_per_mtok == expected_output
        checked += 1
    assert checked >= 5


def test_parse_genai_prices_starts_conditional_prices_on_their_start_date() -> None:
    checked = 0
    for (provider, model_id), model in _models().items():
        if not isinstance(model["prices"], list):
            continue
        for entry in model["prices"]:
            start = (entry.get("constraint") or {}).get("start_date")
            if start is None:
                continue
            day = _utc(start)
            items = [i for i in _find(provider, model_id) if i.instant() == day]
            assert items, (provider, model_id, start)
            base = next(i for i in items if i.price.context_tier is None)
            expected_input = entry["prices"]["input_mtok"]
            if isinstance(expected_input, dict):
                expected_input = expected_input["base"]
            assert base.price.input_usd_per_mtok == expected_input
            if day > FETCHED:
                assert base.change_kind == "announced"
                assert (base.price.observed_at, base.price.effective_from) == (FETCHED, day)
            else:
                assert base.change_kind == "observed"
                assert (base.price.observed_at, base.price.effective_from) == (day, None)
            checked += 1
    assert checked == 13


def test_parse_genai_prices_dates_the_price_before_a_past_change_by_release() -> None:
    o3 = _models()[("openai", "o3")]["prices"]
    before, after = _find("openai", "o3")
    assert before.price.observed_at == _release("openai", "o3")
    assert _io(before) == (o3[0]["prices"]["input_mtok"], o3[0]["prices"]["output_mtok"])
    assert after.price.observed_at == _utc(o3[1]["constraint"]["start_date"])
    assert _io(after) == (o3[1]["prices"]["input_mtok"], o3[1]["prices"]["output_mtok"])


def test_parse_genai_prices_keeps_an_introductory_price_until_the_announced_one() -> None:
    raw = _models()[("anthropic", "claude-sonnet-5")]["prices"]
    now, later = _find("anthropic", "claude-sonnet-5")
    assert (now.change_kind, now.instant()) == ("observed", FETCHED)
    assert _io(now) == (raw[0]["prices"]["input_mtok"], raw[0]["prices"]["output_mtok"])
    assert (later.change_kind, later.instant()) == ("announced", _utc("2026-09-01"))
    # Fetched after the change took effect, the introductory price is history.
    after = datetime(2026, 11, 22, tzinfo=UTC)
    intro, standard = _find("anthropic", "claude-sonnet-5", after)
    assert intro.instant() == _release("anthropic", "claude-sonnet-5")
    assert (standard.change_kind, standard.instant()) == ("observed", _utc("2026-09-01"))


def test_parse_genai_prices_keeps_long_context_tiers_when_a_change_drops_them() -> None:
    raw = _models()[("anthropic", "claude-opus-4-6")]["prices"]
    flat_from = _utc(raw[1]["constraint"]["start_date"])
    items = _find("anthropic", "claude-opus-4-6")
    tiered = {(i.instant(), i.price.context_tier): i for i in items}
    start = _release("anthropic", "claude-opus-4-6")
    assert set(tiered) == {(start, None), (start, ">200k"), (flat_from, None), (flat_from, ">200k")}
    assert (
        tiered[(start, ">200k")].price.input_usd_per_mtok
        == (raw[0]["prices"]["input_mtok"]["tiers"][0]["price"])
    )
    assert (
        tiered[(start, ">200k")].price.cache_write_1h_usd_per_mtok
        == (raw[0]["prices"]["cache_write_1h_mtok"]["tiers"][0]["price"])
    )
    # From the change on, long prompts pay the flat price.
    assert _io(tiered[(flat_from, ">200k")]) == (
        raw[1]["prices"]["input_mtok"],
        raw[1]["prices"]["output_mtok"],
    )


@pytest.mark.parametrize("model_id", ["deepseek-chat", "deepseek-reasoner"])
def test_parse_genai_prices_maps_the_deepseek_discount_window_to_off_peak(model_id: str) -> None:
    unconstrained, windowed = _models()[("deepseek", model_id)]["prices"]
    assert set(windowed["constraint"]) == {"start_time", "end_time"}
    by_variant = {i.price.variant: i for i in _find("deepseek", model_id)}
    assert set(by_variant) == {"standard", "off_peak"}
    standard, off_peak = by_variant["standard"].price, by_variant["off_peak"].price
    assert standard.input_usd_per_mtok == windowed["prices"]["input_mtok"]
    assert standard.cached_input_usd_per_mtok == windowed["prices"]["cache_read_mtok"]
    assert off_peak.input_usd_per_mtok == unconstrained["prices"]["input_mtok"]
    assert off_peak.output_usd_per_mtok == unconstrained["prices"]["output_mtok"]
    assert off_peak.input_usd_per_mtok < standard.input_usd_per_mtok


def test_parse_genai_prices_offerings_unique_prices_non_negative_deterministic() -> None:
    items = _items()
    keys = [(i.price.offering_key(), i.instant()) for i in items]
    assert len(keys) == len(set(keys))
    for item in items:
        assert item.change_kind in {"observed", "announced"}
        for value in (item.price.input_usd_per_mtok, item.price.output_usd_per_mtok):
            assert isinstance(value, Decimal)
            assert value >= 0
    assert tuple(parse(_raw(), observed_at=FETCHED)) == items


@pytest.mark.parametrize(
    "raw",
    [
        b"<html>Attention Required! | Cloudflare</html>",
        b'{"providers": []}',
        b"[]",
        b'[{"id": "x", "models": [{"id": "m", "match": {}, "prices": 3}]}]',
        b'[{"id": "x", "models": [{"id": "m", "prices": [{"constraint": {"region": "eu"}, '
        b'"prices": {"input_mtok": 1, "output_mtok": 2}}]}]}]',
        b'[{"id": "x", "models": [{"id": "m", "prices": {"input_mtok": -1, "output_mtok": 2}}]}]',
    ],
    ids=["block-page", "not-a-list", "empty", "bad-prices", "unknown-constraint", "negative"],
)
def test_parse_genai_prices_rejects_unexpected_documents(raw: bytes) -> None:
    with pytest.raises(ParseError, match="genai-prices"):
        parse(raw, observed_at=FETCHED)


# --- into the database -----------------------------------------------------------------------


def _history(engine: Engine, provider: str, model_id: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = llm_history(
            conn, source="genai-prices", provider=provider, provider_model_id=model_id
        )
    return [
        (
            r["variant"],
            r["context_tier"],
            r["valid_from"],
            r["valid_to"],
            r["input_usd_per_mtok"],
            r["output_usd_per_mtok"],
            r["change_kind"],
        )
        for r in rows
    ]


def test_backfill_genai_prices_twice_opens_versions_once(engine: Engine) -> None:
    first = backfill(engine, "genai-prices", _raw(), observed_at=FETCHED)
    assert first.result.new_versions > 1000
    assert first.result.skipped == 0
    second = backfill(engine, "genai-prices", _raw(), observed_at=FETCHED)
    assert (second.result.new_versions, second.result.closed_versions, second.result.skipped) == (
        0,
        0,
        0,
    )
    assert second.result.unchanged == second.result.observations == len(_items())


def test_backfill_genai_prices_conditional_versions_start_on_their_start_date(
    engine: Engine,
) -> None:
    backfill(engine, "genai-prices", _raw(), observed_at=FETCHED)
    for (provider, model_id), model in _models().items():
        if not isinstance(model["prices"], list):
            continue
        starts = {
            _utc(e["constraint"]["start_date"])
            for e in model["prices"]
            if "start_date" in (e.get("constraint") or {})
        }
        history = _history(engine, provider, model_id)
        for start in starts:
            # An offering whose prices the change left alone keeps its version
            # (claude-opus-4-6's base tier): some offering starts, none skipped.
            assert any(v[2] == start for v in history), (provider, model_id, start)

    o3 = _models()[("openai", "o3")]["prices"]
    change = _utc(o3[1]["constraint"]["start_date"])
    assert _history(engine, "openai", "o3") == [
        ("standard", None, _release("openai", "o3"), change, *_io_raw(o3[0]), "observed"),
        ("standard", None, change, None, *_io_raw(o3[1]), "observed"),
    ]


def _io_raw(entry: dict[str, Any]) -> tuple[Decimal, Decimal]:
    return entry["prices"]["input_mtok"], entry["prices"]["output_mtok"]


def test_backfill_genai_prices_announced_price_does_not_count_before_its_date(
    engine: Engine,
) -> None:
    backfill(engine, "genai-prices", _raw(), observed_at=FETCHED)
    raw = _models()[("anthropic", "claude-sonnet-5")]["prices"]
    change = _utc("2026-09-01")
    assert _history(engine, "anthropic", "claude-sonnet-5") == [
        ("standard", None, FETCHED, change, *_io_raw(raw[0]), "observed"),
        ("standard", None, change, None, *_io_raw(raw[1]), "announced"),
    ]
    with engine.connect() as conn:
        for at, entry in ((datetime(2026, 8, 31, 23, tzinfo=UTC), raw[0]), (change, raw[1])):
            (row,) = llm_prices_as_of(
                conn,
                at,
                source="genai-prices",
                provider="anthropic",
                provider_model_id="claude-sonnet-5",
            )
            assert (row["input_usd_per_mtok"], row["output_usd_per_mtok"]) == _io_raw(entry)
