"""Store dated capability scores (Epoch Hub, LMArena) with their names resolved.

Every published score is kept, resolved or not: ``model_slug`` is null for a
name the catalog does not know, so ``costcurve models unresolved --scores``
can list it, and :func:`reresolve_scores` (run by every load) applies a
catalog alias added later to the names already stored. A file is recorded by sha256 in
``score_dataset``; loading the same bytes again does nothing, which is what
makes loading the shipped datasets on every ``costcurve up`` cheap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.dialects.postgresql import insert

from costcurve.catalog.score_names import resolve_score_model
from db.models import ScoreDataset
from scrapers.history.capability import (
    ECI_FILE,
    ScoreRecord,
    epoch_pull_date,
    parse_arena,
    parse_epoch_file,
)

_datasets = ScoreDataset.__table__  # type: ignore[attr-defined]
# The shipped datasets, relative to the shared folder (../shared/datasets/capability).
CAPABILITY_DIR = Path("datasets/capability")
EPOCH_DIR = "epoch-hub"
ARENA_FILES = (
    "lmarena-nakasyou/result_long.csv",
    "lmarena-catalog/arena_catalog_full_history_long.csv",
    "lmarena-fboulnois/lmarena_history_long.csv",
)


@dataclass
class ImportReport:
    """What an import did, and how well names matched the catalog."""

    files: int = 0
    skipped_files: int = 0
    rows: int = 0
    resolved_rows: int = 0
    names: int = 0
    resolved_names: int = 0

    @property
    def match_rate(self) -> float:
        return self.resolved_rows / self.rows if self.rows else 0.0

    def add(self, other: ImportReport) -> None:
        for name in ("files", "skipped_files", "rows", "resolved_rows", "names", "resolved_names"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def summary(self) -> str:
        return (
            f"{self.rows} score rows from {self.files} files ({self.skipped_files} already "
            f"loaded); {self.resolved_rows}/{self.rows} rows ({self.match_rate:.1%}) and "
            f"{self.resolved_names}/{self.names} names matched to catalog models"
        )


_COLUMNS = (
    "model_slug",
    "source_model_id",
    "benchmark",
    "score",
    "source",
    "as_of",
    "released_on",
    "citation",
    "imported_at",
)


def _upsert(conn: Connection, values: list[dict[str, Any]]) -> None:
    """COPY into a temporary table, then one set-based upsert (tens of thousands of rows)."""
    cols = ", ".join(_COLUMNS)
    conn.execute(
        text(
            "CREATE TEMP TABLE score_in (model_slug text, source_model_id text, benchmark text, "
            "score numeric, source text, as_of date, released_on date, citation text, "
            "imported_at timestamptz) ON COMMIT DROP"
        )
    )
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY score_in ({cols}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(tuple(row[c] for c in _COLUMNS))
    conn.execute(
        text(
            f"INSERT INTO model_score ({cols}) SELECT {cols} FROM score_in "
            "ON CONFLICT ON CONSTRAINT uq_model_score_version DO UPDATE SET "
            "score = EXCLUDED.score, model_slug = EXCLUDED.model_slug, "
            "released_on = EXCLUDED.released_on, citation = EXCLUDED.citation"
        )
    )


def _store(engine: Engine, records: list[ScoreRecord], path: str, digest: str) -> ImportReport:
    now = datetime.now(UTC)
    slugs = {r.source_model_id: resolve_score_model(r.source, r.source_model_id) for r in records}
    values = [
        {
            "model_slug": slugs[r.source_model_id],
            "source_model_id": r.source_model_id,
            "benchmark": r.benchmark,
            "score": r.score,
            "source": r.source,
            "as_of": r.as_of,
            "released_on": r.released_on,
            "citation": r.citation,
            "imported_at": now,
        }
        for r in records
    ]
    with engine.begin() as conn:
        _upsert(conn, values)
        conn.execute(
            insert(_datasets)
            .values(
                sha256=digest, source=records[0].source, path=path, rows=len(values), loaded_at=now
            )
            .on_conflict_do_nothing()
        )
    return ImportReport(
        files=1,
        rows=len(values),
        resolved_rows=sum(1 for v in values if v["model_slug"]),
        names=len(slugs),
        resolved_names=sum(1 for s in slugs.values() if s),
    )


def _loaded(engine: Engine, digest: str) -> bool:
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM score_dataset WHERE sha256 = :d"), {"d": digest}
        ).first()
    return found is not None


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def import_epoch_dir(engine: Engine, folder: Path) -> ImportReport:
    """Import a Hub extract: the ECI file and every per-benchmark CSV, as one dated pull."""
    eci = folder / ECI_FILE
    if not eci.is_file():
        raise FileNotFoundError(f"{folder} has no {ECI_FILE} (expected the Hub's CSV layout)")
    files = sorted(p for p in folder.glob("*.csv") if p.is_file())
    raws = {p.name: p.read_bytes() for p in files}
    digest = _digest(*(n.encode() + raws[n] for n in sorted(raws)))
    if _loaded(engine, digest):
        return ImportReport(skipped_files=len(files))
    as_of = epoch_pull_date(raws[ECI_FILE])
    records = [r for name, raw in raws.items() for r in parse_epoch_file(name, raw, as_of=as_of)]
    report = _store(engine, records, str(folder), digest)
    report.files = len(files)
    return report


def import_arena_file(engine: Engine, path: Path) -> ImportReport:
    raw = path.read_bytes()
    digest = _digest(raw)
    if _loaded(engine, digest):
        return ImportReport(skipped_files=1)
    return _store(engine, parse_arena(raw, path.name), str(path), digest)


def reresolve_scores(engine: Engine) -> int:
    """Resolve every stored name again against the current catalog; rows changed."""
    with engine.begin() as conn:
        names = conn.execute(
            text("SELECT DISTINCT source, source_model_id, model_slug FROM model_score")
        ).all()
        changed = [
            {"source": src, "name": name, "slug": slug}
            for src, name, old in names
            if (slug := resolve_score_model(src, name)) != old
        ]
        if changed:
            conn.execute(
                text(
                    "UPDATE model_score SET model_slug = :slug "
                    "WHERE source = :source AND source_model_id = :name"
                ),
                changed,
            )
    return len(changed)


def load_shipped_scores(engine: Engine, shared_dir: Path) -> ImportReport | None:
    """Import the capability datasets under ``shared_dir`` (None when absent); idempotent."""
    root = shared_dir / CAPABILITY_DIR
    if not root.is_dir():
        return None
    reresolve_scores(engine)
    report = ImportReport()
    if (root / EPOCH_DIR / ECI_FILE).is_file():
        report.add(import_epoch_dir(engine, root / EPOCH_DIR))
    for name in ARENA_FILES:
        if (root / name).is_file():
            report.add(import_arena_file(engine, root / name))
    return report


def unresolved_score_names(
    engine: Engine, sources: Iterable[str] | None = None
) -> list[tuple[Any, ...]]:
    """(source, name, rows, first as_of, last as_of) of stored names with no catalog model."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT source, source_model_id, count(*), min(as_of), max(as_of) "
                "FROM model_score WHERE model_slug IS NULL "
                "AND (CAST(:sources AS text[]) IS NULL OR source = ANY(:sources)) "
                "GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2"
            ),
            {"sources": list(sources) if sources is not None else None},
        ).all()
    return [tuple(r) for r in rows]


def match_rates(engine: Engine) -> list[dict[str, object]]:
    """Per source: stored score rows and the share resolved to a catalog model."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT source, count(*), count(model_slug), count(DISTINCT source_model_id), "
                "count(DISTINCT source_model_id) FILTER (WHERE model_slug IS NOT NULL) "
                "FROM model_score GROUP BY 1 ORDER BY 1"
            )
        ).all()
    return [
        {
            "source": s,
            "rows": n,
            "resolved_rows": r,
            "match_rate": r / n if n else 0.0,
            "names": names,
            "resolved_names": rnames,
        }
        for s, n, r, names, rnames in rows
    ]
