"""Stored benchmark sweeps with their verdicts, and GPU-hour rates to price them.

A sweep is the stored points of one setup (costcurve.core.representativeness.
sweep_key) over concurrency levels; :func:`load_sweeps` groups them and carries
the verdict stored with them. :func:`cheapest_rate` is the rental rate a
headline or a break-even prices with: the cheapest usable offering
(db.selfhost_costs.USABLE_RATE_SQL) of the GPU and pricing in effect at an
instant, with its source and dates so a response can say which rate it used.

Rate bases beyond the stored rental rates plug in through :data:`RATE_LOOKUPS`
(issue 17's GPU price index registers ``"index"`` there); a basis without a
lookup is reported as unavailable, never priced with something else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from costcurve.core.benchmark_point import BenchmarkPoint
from costcurve.core.representativeness import effective_concurrency, sweep_key
from db.benchmarks import _ORDER, _b, _filters
from db.selfhost_costs import USABLE_RATE_SQL

RENTAL_PRICINGS = ("on_demand", "spot", "community")
RateLookup = Callable[[Connection, str, datetime], dict[str, Any] | None]


def cheapest_rate(conn: Connection, gpu: str, pricing: str, at: datetime) -> dict[str, Any] | None:
    """The cheapest usable ``pricing`` rate of ``gpu`` in effect at ``at`` (None: none)."""
    sql = f"""
        SELECT o.source, o.provider, o.region, o.instance_type, o.gpu_count,
               o.id AS offering_id, v.id AS version_id, v.usd_per_gpu_hour,
               v.valid_from, v.valid_to
        FROM gpu_rate_version v JOIN gpu_offering o ON o.id = v.offering_id
        WHERE o.gpu = :gpu AND o.pricing = :pricing AND {USABLE_RATE_SQL}
          AND v.valid_from <= :at AND (v.valid_to IS NULL OR v.valid_to > :at)
        ORDER BY v.usd_per_gpu_hour, o.gpu_count, o.provider, o.id LIMIT 1
    """
    params = {"gpu": gpu, "pricing": pricing, "at": at}
    row = conn.execute(text(sql), params).mappings().first()
    return dict(row) if row else None


def _rental(pricing: str) -> RateLookup:
    def lookup(conn: Connection, gpu: str, at: datetime) -> dict[str, Any] | None:
        return cheapest_rate(conn, gpu, pricing, at)

    return lookup


# basis -> lookup; "index" is left for the GPU price index (issue 17) to register.
RATE_LOOKUPS: dict[str, RateLookup] = {p: _rental(p) for p in RENTAL_PRICINGS}


@dataclass
class StoredSweep:
    key: tuple[Any, ...]
    first: BenchmarkPoint
    verdict: str
    verdict_reason: str | None
    ids: list[int] = field(default_factory=list)
    points: list[BenchmarkPoint] = field(default_factory=list)

    @property
    def representative(self) -> bool:
        return self.verdict == "representative"

    def setup(self) -> dict[str, Any]:
        """What was measured, as the response reports it."""
        p = self.first
        return {
            "model_id": p.model_id,
            "engine": p.engine,
            "engine_version": p.engine_version,
            "gpu": p.gpu,
            "gpu_count": p.gpu_count,
            "tensor_parallel_size": p.tensor_parallel_size,
            "pipeline_parallel_size": p.pipeline_parallel_size,
            "input_len": p.input_len,
            "output_len": p.output_len,
            "dummy_weights": p.dummy_weights,
            "synthetic": p.synthetic,
            "concurrencies": [effective_concurrency(q) for q in self.points],
            "num_prompts": [q.num_prompts for q in self.points],
            "duration_s": [q.duration for q in self.points],
            "started_at": min(q.started_at for q in self.points),
            "result_ids": self.ids,
            "verdict": self.verdict,
            "verdict_reason": self.verdict_reason,
            "representative": self.representative,
        }


def load_sweeps(
    conn: Connection,
    *,
    include_synthetic: bool = False,
    model: str | None = None,
    gpu: str | None = None,
) -> list[tuple[str | None, StoredSweep]]:
    """(model_slug, sweep) pairs of the stored points, in a stable order."""
    query = (
        _b.select()
        .with_only_columns(_b.c.id, _b.c.model_slug, _b.c.verdict, _b.c.verdict_reason, _b.c.raw)
        .where(*_filters(include_synthetic, model, gpu))
        .order_by(*_ORDER)
    )
    sweeps: dict[tuple[Any, ...], tuple[str | None, StoredSweep]] = {}
    for row in conn.execute(query):
        point = BenchmarkPoint(**row.raw["point"], raw=row.raw["result"])
        key = (row.model_slug, *sweep_key(point))
        if key not in sweeps:
            sweeps[key] = (row.model_slug, StoredSweep(key, point, row.verdict, row.verdict_reason))
        sweep = sweeps[key][1]
        sweep.ids.append(int(row.id))
        sweep.points.append(point)
        if row.verdict != sweep.verdict:
            # Points of one sweep share its verdict; a mix means some were never classified.
            sweep.verdict, sweep.verdict_reason = "unclassified", "points classified apart"
    for _, sweep in sweeps.values():
        pairs = sorted(
            zip(sweep.ids, sweep.points, strict=True), key=lambda x: effective_concurrency(x[1])
        )
        sweep.ids = [i for i, _ in pairs]
        sweep.points = [p for _, p in pairs]
    return list(sweeps.values())
