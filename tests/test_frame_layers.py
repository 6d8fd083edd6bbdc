"""Layered version frames (db/frame_layers.py) on small hand-built frames: a delta
gives the rows a plain replacement gives, copies the settled layer only when it
removes some of its rows, and re-read rows equal to their settled row cost nothing."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import polars as pl
import pytest

from db import frame_layers
from db.frame_layers import FrameDelta, Layered

T = [datetime(2026, 1, d, tzinfo=UTC) for d in range(1, 29)]


def versions(ids: list[int], *, closed: set[int], price: float = 1.0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": ids,
            "offering_id": [i % 7 for i in ids],
            "price": [price + i for i in ids],
            "valid_from": [T[i % 20] for i in ids],
            "valid_to": [T[i % 20 + 1] if i in closed else None for i in ids],
        },
        schema_overrides={"valid_to": pl.Datetime("us", "UTC")},
    )


def delta(gone: list[int], rows: pl.DataFrame) -> FrameDelta:
    return FrameDelta(pl.Series("id", sorted(gone), dtype=pl.Int64), rows)


def rows_of(frame: pl.DataFrame) -> list[tuple[object, ...]]:
    return sorted(frame.rows())


def test_a_frame_is_layered_with_its_closed_versions_settled_in_id_order() -> None:
    frame = versions([5, 3, 9, 1, 7], closed={3, 9, 1})
    layers = Layered.of(frame)
    assert layers.settled["id"].to_list() == [1, 3, 9]
    assert layers.recent["id"].to_list() == [5, 7]
    assert rows_of(layers.frame) == rows_of(frame)
    assert layers.height == 5


def test_a_delta_of_open_versions_reuses_the_settled_layer_as_it_is() -> None:
    layers = Layered.of(versions(list(range(1, 11)), closed={1, 2, 3, 4, 5}))
    # Version 8 closes and 11 opens after it; 9 is re-read with a new price.
    changed = versions([8, 9, 11], closed={8}, price=2.0)
    after = layers.apply(delta([8, 9], changed))
    assert after.settled is layers.settled
    expected = delta([8, 9], changed).apply(layers.frame)
    assert rows_of(after.frame) == rows_of(expected)


def test_the_recent_layer_stays_one_chunk_across_many_deltas() -> None:
    layers = Layered.of(versions(list(range(1, 11)), closed={1, 2, 3, 4, 5}))
    for k in range(5):
        opened = 11 + k
        layers = layers.apply(
            delta([opened - 1], versions([opened - 1, opened], closed={opened - 1}))
        )
    assert layers.recent.n_chunks() == 1
    assert layers.recent["id"].n_chunks() == 1
    assert sorted(layers.frame["id"].to_list()) == list(range(1, 16))


def test_a_delta_that_replaces_a_settled_row_copies_that_layer() -> None:
    layers = Layered.of(versions(list(range(1, 11)), closed={1, 2, 3, 4, 5}))
    corrected = versions([2], closed={2}, price=9.0)
    after = layers.apply(delta([2, 6], corrected))  # 2 corrected, 6 removed
    assert after.settled is not layers.settled
    assert 2 not in after.settled["id"].to_list()
    assert rows_of(after.frame) == rows_of(delta([2, 6], corrected).apply(layers.frame))


def test_random_deltas_give_what_a_plain_replacement_gives() -> None:
    rng = random.Random(7)
    ids = list(range(1, 301))
    plain = versions(ids, closed={i for i in ids if rng.random() < 0.7})
    layers = Layered.of(plain)
    next_id = 301
    for _ in range(25):
        gone = rng.sample(sorted(plain["id"].to_list()), 12)
        reread = [i for i in gone if rng.random() < 0.6] + list(range(next_id, next_id + 5))
        next_id += 5
        rows = versions(reread, closed={i for i in reread if rng.random() < 0.5}, price=3.0)
        change = delta(gone, rows)
        plain, layers = change.apply(plain), layers.apply(change)
        assert rows_of(layers.frame) == rows_of(plain)
        assert layers.settled["id"].is_sorted()


def test_re_read_rows_equal_to_their_settled_row_leave_the_delta() -> None:
    layers = Layered.of(versions(list(range(1, 11)), closed={1, 2, 3, 4, 5}))
    same = versions([2, 4], closed={2, 4})  # re-read, unchanged (say, predecessors)
    moved = versions([3], closed=set())  # re-read: reopened, a real change
    opened = versions([11], closed=set())
    full = delta([2, 3, 4, 11], pl.concat([same, moved, opened]))
    reduced = full.without_unchanged(layers)
    assert reduced.gone_ids.to_list() == [3, 11]
    assert sorted(reduced.rows["id"].to_list()) == [3, 11]
    assert rows_of(layers.apply(reduced).frame) == rows_of(full.apply(layers.frame))


def test_a_delta_without_settled_rows_is_left_whole() -> None:
    layers = Layered.of(versions([1, 2, 3], closed={1}))
    change = delta([2], versions([2], closed=set(), price=5.0))
    assert change.without_unchanged(layers) is change


def test_null_values_compare_equal_when_a_settled_row_is_re_read() -> None:
    frame = versions([1, 2], closed={1, 2}).with_columns(
        price=pl.when(pl.col("id") == 1).then(None).otherwise(pl.col("price"))
    )
    layers = Layered.of(frame)
    change = delta([1], frame.filter(pl.col("id") == 1))
    assert change.without_unchanged(layers).empty


def test_derived_layers_hold_what_deriving_the_whole_frame_holds() -> None:
    layers = Layered.of(versions(list(range(1, 21)), closed=set(range(1, 21, 2))))

    def cheap_doubled(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("price") < 15).with_columns(doubled=pl.col("price") * 2)

    derived = layers.derive(cheap_doubled)
    assert rows_of(derived.frame) == rows_of(cheap_doubled(layers.frame))
    assert derived.settled["id"].is_sorted()
    change = delta([4, 5], versions([4, 21], closed=set(), price=0.5))
    carried = derived.apply(FrameDelta(change.gone_ids, cheap_doubled(change.rows)))
    assert rows_of(carried.frame) == rows_of(cheap_doubled(layers.apply(change).frame))


def test_the_recent_layer_needs_compaction_past_its_share_of_the_settled_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(frame_layers, "COMPACT_MIN_ROWS", 2)
    monkeypatch.setattr(frame_layers, "COMPACT_SHARE", 4)
    mostly_open = Layered.of(versions(list(range(1, 41)), closed=set(range(1, 9))))
    assert not mostly_open.needs_compaction  # 32 recent rows, but none added
    once = mostly_open.apply(delta([], versions([41, 42], closed={41})))
    assert not once.needs_compaction  # 2 rows added, 2 * 4 <= 8 settled
    grown = once.apply(delta([], versions([43], closed={43})))
    assert grown.needs_compaction  # 3 rows added, 3 * 4 > 8 settled
    compacted = Layered.of(grown.frame)
    assert not compacted.needs_compaction
    assert compacted.settled.height == 10
    assert rows_of(compacted.frame) == rows_of(grown.frame)


def test_layers_read_apart_are_the_layers_of_the_whole_frame() -> None:
    frame = versions([5, 3, 9, 1, 7], closed={3, 9, 1})
    closed, rest = (
        frame.filter(pl.col("valid_to").is_not_null()),
        frame.filter(pl.col("valid_to").is_null()),
    )
    layers = Layered.of_layers(closed, rest)
    whole = Layered.of(frame)
    assert layers.settled.equals(whole.settled)
    assert layers.recent.equals(whole.recent)
