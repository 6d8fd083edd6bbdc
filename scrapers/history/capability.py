"""Capability score datasets: Epoch AI's Benchmarking Hub and LMArena rating histories.

Pure parsers (bytes -> :class:`ScoreRecord`); name resolution and storage are in
``db.score_import``. Upstream files (``../shared/datasets/capability/README.md``):

- Epoch Hub (``benchmark_data.zip``): one CSV per benchmark plus
  ``epoch_capabilities_index.csv`` (the ECI). The score column of a file is the
  first column between ``Model version`` and ``Release date`` whose values are all
  numbers (``ECI Score``, ``mean_score``, ``EM``, ``Score OPT@1`` after a
  ``Scaffold`` column, ...). A model version listed more than once (several
  sources or shot counts) keeps its best score. Epoch publishes no per-row
  date; a Hub pull is dated by the newest release date in its ECI file, the
  ``as_of`` of every score in that pull (Epoch re-fits the ECI on each pull).
- LMArena, three long CSV layouts (recognised by their header): nakasyou's
  ``snapshot_date,model,elo``; arena-catalog's ``snapshot_date,...,style_control,
  model,rating,...``; fboulnois' ``snapshot_version,...,model,arena_score,...``.
  Each row is dated by its leaderboard snapshot. Style-controlled ratings are a
  different benchmark (``LMArena text (style control)``) from plain ones.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

from costcurve.core.observations import ParseError

EPOCH_SOURCE = "epoch-hub"
EPOCH_CITATION = (
    "Epoch AI, 'AI Benchmarking Hub'. Published online at epoch.ai. "
    "Retrieved from https://epoch.ai/benchmarks (CC BY 4.0)"
)
ECI = "ECI"
ECI_FILE = "epoch_capabilities_index.csv"
ARENA_CITATION = "LMArena text leaderboard (lmarena.ai), via {repo}"
ARENA_BENCHMARK = "LMArena text"
ARENA_STYLE_BENCHMARK = "LMArena text (style control)"
# Display names of the headline benchmarks; any other file is named by its stem.
EPOCH_BENCHMARK_NAMES = {
    "epoch_capabilities_index": ECI,
    "gpqa_diamond": "GPQA Diamond",
    "math_level_5": "MATH Level 5",
    "frontiermath": "FrontierMath",
    "frontiermath_tier_4": "FrontierMath Tier 4",
    "otis_mock_aime_2024_2025": "OTIS Mock AIME",
    "swe_bench_verified": "SWE-bench Verified",
    "simpleqa_verified": "SimpleQA Verified",
    "mmlu": "MMLU",
}
_MODEL, _RELEASED = "Model version", "Release date"


@dataclass(frozen=True)
class ScoreRecord:
    """One published score of one model name on one benchmark, dated."""

    source: str
    source_model_id: str
    benchmark: str
    score: Decimal
    as_of: date
    released_on: date | None
    citation: str


def _number(value: str | None) -> Decimal | None:
    text = (value or "").strip().rstrip("%").strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    return number if number.is_finite() else None


def _day(value: str | None, where: str) -> date | None:
    text = (value or "").strip()[:10]
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ParseError(where, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _rows(raw: bytes, name: str) -> tuple[list[str], list[dict[str, str]]]:
    try:
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ParseError(name, f"not a readable CSV ({exc})") from None
    return list(reader.fieldnames or []), rows


def epoch_benchmark_name(filename: str) -> str:
    stem = PurePath(filename).stem.removesuffix("_external")
    return EPOCH_BENCHMARK_NAMES.get(stem, stem)


def _score_column(columns: list[str], rows: list[dict[str, str]], name: str) -> str:
    if _MODEL not in columns or _RELEASED not in columns:
        raise ParseError(name, f"expected '{_MODEL}' and '{_RELEASED}' columns, got {columns}")
    for column in columns[columns.index(_MODEL) + 1 : columns.index(_RELEASED)]:
        try:
            values = [_number(r.get(column)) for r in rows]
        except ValueError:
            continue
        if any(v is not None for v in values):
            return column
    raise ParseError(name, f"no numeric score column before '{_RELEASED}'")


def parse_epoch_file(filename: str, raw: bytes, *, as_of: date) -> list[ScoreRecord]:
    """Scores of one Hub CSV; a model version's best score when it is listed twice."""
    columns, rows = _rows(raw, filename)
    column = _score_column(columns, rows, filename)
    benchmark = epoch_benchmark_name(filename)
    best: dict[str, ScoreRecord] = {}
    for line, row in enumerate(rows, start=2):
        model = (row.get(_MODEL) or "").strip()
        score = _number(row.get(column))
        if not model or score is None:
            continue
        record = ScoreRecord(
            EPOCH_SOURCE,
            model,
            benchmark,
            score,
            as_of,
            _day(row.get(_RELEASED), f"{filename} line {line}"),
            EPOCH_CITATION,
        )
        if model not in best or record.score > best[model].score:
            best[model] = record
    if not best:
        raise ParseError(filename, "no scored rows")
    return list(best.values())


