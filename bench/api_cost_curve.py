"""Latency and throughput of ``/v1/cost-curve?tier=frontier&interval=week`` over a
realistic store, against a trivial endpoint of the same app in the same run.

Builds a synthetic store of VERSIONS price versions (OFFERINGS offerings over 3
years, models taken from the catalog so tiers resolve) with COPY, serves the
real app with uvicorn on loopback in a subprocess, then drives both endpoints
with an async httpx load generator (fixed concurrency, fixed request count).

    .venv/bin/python bench/api_cost_curve.py [VERSIONS] [OFFERINGS]
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg

from costcurve.catalog import load_models
from db.embedded import EmbeddedPostgres
from db.migrate import upgrade

START = datetime(2023, 9, 1, tzinfo=UTC)
SPAN = timedelta(days=3 * 365)
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "4"))
REQUESTS = 3000


def build_store(dsn: str, versions: int, offerings: int) -> None:
    slugs = sorted(load_models())
    per = versions // offerings
    step = SPAN / per
    rng = random.Random(7)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO source (slug, kind, listing_complete, verified_against_recording) "
            "VALUES ('bench', 'llm_price', false, false)"
        )
        with conn.cursor().copy(
            "COPY llm_offering (id, source, provider, provider_model_id, variant, modality, "
            "model_slug, first_seen_at, last_seen_at) FROM STDIN"
        ) as copy:
            for i in range(offerings):
                slug = slugs[i % len(slugs)]
                copy.write_row(
                    (
                        i + 1,
                        "bench",
                        f"p{i % 50}",
                        f"{slug}/{i}",
                        "standard",
                        "text",
                        slug,
                        START,
                        START + SPAN,
                    )
                )
        with conn.cursor().copy(
            "COPY llm_price_version_record (offering_id, input_usd_per_mtok, output_usd_per_mtok, "
            "free, original_currency, valid_from, valid_to, recorded_at, last_seen_at, "
            "change_kind) FROM STDIN"
        ) as copy:
            for i in range(offerings):
                price = Decimal(rng.randint(50, 3000)) / 100
                for k in range(per):
                    start = START + step * k
                    end = None if k == per - 1 else START + step * (k + 1)
                    price = max(
                        Decimal("0.01"), (price * Decimal("0.995")).quantize(Decimal("0.0001"))
                    )
                    copy.write_row(
                        (
                            i + 1,
                            price,
                            price * 4,
                            False,
                            "USD",
                            start,
                            end,
                            start,
                            end or START + SPAN,
                            "observed",
                        )
                    )
        conn.execute(
            "INSERT INTO pipeline_run (source, trigger, started_at, finished_at, status, "
            "observations, new_versions, closed_versions, unchanged, skipped, listing_complete) "
            "VALUES ('bench', 'cli', now(), now(), 'succeeded', 0, 0, 0, 0, 0, false)"
        )
        conn.execute("ANALYZE")


async def drive(url: str) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = iter(range(REQUESTS))

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in queue:
            t = time.perf_counter()
            response = await client.get(url)
            latencies.append(time.perf_counter() - t)
            assert response.status_code == 200, response.text[:200]

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
        return time.perf_counter() - start, latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    versions = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    offerings = int(sys.argv[2]) if len(sys.argv) > 2 else 5_000
    with tempfile.TemporaryDirectory() as tmp:
        pg = EmbeddedPostgres(Path(tmp), cleanup_mode="delete")
        pg.ensure_database("bench")
        upgrade(pg.url("bench"))
        t = time.perf_counter()
        build_store(pg.admin_dsn("bench"), versions, offerings)
        print(
            f"store: {versions:,} versions, {offerings:,} offerings, built in "
            f"{time.perf_counter() - t:.1f} s"
        )
        port = 8765
        env = os.environ | {
            "DATABASE_URL": pg.url("bench").replace("+psycopg", ""),
            "COSTCURVE_API_PORT": str(port),
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "costcurve", "serve-api"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(f"{base}/livez", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            curve = f"{base}/v1/cost-curve?tier=frontier&interval=week"
            t = time.perf_counter()
            first = httpx.get(curve, timeout=120)
            cold = time.perf_counter() - t
            points = len(first.json()["points"])
            print(f"first (cold) cost-curve request: {cold * 1000:.0f} ms, {points} weekly points")
            results = {}
            for name, url in (("trivial /livez", f"{base}/livez"), ("cost-curve", curve)):
                elapsed, lat = asyncio.run(drive(url))
                results[name] = REQUESTS / elapsed
                print(
                    f"{name:15}: {REQUESTS / elapsed:8,.0f} req/s  p50 {pct(lat, 0.5):6.2f} ms  "
                    f"p99 {pct(lat, 0.99):6.2f} ms  (concurrency {CONCURRENCY}, "
                    f"{REQUESTS} requests)"
                )
            print(
                f"ratio cost-curve / trivial throughput: "
                f"{results['cost-curve'] / results['trivial /livez']:.2f}"
            )
            print(
                f"median of latencies is client-side, load generator and server share "
                f"{os.cpu_count()} cores; mean {statistics.mean(lat) * 1000:.2f} ms"
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
            pg.stop()


if __name__ == "__main__":
    main()
