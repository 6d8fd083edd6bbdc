"""Importing the shipped capability datasets (Epoch Hub, LMArena) into real PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.score_import import (
    ARENA_FILES,
    EPOCH_DIR,
    load_shipped_scores,
    match_rates,
    unresolved_score_names,
)
from scrapers.history.capability import ECI_FILE, epoch_benchmark_name
from tests.conftest import TEMPLATE
from tests.support import DATASETS, SHARED, require_shared

CAPABILITY = DATASETS / "capability"


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _number(value: str | None) -> float | None:
    try:
        return float((value or "").strip().rstrip("%"))
    except ValueError:
        return None


@pytest.fixture(scope="module")
def loaded(pg: EmbeddedPostgres) -> Iterator[Engine]:
    require_shared(CAPABILITY)
    pg.ensure_database("capability_import", template=TEMPLATE)
    engine = make_engine(pg.url("capability_import"))
    load_shipped_scores(engine, SHARED)
    yield engine
    engine.dispose()
    pg.drop_database("capability_import")


def _count(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def test_eci_import_keeps_one_row_per_scored_model_version(loaded: Engine) -> None:
    rows = _csv(CAPABILITY / EPOCH_DIR / ECI_FILE)
    expected = {r["Model version"].strip() for r in rows if _number(r["ECI Score"]) is not None}
    stored = _count(loaded, "SELECT count(*) FROM model_score WHERE benchmark = 'ECI'")
    assert stored == len(expected)


def test_each_epoch_benchmark_file_stores_its_distinct_scored_model_versions(
    loaded: Engine,
) -> None:
    for path in sorted((CAPABILITY / EPOCH_DIR).glob("*.csv")):
        rows = _csv(path)
        columns = list(rows[0])
        score_cols = columns[1 : columns.index("Release date")]
        # The score column is the first one whose values are all numbers (as documented).
        column = next(
            c
            for c in score_cols
            if all(_number(r[c]) is not None for r in rows if (r[c] or "").strip())
            and any((r[c] or "").strip() for r in rows)
        )
        expected = {
            r["Model version"].strip()
            for r in rows
            if r["Model version"].strip() and _number(r[column]) is not None
        }
        stored = _count(
            loaded,
            "SELECT count(*) FROM model_score WHERE source = 'epoch-hub' AND benchmark = :b",
            b=epoch_benchmark_name(path.name),
        )
        assert stored == len(expected), path.name


@pytest.mark.parametrize("name", ARENA_FILES)
def test_arena_file_stores_one_row_per_snapshot_model_and_style(loaded: Engine, name: str) -> None:
    rows = _csv(CAPABILITY / name)
    date_col = "snapshot_version" if "snapshot_version" in rows[0] else "snapshot_date"
    score_col = next(c for c in ("rating", "arena_score", "elo") if c in rows[0])
    expected = {
        (r[date_col], r["model"].strip(), r.get("style_control", "False"))
        for r in rows
        if (_number(r[score_col]) or 0) != 0
    }
    source = name.split("/")[0]
    assert _count(loaded, "SELECT count(*) FROM model_score WHERE source = :s", s=source) == len(
        expected
    )


def test_loading_the_shipped_datasets_again_changes_nothing(loaded: Engine) -> None:
    before = _count(loaded, "SELECT count(*) FROM model_score")
    report = load_shipped_scores(loaded, SHARED)
    assert report is not None
    assert report.rows == 0
    assert report.skipped_files > 0
    assert _count(loaded, "SELECT count(*) FROM model_score") == before


def test_effort_suffixes_and_display_names_resolve_to_catalog_models(loaded: Engine) -> None:
    with loaded.connect() as conn:
        slugs = dict(
            conn.execute(
                text(
                    "SELECT DISTINCT source_model_id, model_slug FROM model_score "
                    "WHERE source_model_id IN ('o3-mini-2025-01-31_high', "
                    "'claude-3-5-sonnet-20240620', 'Claude 3.5 Sonnet (20241022)', 'gpt-4-0314')"
                )
            )
            .tuples()
            .all()
        )
    assert slugs["o3-mini-2025-01-31_high"] == "o3-mini"
    assert slugs["claude-3-5-sonnet-20240620"] == "claude-3.5-sonnet"
    assert slugs["gpt-4-0314"] == "gpt-4"
    if "Claude 3.5 Sonnet (20241022)" in slugs:
        assert slugs["Claude 3.5 Sonnet (20241022)"] == "claude-3.5-sonnet"


def test_match_rate_and_unresolved_names_account_for_every_row(loaded: Engine) -> None:
    rates = {r["source"]: r for r in match_rates(loaded)}
    assert set(rates) >= {"epoch-hub", "lmarena-nakasyou"}
    unresolved = unresolved_score_names(loaded)
    for source, rate in rates.items():
        missing = sum(n for s, _, n, _, _ in unresolved if s == source)
        rows, resolved, match_rate = rate["rows"], rate["resolved_rows"], rate["match_rate"]
        assert isinstance(rows, int)
        assert isinstance(resolved, int)
        assert isinstance(match_rate, float)
        assert rows - resolved == missing
        assert 0 < match_rate < 1


def test_cli_imports_report_counts_and_list_unresolved_names(db_url: str) -> None:
    from tests.test_cli_foundation import cli

    require_shared(CAPABILITY)
    arena = CAPABILITY / "lmarena-nakasyou" / "result_long.csv"
    rows = [r for r in _csv(arena) if (_number(r["elo"]) or 0) != 0]
    first = cli("scores", "import-arena", str(arena), db_url=db_url)
    assert first.returncode == 0, first.stderr
    assert f"{len(rows)} score rows from 1 files" in first.stdout
    again = cli("scores", "import-arena", str(arena), db_url=db_url)
    assert "0 score rows from 0 files (1 already loaded)" in again.stdout

    epoch = cli("scores", "import-epoch", str(CAPABILITY / EPOCH_DIR), db_url=db_url)
    assert epoch.returncode == 0, epoch.stderr
    files = len(list((CAPABILITY / EPOCH_DIR).glob("*.csv")))
    assert f"from {files} files" in epoch.stdout

    listed = cli("models", "unresolved", "--scores", "--source", "lmarena-nakasyou", db_url=db_url)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.strip().splitlines()
    names = {r["model"] for r in rows}
    assert lines
    assert all(line.split("\t")[1] in names for line in lines)
    assert f"{len(lines)} unresolved" in listed.stderr
    assert "matched" in listed.stderr

    missing = cli("scores", "import-epoch", str(arena.parent), db_url=db_url)
    assert missing.returncode == 2
    assert "epoch_capabilities_index.csv" in missing.stderr


def test_up_loads_the_shipped_scores_and_a_restart_loads_nothing_new(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from costcurve.cli.commands import up
    from costcurve.config import Settings

    require_shared(CAPABILITY)
    monkeypatch.setattr(up, "settings_or_exit", lambda: Settings(shared_dir=SHARED))
    up._load_scores(engine)
    first = capsys.readouterr().out
    assert "capability scores:" in first
    assert "(0 already loaded)" in first
    total = _count(engine, "SELECT count(*) FROM model_score")
    up._load_scores(engine)
    assert "0 score rows" in capsys.readouterr().out
    assert _count(engine, "SELECT count(*) FROM model_score") == total

    monkeypatch.setattr(up, "settings_or_exit", lambda: Settings(shared_dir=SHARED / "nowhere"))
    up._load_scores(engine)
    assert "absent, none loaded" in capsys.readouterr().out
