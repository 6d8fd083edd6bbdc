"""Stored benchmark sweeps with their verdicts, and GPU-hour rates to price them.

A sweep is the stored points of one setup (costcurve.core.representativeness.
sweep_key) over concurrency levels; :func:`load_sweeps` groups them and carries
the verdict stored with them. :func:`cheapest_rate` is the rental rate a
headline or a break-even prices with: the cheapest usable offering
(db.selfhost_costs.usable_rate, screened by left_out_reason) of the GPU and pricing in effect at an
instant, with its source and dates so a response can say which rate it used.

Rate bases beyond the stored rental rates plug in through :data:`RATE_LOOKUPS`
(``"index"``: the latest published on-demand GPU index print,
``db.gpu_index.index_rate``); a basis without a lookup is reported as
unavailable, never priced with something else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from costcurve.core.benchmark_point import BenchmarkPoint
from costcurve.core.representativeness import effective_concurrency, sweep_key
from db.benchmarks import _ORDER, _b, _filters
from db.gpu_index import index_rate
from db.selfhost_costs import left_out, rate_candidates

RENTAL_PRICINGS = ("on_demand", "spot", "community")


@dataclass(frozen=True)
class RateAsk:
    """Which GPU-hour rate a figure asks for: the GPU, the instant, and whether
    rates past their source's freshness horizon may be used (``include_stale``)."""

    gpu: str
    at: datetime
    include_stale: bool = False


RateLookup = Callable[[Connection, RateAsk], dict[str, Any] | None]


def cheapest_rate(conn: Connection, pricing: str, ask: RateAsk) -> dict[str, Any] | None:
    """The cheapest usable, screened ``pricing`` rate of ``gpu`` in effect at ``at``.

    None when there is none; only rates the screen left out: a null rate with the
    reason. ``cheaper_rate_left_out`` names a cheaper rate the
    screen kept out (quarantined, or stale at ``at``), so the figure says so.
    """
    gpu, at = ask.gpu, ask.at
    query = rate_candidates(gpu, pricing, at, include_stale=ask.include_stale)
    used, cheaper = None, None
    for row in conn.execute(query).mappings():
        if row["left_reason"] is None:
            used = dict(row)
            break
        cheaper = cheaper or row
    left = cheaper and left_out(
        cheaper["usd_per_gpu_hour"], cheaper["version_id"], cheaper["left_reason"]
    )
    if used is None:
        if left is None:
            return None
        when = at.isoformat().replace("+00:00", "Z")
        return {
            "usd_per_gpu_hour": None,
            "cheaper_rate_left_out": left,
            "reason": f"every {pricing} rate for {gpu} in effect at {when} is left out "
            f"(the cheapest is {left['reason']})",
        }
    used.pop("left_reason")
    return used | {"cheaper_rate_left_out": left}


def _rental(pricing: str) -> RateLookup:
    def lookup(conn: Connection, ask: RateAsk) -> dict[str, Any] | None:
        return cheapest_rate(conn, pricing, ask)

    return lookup


# basis -> lookup; "index" is the costcurve GPU price index (docs/gpu-index.md).
RATE_LOOKUPS: dict[str, RateLookup] = {p: _rental(p) for p in RENTAL_PRICINGS}
# A published index print is screened by the index method itself (docs/gpu-index.md).
RATE_LOOKUPS["index"] = lambda conn, ask: index_rate(conn, ask.gpu, ask.at)


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
