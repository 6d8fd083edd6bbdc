"""Serving-benchmark points in ``benchmark_result`` (costs: db/selfhost_costs.py).

Storage. A point is immutable; its ``content_sha256`` hashes a canonical JSON
of what identifies the measurement (the setup and the raw result JSON, see
:func:`content_sha256`), so importing a file twice, or a flow retrying a
store, inserts nothing new (``ON CONFLICT DO NOTHING``). Every store is a
``pipeline_run`` of source ``benchmarks``. Columns hold what is queried; the
``raw`` JSONB holds ``{"result": <the raw result JSON>, "point": <every
BenchmarkPoint field but raw>, "run_id": N}`` so a point can be rebuilt whole
(:func:`load_points`). ``concurrency`` is NOT NULL in the table: a run without
a concurrency cap (vLLM ``--max-concurrency`` unset) stores ``num_prompts``
there, the most requests it can have had in flight, and ``raw.point.concurrency``
keeps the null.

"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from costcurve.catalog.models import resolve_model
from costcurve.core.benchmark_point import BenchmarkPoint
from costcurve.core.representativeness import classify_points
from db.models import BenchmarkResult, GpuOffering, GpuRateVersion
from db.pipeline import RunSpec, SourceRow, recorded_run

SOURCE_SLUG = "benchmarks"
_LATENCY_COLUMNS = (
    "median_ttft_ms",
    "p99_ttft_ms",
    "median_tpot_ms",
    "p99_tpot_ms",
    "median_itl_ms",
    "median_e2el_ms",
)
# What identifies a measurement; derived fields follow from these and the raw result.
_IDENTITY_FIELDS = (
    "model_id",
    "engine",
    "backend",
    "engine_version",
    "gpu",
    "gpu_count",
    "tensor_parallel_size",
    "driver_version",
    "input_len",
    "output_len",
    "range_ratio",
    "concurrency",
    "num_prompts",
    "dummy_weights",
    "synthetic",
    "started_at",
)

_b = BenchmarkResult.__table__  # type: ignore[attr-defined]
_o = GpuOffering.__table__  # type: ignore[attr-defined]
_v = GpuRateVersion.__table__  # type: ignore[attr-defined]


@dataclass
class StoreResult:
    run_id: int
    inserted: int = 0
    duplicates: int = 0
    # benchmark_result ids in the order of the points given (existing rows for duplicates).
    ids: list[int] = field(default_factory=list)

    def run_counts(self, observations: int) -> dict[str, object]:
        """The ``pipeline_run`` columns of a benchmark import."""
        return {
            "observations": observations,
            "new_versions": self.inserted,
            "unchanged": self.duplicates,
        }


def content_sha256(point: BenchmarkPoint) -> str:
    doc = point.model_dump(mode="json", include=set(_IDENTITY_FIELDS))
    doc["raw"] = point.raw
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _dec(value: float | None) -> Decimal | None:
    # A float measurement enters NUMERIC via its shortest repr: no binary noise.
    return None if value is None else Decimal(repr(value))


def _row(point: BenchmarkPoint, *, sha: str, model_slug: str | None, run_id: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    row: dict[str, Any] = {
        "content_sha256": sha,
        "model_id": point.model_id,
        "model_slug": model_slug or resolve_model("", point.model_id),
        "engine": point.engine,
        "engine_version": point.engine_version,
        "gpu": point.gpu,
        "gpu_count": point.gpu_count,
        "tensor_parallel_size": point.tensor_parallel_size,
        "pipeline_parallel_size": point.pipeline_parallel_size,
        "driver_version": point.driver_version,
        "input_len": point.input_len,
        "output_len": point.output_len,
        "concurrency": point.concurrency if point.concurrency is not None else point.num_prompts,
        "num_prompts": point.num_prompts,
        "output_throughput": _dec(point.output_throughput),
        "total_token_throughput": _dec(point.total_token_throughput),
        "request_throughput": _dec(point.request_throughput),
        "duration_s": _dec(point.duration),
        "completed": point.completed,
        "dummy_weights": point.dummy_weights,
        "synthetic": point.synthetic,
        "started_at": point.started_at,
        "recorded_at": now,
        "raw": {
            "result": point.raw,
            "point": point.model_dump(mode="json", exclude={"raw"}),
            "run_id": run_id,
        },
    }
    for name in _LATENCY_COLUMNS:
        row[name] = _dec(getattr(point, name))
    return row


def store_points(
    engine: Engine,
    points: Sequence[BenchmarkPoint],
    *,
    model_slug: str | None = None,
    trigger: str = "cli",
    flow_run_id: uuid.UUID | None = None,
) -> StoreResult:
    """Insert points (all or none) as one pipeline run; a point already stored is a no-op.

    ``model_slug`` is the canonical model for every point; when None it is
    resolved from the catalog per point's ``model_id`` (null when unknown).
    """
    observed = min((p.started_at for p in points), default=None)
    spec = RunSpec(trigger, flow_run_id, observed)
    with recorded_run(engine, SourceRow(SOURCE_SLUG, "benchmark"), spec) as run:

        def work(conn: Connection) -> StoreResult:
            result = StoreResult(run.run_id)
            for point in points:
                _store_point(conn, point, model_slug, result)
            # The verdict is the sweep's: classify every stored point of the setups touched.
            classify_stored(conn, {(p.model_id, p.gpu) for p in points})
            return result

        return run.commit(work, lambda r: r.run_counts(len(points)))


def _store_point(
    conn: Connection, point: BenchmarkPoint, model_slug: str | None, result: StoreResult
) -> None:
    """Insert one point unless its content is stored already (then count a duplicate)."""
    sha = content_sha256(point)
    stmt = insert(_b).values(_row(point, sha=sha, model_slug=model_slug, run_id=result.run_id))
    new_id = conn.execute(
        stmt.on_conflict_do_nothing(index_elements=["content_sha256"]).returning(_b.c.id)
    ).scalar_one_or_none()
    if new_id is None:
        new_id = conn.execute(select(_b.c.id).where(_b.c.content_sha256 == sha)).scalar_one()
        result.duplicates += 1
    else:
        result.inserted += 1
    result.ids.append(int(new_id))


def classify_stored(conn: Connection, setups: set[tuple[str, str]]) -> int:
    """Set the representativeness verdict of every stored point of these (model_id, gpu).

    The verdict belongs to a sweep, which can grow with each import, so all
    points of the setups touched are classified again. Returns rows updated.
    """
    updated = 0
    for model_id, gpu in sorted(setups):
        rows = conn.execute(
            select(_b.c.id, _b.c.raw).where(_b.c.model_id == model_id, _b.c.gpu == gpu)
        ).all()
        points = [BenchmarkPoint(**raw["point"], raw=raw["result"]) for _, raw in rows]
        for (row_id, _), verdict in zip(rows, classify_points(points), strict=True):
            conn.execute(
                update(_b)
                .where(_b.c.id == row_id)
                .values(verdict=verdict.verdict, verdict_reason=verdict.reason)
            )
            updated += 1
    return updated


def classify_all(conn: Connection) -> int:
    """Classify every stored point again (after a rule change or migration 0008)."""
    setups = conn.execute(select(_b.c.model_id, _b.c.gpu).distinct()).all()
    return classify_stored(conn, {(m, g) for m, g in setups})


def stored_verdicts(engine: Engine, ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
    """benchmark_result id -> (verdict, reason) as stored."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(_b.c.id, _b.c.verdict, _b.c.verdict_reason).where(_b.c.id.in_(list(ids)))
        ).all()
    return {int(r.id): (r.verdict, r.verdict_reason) for r in rows}


def _filters(include_synthetic: bool, model: str | None, gpu: str | None) -> list[Any]:
    where: list[Any] = []
    if not include_synthetic:
        where.append(_b.c.synthetic.is_(False))
    if model is not None:
        where.append(or_(_b.c.model_slug == model, _b.c.model_id == model))
    if gpu is not None:
        where.append(_b.c.gpu == gpu)
    return where


def load_points(
    conn: Connection,
    *,
    include_synthetic: bool = False,
    model: str | None = None,
    gpu: str | None = None,
) -> list[BenchmarkPoint]:
    """Stored points rebuilt whole from ``raw`` (ordered as :func:`self_hosted_costs`)."""
    query = select(_b.c.raw).where(*_filters(include_synthetic, model, gpu)).order_by(*_ORDER)
    return [BenchmarkPoint(**raw["point"], raw=raw["result"]) for (raw,) in conn.execute(query)]


_ORDER = (
    _b.c.model_id,
    _b.c.gpu,
    _b.c.gpu_count,
    _b.c.input_len,
    _b.c.output_len,
    _b.c.concurrency,
    _b.c.started_at,
    _b.c.id,
)
