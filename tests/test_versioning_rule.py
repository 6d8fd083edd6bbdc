"""The canonical rule (db/versioning_rule.py) on hand-built observations, and its
effect in the database: contradicted versions kept with ``superseded_at`` and left
out of every read of the current belief."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, text

from db.ingest import ingest
from db.pipeline import SourceRow, ensure_source
from db.queries import LLM, Listing, read_at
from db.versioning_rule import Event, walk
from scrapers import LlmPrice

D = [datetime(2026, 8, 1, tzinfo=UTC) + timedelta(days=i) for i in range(10)]


def ev(day: int, price: str, *, seen: int | None = None, end: int | None = None) -> Event:
    return Event(
        D[day],
        D[day if seen is None else seen],
        {"input_usd_per_mtok": Decimal(price)},
        None if end is None else D[end],
        {"change_kind": "observed"},
    )


def spans(
    events: list[Event], withdrawals: Sequence[int] = ()
) -> list[tuple[int, int | None, str]]:
    out = walk(events, [D[w] for w in withdrawals])
    return [
        (
            D.index(i.valid_from),
            None if i.valid_to is None else D.index(i.valid_to),
            str(i.values["input_usd_per_mtok"]),
        )
        for i in out.islands
    ]


def test_a_contradicting_observation_splits_a_long_version_at_the_next_same_price_sighting() -> (
    None
):
    events = [ev(0, "1"), ev(2, "1"), ev(4, "1"), ev(3, "9")]
    assert spans(events) == [(0, 3, "1"), (3, 4, "9"), (4, None, "1")]


def test_the_result_is_the_same_for_every_order_of_the_events() -> None:
    events = [ev(0, "1"), ev(2, "1"), ev(4, "2"), ev(3, "9", end=5), ev(6, "2")]
    results = {tuple(spans(list(p), [7])) for p in itertools.permutations(events)}
    assert len(results) == 1


def test_a_late_withdrawal_closes_the_version_in_effect_and_a_later_sighting_reopens_it() -> None:
    events = [ev(0, "1"), ev(5, "1")]
    assert spans(events, [3]) == [(0, 3, "1"), (5, None, "1")]


def test_a_withdrawal_at_an_instant_the_offering_was_observed_does_nothing() -> None:
    assert spans([ev(0, "1"), ev(3, "1")], [3]) == [(0, None, "1")]


def test_a_stated_end_closes_at_that_end_and_one_already_past_is_skipped() -> None:
    assert spans([ev(0, "1", end=4)]) == [(0, 4, "1")]
    out = walk([Event(D[2], D[2], {"p": 1}, D[1], {}, mine=True)])
    assert (out.islands, out.skipped) == ([], 1)


def test_a_late_stated_end_on_the_same_price_ends_the_open_version() -> None:
    # Same price, different stated end: the island closes and a promotion opens.
    assert spans([ev(0, "1"), ev(2, "1", end=5)]) == [(0, 2, "1"), (2, 5, "1")]


def test_a_tie_at_one_instant_goes_to_the_latest_sighting_then_the_smallest_values() -> None:
    late_seen = Event(D[3], D[2], {"input_usd_per_mtok": Decimal("7")}, None, {})
    early_seen = Event(D[3], D[1], {"input_usd_per_mtok": Decimal("5")}, None, {})
    out = walk([early_seen, late_seen])
    assert [i.values["input_usd_per_mtok"] for i in out.islands] == [Decimal("7")]
    assert out.ties == 1
    same_seen = [ev(3, "8", seen=2), ev(3, "6", seen=2)]
    assert spans(same_seen) == spans(same_seen[::-1]) == [(3, None, "6")]


def _price(model: str, inp: str, at: datetime) -> LlmPrice:
    return LlmPrice(
        source="openrouter",
        provider="openrouter",
        provider_model_id=model,
        input_usd_per_mtok=Decimal(inp),
        output_usd_per_mtok=Decimal(inp),
        observed_at=at,
        source_url="https://openrouter.ai/api/v1/models",
    )


def test_superseded_versions_are_kept_but_never_read_as_current_or_believed_after(
    engine: Engine,
) -> None:
    def run(prices: list[LlmPrice], recorded_at: datetime) -> None:
        with engine.begin() as conn:
            ensure_source(conn, SourceRow("openrouter", "llm_price", listing_complete=True))
            ingest(conn, "openrouter", prices, listing_complete=False, recorded_at=recorded_at)

    r0, r1 = datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 9, 2, tzinfo=UTC)
    run([_price("a/x", "1", D[0]), _price("a/x", "2", D[4])], r0)
    run([_price("a/x", "9", D[2])], r1)  # arrives late, inside the closed [D0, D4)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT valid_from, valid_to, input_usd_per_mtok, superseded_at "
                "FROM llm_price_version_record ORDER BY recorded_at, valid_from"
            )
        ).all()
        assert rows[0] == (D[0], D[4], Decimal("1"), r1)  # kept, superseded when replaced
        now = read_at(conn, LLM, Listing(), D[3])[1]
        assert [r["input_usd_per_mtok"] for r in now] == [Decimal("9")]
        then = read_at(conn, LLM, Listing(), D[3], believed_at=r0 + timedelta(hours=1))[1]
        assert [r["input_usd_per_mtok"] for r in then] == [Decimal("1")]
        current = conn.execute(text("SELECT count(*) FROM llm_price_version")).scalar_one()
    assert current == 3
