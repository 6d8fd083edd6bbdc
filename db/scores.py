"""Capability scores (MMLU, GPQA Diamond, Arena Elo, ...) and the Epoch-method input.

Scores arrive as CSV, long (``model,benchmark,score[,source]``) or wide
(``model`` plus one column per benchmark, as in the ``costcurve deflation``
CSV; its ``date``, ``usd_per_mtok`` and ``reasoning`` columns are ignored here).
Model names resolve through the catalog; an unknown model is an error, not a
silent drop.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import polars as pl
from sqlalchemy import Engine, text
from sqlalchemy.dialects.postgresql import insert

from costcurve.catalog import load_models, resolve_model
from costcurve.core.formulas import DEFAULT_BLEND, BlendRatio
from db.countable_sql import COUNTABLE_LLM_SQL
from db.models import ModelScore

_scores = ModelScore.__table__  # type: ignore[attr-defined]
_NOT_BENCHMARKS = {"model", "date", "usd_per_mtok", "reasoning", "source"}
INTRODUCTION_WINDOW_DAYS = 30
CSV_SOURCE = "csv"


class ScoreImportError(ValueError):
    pass


@dataclass
class ScoreRow:
    model_slug: str
    benchmark: str
    score: Decimal
    source: str | None
    source_model_id: str = ""


def _slug(name: str) -> str | None:
    name = name.strip()
    return name if name in load_models() else resolve_model("*", name)


def parse_scores_csv(raw: str) -> list[ScoreRow]:
    reader = csv.DictReader(io.StringIO(raw))
    columns = reader.fieldnames or []
    if "model" not in columns:
        raise ScoreImportError(f"the CSV needs a 'model' column; found: {', '.join(columns)}")
    long = {"benchmark", "score"} <= set(columns)
    rows, unknown = [], []
    for line, record in enumerate(reader, start=2):
        slug = _slug(record["model"] or "")
        if slug is None:
            unknown.append(f"line {line}: {record['model']!r}")
            continue
        pairs = (
            [(record["benchmark"], record["score"])]
            if long
            else [(c, record[c]) for c in columns if c not in _NOT_BENCHMARKS]
        )
        for benchmark, value in pairs:
            if value is None or not value.strip():
                continue
            try:
                score = Decimal(value.strip().rstrip("%"))
            except InvalidOperation:
                raise ScoreImportError(
                    f"line {line}: score {value!r} for {benchmark} is not a number"
                ) from None
            rows.append(
                ScoreRow(
                    slug,
                    benchmark.strip(),
                    score,
                    record.get("source") or None,
                    (record["model"] or "").strip(),
                )
            )
    if unknown:
        raise ScoreImportError(
            "models not in the catalog (add them to catalog/models.yaml or fix the name): "
            + "; ".join(unknown)
        )
    if not rows:
        raise ScoreImportError("no scores found in the CSV")
    return rows


def import_scores(engine: Engine, rows: list[ScoreRow]) -> int:
    """Upsert hand-curated scores, dated today; re-importing the same day replaces them."""
    now = datetime.now(UTC)
    values = [
        {
            "model_slug": r.model_slug,
            "source_model_id": r.source_model_id or r.model_slug,
            "benchmark": r.benchmark,
            "score": r.score,
            "source": r.source or CSV_SOURCE,
            "as_of": now.date(),
            "imported_at": now,
        }
        for r in rows
    ]
    stmt = insert(_scores).values(values)
    stmt = stmt.on_conflict_do_update(
        constraint="uq_model_score_version",
        set_={
            "score": stmt.excluded.score,
            "model_slug": stmt.excluded.model_slug,
            "imported_at": stmt.excluded.imported_at,
        },
    )
    with engine.begin() as conn:
        conn.execute(stmt)
    return len(values)


def _intro_price_sql(ratio: BlendRatio) -> str:
    blended = ratio.sql("v.input_usd_per_mtok", "v.output_usd_per_mtok")
    return f"""
    WITH priced AS (
        SELECT COALESCE(v.model_slug, o.model_slug) AS model_slug, v.valid_from,
               {blended} AS blended
        FROM llm_price_version v JOIN llm_offering o ON o.id = v.offering_id
        WHERE COALESCE(v.model_slug, o.model_slug) IS NOT NULL AND {COUNTABLE_LLM_SQL}
          AND NOT v.free AND v.change_kind <> 'correction'
          AND v.input_usd_per_mtok > 0 AND v.output_usd_per_mtok > 0
    ), first AS (SELECT model_slug, min(valid_from) AS first_at FROM priced GROUP BY 1)
    SELECT p.model_slug, min(p.blended) AS usd_per_mtok
    FROM priced p JOIN first f USING (model_slug)
    WHERE p.valid_from < f.first_at + interval '{INTRODUCTION_WINDOW_DAYS} days'
    GROUP BY 1
