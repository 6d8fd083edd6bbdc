"""The openrouterlist history dataset: parsed points and the versions they become.

Expectations are computed here from the raw ``prices.json`` with the test's
own small model of the documented rules (scrapers/history/openrouterlist.py),
independently of the parser and of db/ingest.py.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from sqlalchemy import Engine, text

from costcurve.core.observations import ParseError
from costcurve.core.offer_terms import published_price
from db.backfill import backfill
from db.queries import llm_history
from scrapers.history import DATASETS, HistoryItem
from scrapers.history.openrouterlist import REVERT_WINDOW, parse
from tests.support import DATASETS as DATASETS_DIR
from tests.support import require_shared

PATH = DATASETS_DIR / "openrouterlist" / "prices.json"
# Models with changes, chosen to cover each rule: long history, withdrawal,
# two points on one date, a one-day blip that was reverted.
QWEN = "qwen/qwen-2.5-72b-instruct"
WITHDRAWN = "meta-llama/llama-3.1-405b-instruct"
LONG = "deepseek/deepseek-chat"
SAME_DAY = "meta-llama/llama-3.2-90b-vision-instruct"
BLIP = "sao10k/l3.1-euryale-70b"
SAMPLES = (QWEN, WITHDRAWN, LONG, SAME_DAY, BLIP)

Version = tuple[datetime, datetime | None, Decimal, Decimal, str]


@cache
def _raw() -> bytes:
    require_shared(PATH)
    return PATH.read_bytes()


@cache
def _doc() -> dict[str, Any]:
    return json.loads(_raw(), parse_float=Decimal)


@cache
def _items() -> tuple[HistoryItem, ...]:
    return tuple(parse(_raw()))


def _by_model() -> dict[str, list[HistoryItem]]:
    out: dict[str, list[HistoryItem]] = defaultdict(list)
    for item in _items():
        out[item.price.provider_model_id].append(item)
    return out


def _day(value: str) -> datetime:
    return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)


def _expected(entry: dict[str, Any]) -> list[Version]:
    """Versions per the documented rules, from one raw model entry."""
    last_of_day: dict[str, tuple[Decimal, Decimal] | None] = {}
    for day, prompt, completion in entry["points"]:
        priced = prompt is not None and completion is not None and prompt >= 0 and completion >= 0
        # Prices at the published precision (float noise removed: core.offer_terms).
        last_of_day[day] = (
            (published_price(Decimal(prompt)), published_price(Decimal(completion)))
            if priced
            else None
        )
    points: list[tuple[datetime, tuple[Decimal, Decimal]]] = []
    for day in sorted(last_of_day):
        prices = last_of_day[day]
        if prices is not None and (not points or points[-1][1] != prices):
            points.append((_day(day), prices))
    versions: list[Version] = []
    for i, (start, prices) in enumerate(points):
        end = points[i + 1][0] if i + 1 < len(points) else None
        if end is None and not entry["present_now"]:
            end = _day(entry["last_seen"]) + timedelta(days=1)
        reverts = (
            i >= 2 and points[i - 2][1] == prices and start - points[i - 1][0] <= timedelta(days=1)
        )
        versions.append((start, end, *prices, "correction" if reverts else "observed"))
    return versions


# --- the parser ------------------------------------------------------------------------------


def test_parse_openrouterlist_gives_qwen_2_5_72b_its_eleven_dated_points() -> None:
    raw_points = _doc()["models"][QWEN]["points"]
    assert len(raw_points) == 11
    items = _by_model()[QWEN]
    assert [
        (i.price.observed_at, i.price.input_usd_per_mtok, i.price.output_usd_per_mtok)
        for i in items
    ] == [
        (_day(d), published_price(Decimal(p)), published_price(Decimal(c)))
        for d, p, c in raw_points
    ]
    assert all(i.change_kind == "observed" and i.closes_at is None for i in items)
    first = items[0].price
    assert (first.source, first.provider, first.variant, first.context_tier) == (
        "openrouterlist",
        "openrouter",
        "standard",
        None,
    )
    assert first.effective_from is None
    assert first.source_url.startswith("https://")


def test_parse_openrouterlist_matches_the_documented_rules_for_every_model() -> None:
    got: dict[str, list[tuple[datetime, Decimal | None, Decimal | None, str]]] = {
        model_id: [
            (
                i.price.observed_at,
                i.price.input_usd_per_mtok,
                i.price.output_usd_per_mtok,
                i.change_kind,
            )
            for i in items
        ]
        for model_id, items in _by_model().items()
    }
    expected = {
        model_id: [(v[0], v[2], v[3], v[4]) for v in _expected(entry)]
        for model_id, entry in _doc()["models"].items()
    }
    assert got == {k: v for k, v in expected.items() if v}


def test_parse_openrouterlist_keeps_the_last_point_of_a_date() -> None:
    raw_points = _doc()["models"][SAME_DAY]["points"]
    days = [p[0] for p in raw_points]
    doubled = [d for d in set(days) if days.count(d) == 2]
    assert doubled, "the sample must have two points on one date"
    items = {i.price.observed_at: i for i in _by_model()[SAME_DAY]}
    for day in doubled:
        last = [p for p in raw_points if p[0] == day][-1]
        item = items[_day(day)]
        assert (item.price.input_usd_per_mtok, item.price.output_usd_per_mtok) == (
            Decimal(last[1]),
            Decimal(last[2]),
        )
        assert item.superseded == 1


def test_parse_openrouterlist_marks_a_reverted_one_day_blip_as_corrected() -> None:
    raw_points = _doc()["models"][BLIP]["points"]
    items = _by_model()[BLIP]
    corrections = [i for i in items if i.change_kind == "correction"]
    assert corrections
    for item in corrections:
        i = items.index(item)
        before, blip = items[i - 2].price, items[i - 1].price
        assert item.price.observed_at - blip.observed_at <= REVERT_WINDOW
        assert (item.price.input_usd_per_mtok, item.price.output_usd_per_mtok) == (
            before.input_usd_per_mtok,
            before.output_usd_per_mtok,
        )
    assert len(items) == len(raw_points)


def test_parse_openrouterlist_leaves_a_slow_revert_observed() -> None:
    # cohere/command-r-08-2024 went back to its first price months later: a repricing.
    items = _by_model()["cohere/command-r-08-2024"]
    prices = [(i.price.input_usd_per_mtok, i.price.output_usd_per_mtok) for i in items]
    assert len(prices) >= 3
    assert prices[0] == prices[2]
    assert items[2].price.observed_at - items[1].price.observed_at > REVERT_WINDOW
    assert items[2].change_kind == "observed"


def test_parse_openrouterlist_closes_a_withdrawn_model_the_day_after_last_seen() -> None:
    entry = _doc()["models"][WITHDRAWN]
    assert entry["present_now"] is False
    items = _by_model()[WITHDRAWN]
    assert [i.closes_at for i in items[:-1]] == [None] * (len(items) - 1)
    assert items[-1].closes_at == _day(entry["last_seen"]) + timedelta(days=1)


def test_parse_openrouterlist_skips_unpriced_router_points_and_flags_free_ones() -> None:
    assert "openrouter/bodybuilder" not in _by_model()
    (free,) = _by_model()["openrouter/free"]
    assert free.price.free
    assert free.price.input_usd_per_mtok == 0
    assert free.price.observed_at == _day("2026-02-03")


def test_parse_openrouterlist_prices_are_non_negative_decimals_and_unique_per_instant() -> None:
    keys = [(i.price.offering_key(), i.instant()) for i in _items()]
    assert len(keys) == len(set(keys))
    for item in _items():
        for value in (item.price.input_usd_per_mtok, item.price.output_usd_per_mtok):
            assert isinstance(value, Decimal)
            assert value >= 0


def test_parse_openrouterlist_is_deterministic() -> None:
    assert tuple(parse(_raw())) == _items()
    assert DATASETS["openrouterlist"].parse is parse


@pytest.mark.parametrize(
    "raw",
    [
        b"<html><title>Just a moment...</title></html>",
        b'{"as_of": "2026-08-22", "models": []}',
        b'{"models": {"a/b": {"points": [["2026-01-01", 1]]}}}',
        b'{"models": {"a/b": {"points": [["01/01/2026", 1, 2]]}}}',
        b'{"models": {"a/b": {"points": [["2026-01-01", "1", 2]]}}}',
        b'{"models": {"a/b": {"points": [["2026-01-01", null, null]]}}}',
    ],
    ids=["challenge", "models-not-object", "short-point", "bad-date", "string-price", "no-prices"],
)
def test_parse_openrouterlist_rejects_unexpected_documents(raw: bytes) -> None:
    with pytest.raises(ParseError, match="openrouterlist"):
        parse(raw)


# --- into the database -----------------------------------------------------------------------


def _versions(engine: Engine, model_id: str) -> list[Version]:
    with engine.connect() as conn:
        rows = llm_history(
            conn, source="openrouterlist", provider="openrouter", provider_model_id=model_id
        )
    return [
        (
            r["valid_from"],
            r["valid_to"],
            r["input_usd_per_mtok"],
            r["output_usd_per_mtok"],
            r["change_kind"],
        )
        for r in rows
    ]


def test_backfill_openrouterlist_twice_versions_every_point_exactly_once(engine: Engine) -> None:
    first = backfill(engine, "openrouterlist", _raw())
    expected = {m: _expected(e) for m, e in _doc()["models"].items()}
    n_versions = sum(len(v) for v in expected.values())
    assert first.result.new_versions == n_versions == first.result.observations
    assert first.result.skipped == 0
    withdrawn = sum(1 for e in _doc()["models"].values() if not e["present_now"] and _expected(e))
    changes = sum(max(len(v) - 1, 0) for v in expected.values())
    assert first.result.closed_versions == changes + withdrawn

    second = backfill(engine, "openrouterlist", _raw())
    assert (second.result.new_versions, second.result.closed_versions, second.result.skipped) == (
        0,
        0,
        0,
    )
    assert second.result.unchanged == n_versions

    for model_id in SAMPLES:
        assert _versions(engine, model_id) == expected[model_id], model_id
    assert len(_versions(engine, QWEN)) == 11
    with engine.connect() as conn:
        runs = conn.execute(
            text("SELECT status, source, snapshot_sha256 IS NOT NULL FROM pipeline_run ORDER BY id")
        ).all()
        kind = conn.execute(
            text("SELECT kind FROM source WHERE slug = 'openrouterlist'")
        ).scalar_one()
    assert [tuple(run) for run in runs] == [("succeeded", "openrouterlist", True)] * 2
    assert kind == "dataset"


def test_backfill_openrouterlist_whole_history_matches_the_rules(engine: Engine) -> None:
    backfill(engine, "openrouterlist", _raw())
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                """
                SELECT o.provider_model_id, v.valid_from, v.valid_to, v.input_usd_per_mtok,
                       v.output_usd_per_mtok, v.change_kind
                FROM llm_price_version v JOIN llm_offering o ON o.id = v.offering_id
                WHERE o.source = 'openrouterlist' ORDER BY 1, 2
                """
            )
        ).all()
    got: dict[str, list[Version]] = defaultdict(list)
    for model_id, *version in rows:
        got[model_id].append(tuple(version))
    expected = {m: _expected(e) for m, e in _doc()["models"].items()}
    assert got == {k: v for k, v in expected.items() if v}


def test_backfill_openrouterlist_parse_failure_fails_the_run_and_changes_nothing(
    engine: Engine,
) -> None:
    with pytest.raises(ParseError):
        backfill(engine, "openrouterlist", b'{"models": 1}')
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM pipeline_run")).scalar_one() == "failed"
        assert conn.execute(text("SELECT count(*) FROM llm_price_version")).scalar_one() == 0
