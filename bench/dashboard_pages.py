"""Time to each dashboard page's HTML with its data, beside ``/livez``, on a generated store.

Builds VERSIONS LLM price versions over OFFERINGS offerings (``api_cost_curve``'s
generator: 3 years, catalog models so tiers resolve) plus GPU_VERSIONS GPU rate
versions (H100 and A100 offerings, on-demand and spot), serves the real app with
uvicorn on loopback in a subprocess, and requests each page sequentially: one
cold request (first after start: the version frames load), then REPEAT warm
requests. A page's HTML embeds its chart data, so one request is "HTML + data";
its scripts and Plotly are static files cached for a day.

    .venv/bin/python bench/dashboard_pages.py [VERSIONS] [OFFERINGS] [GPU_VERSIONS]
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg

from db.embedded import EmbeddedPostgres
from db.migrate import upgrade

sys.path.insert(0, str(Path(__file__).parent))
from api_cost_curve import SPAN, START, build_store

REPEAT = int(os.environ.get("BENCH_REPEAT", "20"))
PAGES = [
    "/livez",
    "/ui/overview",
    "/ui/curves",
    "/ui/curves?tier=frontier&interval=week",
    "/ui/deflation",
    "/ui/prices",
    "/ui/prices?tier=frontier",
    "/ui/gpus",
    "/ui/changes",
    "/ui/pipeline",
    "/ui/alerts",
    # The JSON routes behind some pages, for comparison.
    "/v1/cost-curve?tier=frontier",
    "/v1/prices?limit=500",
    "/v1/changes?limit=200",
]
GPUS = ("H100-SXM-80GB", "A100-SXM-80GB")
CUT = Decimal("0.998")  # each new GPU rate version is 0.2% cheaper


def build_gpu_rates(dsn: str, versions: int, offerings: int = 200) -> None:
    per = max(1, versions // offerings)
    step = SPAN / per
    rng = random.Random(11)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO source (slug, kind, listing_complete, verified_against_recording) "
            "VALUES ('bench_gpu', 'gpu_rate', false, false)"
        )
        with conn.cursor().copy(
            "COPY gpu_offering (id, source, provider, gpu, gpu_count, pricing, first_seen_at, "
            "last_seen_at) FROM STDIN"
        ) as copy:
            for i in range(offerings):
                pricing = "spot" if i % 3 == 0 else "on_demand"
                gpu = GPUS[i % len(GPUS)]
                copy.write_row((i + 1, "bench_gpu", f"g{i}", gpu, 1, pricing, START, START + SPAN))
        with conn.cursor().copy(
            "COPY gpu_rate_version_record (offering_id, usd_per_gpu_hour, valid_from, valid_to, "
            "recorded_at, last_seen_at, change_kind) FROM STDIN"
        ) as copy:
            for i in range(offerings):
                rate = Decimal(rng.randint(150, 600)) / 100
                for k in range(per):
                    start = START + step * k
                    end = None if k == per - 1 else START + step * (k + 1)
                    rate = max(
                        Decimal("0.5"), (rate * Decimal("0.998")).quantize(Decimal("0.0001"))
                    )
                    copy.write_row(
                        (i + 1, rate, start, end, start, end or START + SPAN, "observed")
                    )
        conn.execute("ANALYZE")


def timed(client: httpx.Client, path: str) -> tuple[float, int]:
    t = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - t
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return elapsed * 1000, len(response.content)


def main() -> None:
    versions = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    offerings = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000
    gpu_versions = int(sys.argv[3]) if len(sys.argv) > 3 else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        pg = EmbeddedPostgres(Path(tmp), cleanup_mode="delete")
        pg.ensure_database("bench")
        upgrade(pg.url("bench"))
        t = time.perf_counter()
        build_store(pg.admin_dsn("bench"), versions, offerings)
        build_gpu_rates(pg.admin_dsn("bench"), gpu_versions)
        print(
            f"store: {versions:,} LLM price versions over {offerings:,} offerings, "
            f"{gpu_versions:,} GPU rate versions; built in {time.perf_counter() - t:.1f} s"
        )
        port = int(os.environ.get("BENCH_PORT", "8766"))
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
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
                for _ in range(300):
                    try:
                        client.get("/livez", timeout=1)
                        break
                    except httpx.TransportError:
                        time.sleep(0.1)
                print(f"{'page':42} {'cold ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'KiB':>7}")
                for path in PAGES:
                    cold, size = timed(client, path)
                    warm = sorted(timed(client, path)[0] for _ in range(REPEAT))
                    p95 = warm[min(len(warm) - 1, int(0.95 * len(warm)))]
                    print(
                        f"{path:42} {cold:8.1f} {statistics.median(warm):8.1f} {p95:8.1f} "
                        f"{size / 1024:7.0f}"
                    )
            print(
                f"sequential requests, {REPEAT} warm per page after one cold; client and server "
                f"share {os.cpu_count()} cores; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
            pg.stop()


if __name__ == "__main__":
    main()