"""


# Each model's current score per benchmark: from each source's newest dated
# value, the best over the names that resolve to the model (Epoch lists one
# model per reasoning-effort setting; the model's capability is its best one).
_LATEST_SCORES_SQL = """
    WITH latest AS (
        SELECT DISTINCT ON (source, source_model_id, benchmark)
               model_slug, benchmark, score, source
        FROM model_score WHERE model_slug IS NOT NULL
        ORDER BY source, source_model_id, benchmark, as_of DESC
    )
    SELECT model_slug, benchmark, max(score) FROM latest GROUP BY 1, 2
"""


def epoch_frame(engine: Engine, ratio: BlendRatio = DEFAULT_BLEND) -> pl.DataFrame:
    """One row per scored model: model, date (release), usd_per_mtok, reasoning, benchmarks.

    The price is the model's price at introduction: the lowest ``ratio``-blended price
    among the versions recorded in the first 30 days of its price history (a
    later price cut belongs to the trend being measured, not to the model).
    """
    models = load_models()
    with engine.connect() as conn:
        intro = text(_intro_price_sql(ratio))
        prices: dict[str, Decimal] = dict(conn.execute(intro).tuples().all())
        scores = conn.execute(text(_LATEST_SCORES_SQL)).all()
    by_model: dict[str, dict[str, object]] = {}
    for slug, benchmark, score in scores:
        if slug not in models:
            continue
        row = by_model.setdefault(
            slug,
            {
                "model": slug,
                "date": models[slug].release_date,
                "usd_per_mtok": prices.get(slug),
                "reasoning": models[slug].reasoning,
            },
        )
        row[benchmark] = float(score)
    if not by_model:
        return pl.DataFrame(
            schema={
                "model": pl.String,
                "date": pl.Date,
                "usd_per_mtok": pl.Float64,
                "reasoning": pl.Boolean,
            }
        )
    frame = pl.DataFrame(list(by_model.values()), infer_schema_length=None)
    return frame.with_columns(pl.col("usd_per_mtok").cast(pl.Float64))


SCORE_FRAME_SCHEMA = {
    "model": pl.String,
    "source_model_id": pl.String,
    "source": pl.String,
    "benchmark": pl.String,
    "score": pl.Float64,
    "released_on": pl.Date,
}


def score_frame(engine: Engine, benchmark: str) -> pl.DataFrame:
    """Newest score of every stored name on ``benchmark``, resolved or not (analytics.tiers).

    Unresolved names count too: the best model available at a date is the best
    in the world, not the best in our catalog. ``released_on`` is the source's
    release date, or the catalog's for a resolved model without one.
    """
    models = load_models()
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT DISTINCT ON (source, source_model_id) model_slug, source_model_id, "
                "source, benchmark, score, released_on FROM model_score WHERE benchmark = :b "
                "ORDER BY source, source_model_id, as_of DESC"
            ),
            {"b": benchmark},
        ).all()
    data = [
        (
            slug,
            name,
            source,
            bench,
            float(score),
            released or (models[slug].release_date if slug in models else None),
        )
        for slug, name, source, bench, score, released in rows
    ]
    return pl.DataFrame(data, schema=SCORE_FRAME_SCHEMA, orient="row")


def benchmark_names(engine: Engine) -> list[str]:
    """The benchmarks with imported scores."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT DISTINCT benchmark FROM model_score ORDER BY 1"))
        return [str(name) for (name,) in rows]
