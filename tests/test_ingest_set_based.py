"""The set-based fast path of db/ingest.py gives what the rule gives.

A daily scrape (every observation later than anything logged for its
offering) is applied by statements over the staged rows (db/ingest_fast.py,
db/ingest_withdraw.py). For each kind of day-two listing the believed
versions must be the islands of db/versioning_rule.py over the same events,
the counts and change reports what the rule implies, no offering may need a
rebuild, and a rebuild from the log afterwards must find nothing to change.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, text

from costcurve.core.offer_terms import same_price
from db.ingest import LLM, ingest
from db.ingest_rebuild import Batch, rebuild
from db.ingest_result import IngestResult
from db.pipeline import SourceRow, ensure_source
from db.versioning_rule import Event, walk
from scrapers import LlmPrice

SOURCE = "openrouter"
T0 = datetime(2026, 8, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
NOISY = "2.99999999"  # 3 plus float noise: the same published price


def price(model: str, inp: str, at: datetime, **kw: Any) -> LlmPrice:
    return LlmPrice(
        source=SOURCE,
        provider="openrouter",
        provider_model_id=model,
        input_usd_per_mtok=Decimal(inp),
        output_usd_per_mtok=Decimal("7"),
        observed_at=at,
        source_url="https://openrouter.ai/api/v1/models",
        **kw,
    )


DAY0 = [price("a/x", "1", T0), price("b/y", "3", T0), price("c/z", "5", T0)]
SAME = [price("a/x", "1", T1), price("b/y", "3", T1), price("c/z", "5", T1)]

# name -> (day-one listing, (new, closed, unchanged, skipped), changes as (model, old, new))
CASES: dict[str, tuple[list[LlmPrice], tuple[int, int, int, int], list[tuple[Any, ...]]]] = {
    "unchanged": (SAME, (0, 0, 3, 0), []),
    "changed": (
        [SAME[0], price("b/y", "2.5", T1), SAME[2]],
        (1, 1, 2, 0),
        [("b/y", Decimal("3"), Decimal("2.5"))],
    ),
    "new": ([*SAME, price("d/w", "9", T1)], (1, 0, 3, 0), [("d/w", None, Decimal("9"))]),
    "withdrawn": (SAME[:2], (0, 1, 2, 0), [("c/z", Decimal("5"), None)]),
    "float noise": ([SAME[0], price("b/y", NOISY, T1), SAME[2]], (0, 0, 3, 0), []),
    "promotion with a stated end": (
        [SAME[0], price("b/y", "1.5", T1, effective_to=T1 + timedelta(days=9)), SAME[2]],
        (1, 1, 2, 0),
        [("b/y", Decimal("3"), Decimal("1.5"))],
    ),
    "stated end already passed": (
        [SAME[0], price("b/y", "1.5", T1, effective_to=T1), SAME[2]],
        (0, 0, 2, 1),
        [],
    ),
}


def _ingest(engine: Engine, observations: list[LlmPrice]) -> IngestResult:
    with engine.begin() as conn:
        ensure_source(conn, SourceRow(SOURCE, "llm_price", listing_complete=True))
        return ingest(conn, SOURCE, observations, listing_complete=True)


def _rule(listings: list[list[LlmPrice]]) -> dict[str, list[tuple[Any, ...]]]:
    """Per offering, (valid_from, valid_to, last_seen_at, values) as the rule gives them."""
    events: dict[str, list[Event]] = defaultdict(list)
    for listing in listings:
        for o in listing:
            instant = o.effective_from or o.observed_at
            events[o.provider_model_id].append(
                Event(instant, o.observed_at, LLM.values_of(o), o.effective_to)
            )
    out = {}
    for model, evs in events.items():
        first = min(e.instant for e in evs)
        seen = {e.observed_at for e in evs}
        # Each complete listing after the first sighting that lacks the offering.
        gone = [ls[0].observed_at for ls in listings if ls[0].observed_at > first]
        islands = walk(evs, [t for t in gone if t not in seen]).islands
        out[model] = [(i.valid_from, i.valid_to, i.last_seen_at, i.values) for i in islands]
    return out


def _believed(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    values = ", ".join(f"v.{c}" for c in LLM.value_columns)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT o.provider_model_id, v.valid_from, v.valid_to, v.last_seen_at, {values} "
                "FROM llm_price_version v JOIN llm_offering o ON o.id = v.offering_id "
                "ORDER BY 1, 2"
            )
        ).all()
    out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for model, start, end, seen, *vals in rows:
        out[model].append((start, end, seen, dict(zip(LLM.value_columns, vals, strict=True))))
    return out


def _same_islands(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    return len(a) == len(b) and all(
        x[:3] == y[:3]
        and all(
            same_price(x[3][c], y[3][c]) if isinstance(x[3][c], Decimal) else x[3][c] == y[3][c]
            for c in LLM.value_columns
        )
        for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize("case", list(CASES))
def test_the_fast_path_gives_the_rules_versions_counts_and_changes(
    engine: Engine, case: str
) -> None:
    day1, (new, closed, unchanged, skipped), changes = CASES[case]
    assert same_price(Decimal(NOISY), Decimal("3"))
    _ingest(engine, DAY0)
    result = _ingest(engine, day1)

    assert (result.new_versions, result.closed_versions, result.unchanged, result.skipped) == (
        new,
        closed,
        unchanged,
        skipped,
    )
    assert result.rebuilt_offerings == 0  # all of it on the set-based path
    reported = [
        (
            c.key["provider_model_id"],
            None if c.old is None else c.old["input_usd_per_mtok"],
            None if c.new is None else c.new["input_usd_per_mtok"],
        )
        for c in result.changes
    ]
    assert reported == changes
    for c in result.changes:
        assert c.at == T1
        assert (c.new_version_id is None) == (c.new is None)

    believed, rule = _believed(engine), _rule([DAY0, day1])
    assert believed.keys() == rule.keys()
    for model, islands in rule.items():
        assert _same_islands(believed[model], islands), (model, believed[model], islands)

    # The log implies exactly what the fast path wrote: a rebuild changes nothing.
    with engine.begin() as conn:
        ids = set(conn.execute(text("SELECT id FROM llm_offering")).scalars())
        check = IngestResult()
        rebuild(Batch(conn, LLM, SOURCE, None, datetime.now(UTC)), ids, check)
    assert (check.superseded, check.new_versions, check.closed_versions) == (0, 0, 0)
    assert check.changes == []
    assert _believed(engine) == believed


def test_a_sighting_of_every_listed_offering_rewrites_no_offering_index(engine: Engine) -> None:
    # Migration 0015 leaves room on each offering page: moving last_seen_at is a HOT
    # update (the row stays on its page, no index entry is written). Enough offerings
    # to fill pages, so that a full page would show.
    listed = [price(f"vendor/model-{i}", "1", T0) for i in range(600)]
    _ingest(engine, listed)
    with engine.begin() as conn:
        ensure_source(conn, SourceRow(SOURCE, "llm_price", listing_complete=True))
        ingest(
            conn,
            SOURCE,
            [p.model_copy(update={"observed_at": T1}) for p in listed],
            listing_complete=True,
        )
        updated, hot = conn.execute(
            text(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
                "WHERE relname = 'llm_offering'"
            )
        ).one()
    assert updated == len(listed)
    assert hot == updated
