"""Self-hosted cost per million tokens of stored serving-benchmark points.

:func:`self_hosted_costs` prices each point with the GPU-hour rate in
effect when it ran (``rate_policy="as_of"``, the default) or now
(``rate_policy="current"``, to price an old benchmark at today's rates; the
result says which). Per pricing (on-demand and spot separately) the rate is
the cheapest ``usd_per_gpu_hour`` among the offerings of that canonical GPU in
any source, Linux or unstated OS, single listings or a marketplace's median
(a marketplace minimum is one offer that may be gone, so it is not used).
The offering's GPU count may differ from the benchmark's: the per-GPU price is
what is multiplied. No rate in effect means null costs and a ``reason``;
a later or earlier rate is never substituted silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    String,
    and_,
    case,
    column,
    false,
    literal,
    or_,
    select,
    true,
    values,
)

from costcurve.core.formulas import usd_per_mtok
from db.benchmarks import _LATENCY_COLUMNS, _ORDER, _dec, _filters
from db.countable_sql import excluded_expr, stale_expr
from db.models import BenchmarkResult, GpuOffering, GpuRateVersion

_b = BenchmarkResult.__table__  # type: ignore[attr-defined]
_o = GpuOffering.__table__  # type: ignore[attr-defined]
_v = GpuRateVersion.__table__  # type: ignore[attr-defined]

RatePolicy = Literal["as_of", "current"]
DEFAULT_PRICINGS: tuple[str, ...] = ("on_demand", "spot")
# Costs are rounded (half-even) to 1e-9 USD per million tokens: far below any
# price difference that matters, and short enough to print as a JSON number.
COST_QUANTUM = Decimal("1e-9")
# Marketplace aggregates usable as "the" price of a GPU (see the module docstring).
_USABLE_STATISTICS = ("median",)
# The same rule as SQL over a gpu_offering aliased ``o``, for raw queries elsewhere.
USABLE_RATE_SQL = (
    "(o.os IS NULL OR o.os = 'linux') AND (o.statistic IS NULL OR o.statistic IN ("
    + ", ".join(f"'{s}'" for s in _USABLE_STATISTICS)
    + "))"
)


def usable_rate(gpu: Any, pricing: Any, at: Any) -> list[Any]:
    """A rate of ``gpu`` and ``pricing`` in effect at ``at`` that may price a self-hosted figure.

    ``at`` may be a column (a benchmark's start) or an instant.
    """
    return [
        _o.c.gpu == gpu,
        _o.c.pricing == pricing,
        or_(_o.c.statistic.is_(None), _o.c.statistic.in_(_USABLE_STATISTICS)),
        or_(_o.c.os.is_(None), _o.c.os == "linux"),
        _v.c.valid_from <= at,
        or_(_v.c.valid_to.is_(None), _v.c.valid_to > at),
    ]


def left_out_reason(at: Any, *, include_stale: bool = False) -> Any:
    """Why a usable rate is not used at ``at`` (NULL: it is used).

    The screen of "which prices count": a quarantined or rejected rate, or an open
    rate its source stopped listing longer ago than its freshness horizon. A
    figure that would have used one says so (``cheaper_rate_left_out``).
    """
    stale = false() if include_stale else and_(_v.c.valid_to.is_(None), stale_expr(_v, _o, at))
    return case(
        (excluded_expr(_v, "gpu_rate_version_id"), literal("quarantined")),
        (stale, literal("stale")),
        else_=None,
    )


def rate_candidates(gpu: str, pricing: str, at: datetime, *, include_stale: bool = False) -> Any:
    """Usable rates of ``gpu``/``pricing`` at ``at``, cheapest first, with ``left_reason``."""
    return (
        select(
            _o.c.source,
            _o.c.provider,
            _o.c.region,
            _o.c.instance_type,
            _o.c.gpu_count,
            _o.c.id.label("offering_id"),
            _v.c.id.label("version_id"),
            _v.c.usd_per_gpu_hour,
            _v.c.valid_from,
            _v.c.valid_to,
            left_out_reason(at, include_stale=include_stale).label("left_reason"),
        )
        .select_from(_v.join(_o, _o.c.id == _v.c.offering_id))
        .where(*usable_rate(gpu, pricing, at))
        .order_by(*RATE_ORDER)
    )


# Ties: a stable, documented pick rather than whichever row comes first.
RATE_ORDER = (_v.c.usd_per_gpu_hour, _o.c.gpu_count, _o.c.provider, _o.c.id)

_RATE_COLUMNS = {
    "rate_version_id": _v.c.id,
    "rate_offering_id": _o.c.id,
    "rate_source": _o.c.source,
    "rate_provider": _o.c.provider,
    "rate_gpu_count": _o.c.gpu_count,
    "rate_region": _o.c.region,
    "rate_instance_type": _o.c.instance_type,
    "rate_statistic": _o.c.statistic,
    "rate_valid_from": _v.c.valid_from,
    "rate_valid_to": _v.c.valid_to,
    "usd_per_gpu_hour": _v.c.usd_per_gpu_hour,
}


@dataclass(frozen=True)
class _Pricing:
    pricings: Sequence[str]
    priced_at: datetime | None  # None: each point at its run's start
    include_stale: bool


def _priced_rows(conn: Connection, where: list[Any], pricing: _Pricing) -> Iterable[Any]:
    """One row per (benchmark, pricing) with the cheapest rate in effect (or nulls).

    Beside it, the cheapest rate the screen left out when it is cheaper than the
    one used (``left_*`` columns), so the answer can say what it would have been.
    """
    p = values(column("pricing", String), name="p").data([(x,) for x in pricing.pricings])
    at: Any = _b.c.started_at if pricing.priced_at is None else pricing.priced_at
    usable = usable_rate(_b.c.gpu, p.c.pricing, at)
    reason = left_out_reason(at, include_stale=pricing.include_stale)
    rate = (
        select(*(c.label(name) for name, c in _RATE_COLUMNS.items()))
        .select_from(_v.join(_o, _o.c.id == _v.c.offering_id))
        .where(*usable, reason.is_(None))
        .order_by(*RATE_ORDER)
        .limit(1)
        .lateral("r")
    )
    left = (
        select(
            _v.c.usd_per_gpu_hour.label("left_usd_per_gpu_hour"),
            _v.c.id.label("left_version_id"),
            reason.label("left_reason"),
        )
        .select_from(_v.join(_o, _o.c.id == _v.c.offering_id))
        .where(
            *usable,
            reason.is_not(None),
            or_(rate.c.usd_per_gpu_hour.is_(None), _v.c.usd_per_gpu_hour < rate.c.usd_per_gpu_hour),
        )
        .order_by(*RATE_ORDER)
        .limit(1)
        .lateral("l")
    )
    query = (
        select(_b, p.c.pricing, *(rate.c[name] for name in _RATE_COLUMNS), *left.c)
        .select_from(_b.join(p, true()).outerjoin(rate, true()).outerjoin(left, true()))
        .where(and_(true(), *where))
        .order_by(*_ORDER, p.c.pricing)
    )
    return conn.execute(query)


def left_out(usd_per_gpu_hour: Any, version_id: Any, reason: str | None) -> dict[str, Any] | None:
    """The cheaper rate the screen left out of a figure (``cheaper_rate_left_out``), or None."""
    if reason is None:
        return None
    return {"usd_per_gpu_hour": usd_per_gpu_hour, "version_id": version_id, "reason": reason}


def _per_gpu(throughput: Decimal, gpu_count: int) -> Decimal:
    # As BenchmarkPoint computes it (float / count), kept to the float's shortest repr.
    return Decimal(repr(float(throughput) / gpu_count))


def _money(value: Decimal) -> Decimal:
    return value.quantize(COST_QUANTUM, rounding=ROUND_HALF_EVEN)


def _cost(row: Any, pricing: str, when: str) -> dict[str, Any]:
    rate = row.usd_per_gpu_hour
    empty: dict[str, Any] = {
        "usd_per_gpu_hour": None,
        "output_usd_per_mtok": None,
        "total_usd_per_mtok": None,
        "rate": None,
        "cheaper_rate_left_out": left_out(
            row.left_usd_per_gpu_hour, row.left_version_id, row.left_reason
        ),
        "reason": None,
    }
    if rate is None:
        return empty | {"reason": f"no {pricing} rate for {row.gpu} in effect {when}"}
    out_tps = _per_gpu(row.output_throughput, row.gpu_count)
    total_tps = _per_gpu(row.total_token_throughput, row.gpu_count)
    if out_tps <= 0 or total_tps <= 0:
        return empty | {"reason": "the benchmark measured zero throughput"}
    return {
        "usd_per_gpu_hour": rate,
        "output_usd_per_mtok": _money(usd_per_mtok(rate, out_tps)),
        "total_usd_per_mtok": _money(usd_per_mtok(rate, total_tps)),
        "rate": {
            key.removeprefix("rate_"): getattr(row, key)
            for key in _RATE_COLUMNS
            if key.startswith("rate_")
        },
        "cheaper_rate_left_out": empty["cheaper_rate_left_out"],
        "reason": None,
    }


def self_hosted_costs(
    conn: Connection,
    *,
    include_synthetic: bool = False,
    model: str | None = None,
    gpu: str | None = None,
    rate_policy: RatePolicy = "as_of",
    pricings: Sequence[str] = DEFAULT_PRICINGS,
    now: datetime | None = None,
    include_stale: bool = False,
) -> list[dict[str, Any]]:
    """Every stored point with its self-hosted $/M tokens per pricing.

    ``model`` matches the canonical slug or the engine's model id; synthetic
    points (fake server, CI) are left out unless ``include_synthetic``. Each
    item has the benchmark's setup and measurements (throughputs per GPU,
    median/p99 latencies in ms, ``interactivity`` = 1000 / median TPOT as
    a float; throughputs and costs are Decimal, costs rounded to ``COST_QUANTUM``),
    ``rate_policy``, ``priced_at`` (the run's start for ``as_of``, else
    ``now``) and ``costs[pricing]`` = ``{usd_per_gpu_hour, output_usd_per_mtok,
    total_usd_per_mtok, rate: {source, provider, offering_id, version_id,
    gpu_count, region, instance_type, statistic, valid_from, valid_to},
    cheaper_rate_left_out, reason}`` where the numbers and ``rate`` are null and
    ``reason`` says why when no usable rate was in effect. Rates pass the screen
    (``left_out_reason``; stale ones are allowed with ``include_stale``), and
    ``cheaper_rate_left_out`` names a cheaper rate the screen kept out.
    """
    if rate_policy not in ("as_of", "current"):
        raise ValueError(f"rate_policy must be 'as_of' or 'current', got {rate_policy!r}")
    if not pricings:
        raise ValueError("pricings must name at least one pricing")
    current_at = (now or datetime.now(UTC)) if rate_policy == "current" else None
    where = _filters(include_synthetic, model, gpu)
    items: dict[int, dict[str, Any]] = {}
    for row in _priced_rows(conn, where, _Pricing(pricings, current_at, include_stale)):
        item = items.get(row.id)
        if item is None:
            item = items[row.id] = _describe(row, rate_policy, current_at)
        when = "at run time" if current_at is None else "now"
        at = item["priced_at"].isoformat().replace("+00:00", "Z")
        item["costs"][row.pricing] = _cost(row, row.pricing, f"{when} ({at})")
    return list(items.values())


def _describe(row: Any, rate_policy: RatePolicy, current_at: datetime | None) -> dict[str, Any]:
    point = row.raw.get("point", {})
    tpot = row.median_tpot_ms
    return {
        "id": row.id,
        "model_id": row.model_id,
        "model_slug": row.model_slug,
        "engine": row.engine,
        "engine_version": row.engine_version,
        "gpu": row.gpu,
        "gpu_count": row.gpu_count,
        "tensor_parallel_size": row.tensor_parallel_size,
        "pipeline_parallel_size": row.pipeline_parallel_size,
        "driver_version": row.driver_version,
        "input_len": row.input_len,
        "output_len": row.output_len,
        "range_ratio": point.get("range_ratio"),
        # None: the run had no concurrency cap (the column then holds num_prompts).
        "concurrency": point.get("concurrency", row.concurrency),
        "num_prompts": row.num_prompts,
        "completed": row.completed,
        "duration_s": row.duration_s,
        # The sweep's representativeness (core.representativeness): only
        # "representative" points make headlines.
        "verdict": row.verdict,
        "verdict_reason": row.verdict_reason,
        "started_at": row.started_at,
        "recorded_at": row.recorded_at,
        "dummy_weights": row.dummy_weights,
        "synthetic": row.synthetic,
        "request_throughput": row.request_throughput,
        "output_throughput": row.output_throughput,
        "total_token_throughput": row.total_token_throughput,
        "output_tokens_per_s_per_gpu": _per_gpu(row.output_throughput, row.gpu_count),
        "total_tokens_per_s_per_gpu": _per_gpu(row.total_token_throughput, row.gpu_count),
        **{name: getattr(row, name) for name in _LATENCY_COLUMNS},
        "p99_itl_ms": _dec(point.get("p99_itl_ms")),
        "p99_e2el_ms": _dec(point.get("p99_e2el_ms")),
        "interactivity": 1000.0 / float(tpot) if tpot else None,
        "rate_policy": rate_policy,
        "priced_at": current_at or row.started_at,
        "costs": {},
    }