def epoch_pull_date(eci_raw: bytes) -> date:
    """The date of a Hub pull: the newest release date in its ECI file."""
    _, rows = _rows(eci_raw, ECI_FILE)
    days = [d for i, r in enumerate(rows) if (d := _day(r.get(_RELEASED), f"{ECI_FILE} {i}"))]
    if not days:
        raise ParseError(ECI_FILE, "no release dates")
    return max(days)


@dataclass(frozen=True)
class _ArenaLayout:
    source: str
    repo: str
    date_column: str
    score_column: str


_ARENA_LAYOUTS = (
    _ArenaLayout("lmarena-catalog", "github.com/lmarena/arena-catalog", "snapshot_date", "rating"),
    _ArenaLayout(
        "lmarena-fboulnois",
        "github.com/fboulnois/llm-leaderboard-csv",
        "snapshot_version",
        "arena_score",
    ),
    _ArenaLayout("lmarena-nakasyou", "github.com/nakasyou/lmarena-history", "snapshot_date", "elo"),
)


def parse_arena(raw: bytes, name: str = "arena CSV") -> list[ScoreRecord]:
    """Every (snapshot, model) rating of an LMArena long CSV (layout from the header).

    A (snapshot, model, benchmark) listed twice (two files of one snapshot)
    keeps the later row, as the upstream history does.
    """
    columns, rows = _rows(raw, name)
    layout = next(
        (
            lay
            for lay in _ARENA_LAYOUTS
            if {"model", lay.date_column, lay.score_column} <= set(columns)
        ),
        None,
    )
    if layout is None:
        raise ParseError(
            name,
            f"not an LMArena long CSV (need model, a snapshot date and elo, rating "
            f"or arena_score); got {columns}",
        )
    citation = ARENA_CITATION.format(repo=layout.repo)
    records: dict[tuple[str, str, date], ScoreRecord] = {}
    for line, row in enumerate(rows, start=2):
        try:
            score = _number(row.get(layout.score_column))
        except ValueError:
            raise ParseError(name, f"line {line}: rating {row[layout.score_column]!r}") from None
        model = (row.get("model") or "").strip()
        day = _day(row.get(layout.date_column), f"{name} line {line}")
        if score is None or score == 0 or not model or day is None:
            continue  # nakasyou writes 0.0 for "not on the board"
        style = (row.get("style_control") or "").strip().lower() == "true"
        benchmark = ARENA_STYLE_BENCHMARK if style else ARENA_BENCHMARK
        records[(model, benchmark, day)] = ScoreRecord(
            layout.source, model, benchmark, score, day, None, citation
        )
    if not records:
        raise ParseError(name, "no ratings")
    return list(records.values())
