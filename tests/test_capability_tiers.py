"""Time-aware capability tiers on the shipped Epoch data, and the rule on hand-built frames."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl
import pytest
from sqlalchemy import Engine

from costcurve.analytics.tiers import best_by_date, tier_membership
from costcurve.config.tiers import TierRule
from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.score_import import load_shipped_scores
from db.scores import score_frame
from db.tier_inputs import catalog_frame
from tests.conftest import TEMPLATE
from tests.support import DATASETS, SHARED, require_shared

DATES = [date(2023, 6, 30), date(2024, 7, 31), date(2026, 3, 31)]


@pytest.fixture(scope="module")
def membership(pg: EmbeddedPostgres) -> pl.DataFrame:
    require_shared(DATASETS / "capability")
    pg.ensure_database("capability_tiers", template=TEMPLATE)
    engine: Engine = make_engine(pg.url("capability_tiers"))
    load_shipped_scores(engine, SHARED)
    frame = tier_membership(score_frame(engine, "ECI"), catalog_frame(), DATES, TierRule())
    engine.dispose()
    pg.drop_database("capability_tiers")
    return frame


def _tier(frame: pl.DataFrame, model: str, day: date) -> str | None:
    row = frame.filter(pl.col("model") == model, pl.col("as_of") == day)
    return row["tier"].item() if row.height else None


def test_gpt4_is_frontier_in_2023_and_not_in_2026(membership: pl.DataFrame) -> None:
    assert _tier(membership, "gpt-4", date(2023, 6, 30)) == "frontier"
    assert _tier(membership, "gpt-4", date(2026, 3, 31)) not in (None, "frontier", "strong")


@pytest.mark.parametrize("model", ["gpt-4o", "claude-3.5-sonnet"])
def test_gpt4o_and_claude35_sonnet_are_frontier_in_2024_07(
    membership: pl.DataFrame, model: str
) -> None:
    assert _tier(membership, model, date(2024, 7, 31)) == "frontier"


def test_safety_classifier_is_in_no_chat_tier(membership: pl.DataFrame) -> None:
    assert membership.filter(pl.col("model").str.starts_with("llama-guard")).is_empty()


def test_models_without_scores_keep_their_static_label_flagged(membership: pl.DataFrame) -> None:
    static = membership.filter(pl.col("tier_source") == "static_label")
    assert static.height > 0
    assert static["score"].null_count() == static.height
    scored = membership.filter(pl.col("tier_source") == "score")
    assert scored["score"].null_count() == 0


def _catalog(**overrides: list[object]) -> pl.DataFrame:
    base: dict[str, Sequence[object]] = {
        "model": ["top", "near", "mid", "low", "small-open", "big-open", "guard", "unscored"],
        "release_date": [date(2024, 1, 1)] * 8,
        "open_weights": [False, False, False, False, True, True, True, False],
        "total_params_b": [None, None, None, None, 32.0, 70.0, 8.0, None],
        "chat": [True] * 6 + [False, True],
        "static_tier": ["frontier"] * 4 + ["local", "strong", "local", "good"],
    }
    base.update(overrides)
    return pl.DataFrame(base)


def test_bands_are_distances_below_the_best_released_by_the_date() -> None:
    scores = pl.DataFrame(
        {
            "model": ["top", "near", "mid", "low", "small-open", "big-open", None],
            "score": [150.0, 148.0, 145.0, 130.0, 149.0, 149.5, 160.0],
            "released_on": [date(2024, 1, 1)] * 6 + [date(2025, 1, 1)],
        }
    )
    rule = TierRule(frontier_within=2.5, strong_within=6, good_within=12)
    frame = tier_membership(scores, _catalog(), [date(2024, 6, 1), date(2025, 6, 1)], rule)
    at = {(r["as_of"], r["model"]): r["tier"] for r in frame.iter_rows(named=True)}
    early, late = date(2024, 6, 1), date(2025, 6, 1)
    assert [at[(early, m)] for m in ("top", "near", "mid", "low")] == [
        "frontier",
        "frontier",
        "strong",
        "fast",
    ]
    # An unlisted model released later (score 160) moves everyone down a band or more.
    assert [at[(late, m)] for m in ("top", "near", "mid")] == ["good", "good", "fast"]
    # 32B at 4.5 bits + 4 GB fits 32 GB; 70B does not, so it is tiered by its score.
    assert at[(early, "small-open")] == "local"
    assert at[(early, "big-open")] == "frontier"
    assert (early, "guard") not in at
    assert at[(early, "unscored")] == "good"


def test_best_is_null_before_any_release() -> None:
    scores = pl.DataFrame({"model": ["a"], "score": [100.0], "released_on": [date(2024, 1, 1)]})
    best = best_by_date(scores, [date(2023, 1, 1), date(2024, 1, 1)])
    assert best["best"].to_list() == [None, 100.0]
