"""What a million tokens costs when you rent the GPU yourself.

    usd_per_mtok = usd_per_gpu_hour / (tokens_per_s_per_gpu * 3600) * 1e6

Throughput comes from serving benchmarks (``BENCHMARK_COLUMNS``, as stored in
``benchmark_result``: throughputs are for the whole run, over ``gpu_count``
GPUs, so they are divided by ``gpu_count``). The GPU rate is the version of
each rental offering (``GPU_RATE_COLUMNS``) in effect when the benchmark ran,
found with an as-of join, separately per pricing (on-demand, spot, ...).

Two costs per row: ``output_usd_per_mtok`` charges the whole GPU-hour to the
generated tokens (comparable with an API's output price), and
``total_usd_per_mtok`` spreads it over every token processed, prompt and
generated (comparable with a blended API price, as in seed 003 section 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import polars as pl

from costcurve.analytics._frames import as_utc_datetime, require_columns
from costcurve.analytics.money import to_float, to_float_prices

SECONDS_PER_HOUR = 3600.0

BENCHMARK_COLUMNS: dict[str, str] = {
    "gpu": "text: canonical GPU name, as in the rate offerings",
    "gpu_count": "integer: GPUs the run used",
    "started_at": "datetime (UTC): when the benchmark ran",
    "output_throughput": "Decimal or float: generated tokens/s over the whole run",
    "total_token_throughput": "Decimal or float: prompt + generated tokens/s over the run",
}
GPU_RATE_COLUMNS: dict[str, str] = {
    "offering_id": "a GPU rental offering (provider, gpu, pricing, region, ...)",
    "provider": "text",
    "gpu": "text: canonical GPU name",
    "pricing": "text: on_demand | spot | community | reserved_1m | ...",
    "usd_per_gpu_hour": "Decimal or float",
    "valid_from": "datetime (UTC): version in effect from",
    "valid_to": "datetime (UTC), nullable: version in effect until (exclusive)",
}
DEFAULT_PRICINGS: tuple[str, ...] = ("on_demand", "spot")


def cost_per_mtok(
    usd_per_gpu_hour: Decimal | float, tokens_per_s_per_gpu: Decimal | float
) -> float:
    """E.g. an H100 at $2.49/h doing 3,000 tok/s costs $0.2306 per million tokens."""
    rate, tps = to_float(usd_per_gpu_hour), to_float(tokens_per_s_per_gpu)
    if rate is None or tps is None or tps <= 0:
        raise ValueError("need a GPU rate and a positive throughput")
    return rate / (tps * SECONDS_PER_HOUR) * 1e6


def cost_per_mtok_expr(rate: pl.Expr, tokens_per_s_per_gpu: pl.Expr) -> pl.Expr:
    """The same formula over columns; null where throughput is not positive."""
    return (
        pl.when(tokens_per_s_per_gpu > 0)
        .then(rate / (tokens_per_s_per_gpu * SECONDS_PER_HOUR) * 1e6)
        .otherwise(None)
    )


def selfhost_costs(
    benchmarks: pl.DataFrame,
    gpu_rates: pl.DataFrame,
    *,
    pricings: Sequence[str] = DEFAULT_PRICINGS,
) -> pl.DataFrame:
    """One row per (benchmark row, offering of its GPU with a rate in effect when it ran).

    Keeps every benchmark column, adds ``benchmark_row`` (the benchmark's row
    number, to group by), the offering's ``rate_offering_id``, ``provider``,
    ``pricing`` and ``usd_per_gpu_hour``, the per-GPU throughputs and the two
    costs. A benchmark whose GPU had no rate in effect at the time gets no row.
    """
    require_columns(benchmarks, BENCHMARK_COLUMNS, "the benchmark frame")
    require_columns(gpu_rates, GPU_RATE_COLUMNS, "the GPU rate frame")
    overlap = set(benchmarks.columns) & {"provider", "pricing", "usd_per_gpu_hour"}
    if overlap:
        raise ValueError(f"benchmark frame must not have rate columns: {', '.join(overlap)}")
    bench = to_float_prices(benchmarks)
    bench = to_float_prices(bench, ["output_throughput", "total_token_throughput"])
    bench = bench.with_row_index("benchmark_row").with_columns(
        started_at=as_utc_datetime(bench, "started_at")
    )
    rates = to_float_prices(gpu_rates.select(list(GPU_RATE_COLUMNS)), ["usd_per_gpu_hour"])
    rates = rates.filter(pl.col("pricing").is_in(list(pricings))).with_columns(
        valid_from=as_utc_datetime(rates, "valid_from"),
        valid_to=as_utc_datetime(rates, "valid_to"),
        rate_offering_id=pl.col("offering_id"),
    )
    offerings = rates.select("rate_offering_id", "gpu", "provider", "pricing").unique()
    pairs = bench.join(offerings, on="gpu", how="inner").sort("started_at")
    matched = pairs.join_asof(
        rates.select("rate_offering_id", "valid_from", "valid_to", "usd_per_gpu_hour").sort(
            "valid_from"
        ),
        left_on="started_at",
        right_on="valid_from",
        by="rate_offering_id",
        strategy="backward",
        check_sortedness=False,  # both sides were sorted on the key just above
    ).filter(
        pl.col("valid_from").is_not_null()
        & (pl.col("valid_to").is_null() | (pl.col("started_at") < pl.col("valid_to")))
    )
    gpus = pl.col("gpu_count").cast(pl.Float64)
    rate = pl.col("usd_per_gpu_hour")
    return (
        matched.drop("valid_from", "valid_to")
        .with_columns(
            output_tokens_per_s_per_gpu=pl.col("output_throughput") / gpus,
            total_tokens_per_s_per_gpu=pl.col("total_token_throughput") / gpus,
        )
        .with_columns(
            output_usd_per_mtok=cost_per_mtok_expr(rate, pl.col("output_tokens_per_s_per_gpu")),
            total_usd_per_mtok=cost_per_mtok_expr(rate, pl.col("total_tokens_per_s_per_gpu")),
        )
        .sort("benchmark_row", "pricing", "total_usd_per_mtok", "provider")
    )


def cheapest_selfhost(costs: pl.DataFrame) -> pl.DataFrame:
    """Per (benchmark row, pricing), the cheapest rental of :func:`selfhost_costs`.

    Cheapest by ``total_usd_per_mtok``; ties go to the alphabetically first provider.
    """
    return (
        costs.sort("benchmark_row", "pricing", "total_usd_per_mtok", "provider")
        .group_by("benchmark_row", "pricing", maintain_order=True)
        .first()
        .select(costs.columns)
    )
