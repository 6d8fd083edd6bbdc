"""The analytics cache at scale: ``/v1/cost-curve?tier=frontier&interval=week`` over
a synthetic store, against ``/livez`` of the same app in the same run, and what a
data change costs while a client keeps reading.

Builds a store of VERSIONS price versions (OFFERINGS offerings over 3 years,
models from the catalog so tiers resolve) with COPY, times a full load of the
version frames through binary ADBC against the CSV path in the same process,
serves the real app (``costcurve serve-api --workers N``)
on loopback, then measures:

* warm p50/p99 and req/s of the cached curve and of ``/livez`` (fixed
  concurrency, fixed request count);
* ``compute_ms``: the median latency of curve requests that miss the cache;
* ingest-like changes (close and open ``CHANGED`` versions, touch the
  last-seen time of a source's open versions, record a run) committed while a
  client hammers the cached curve: ``cold_after_change_s`` is the time from the
  commit until the curve is answered from the new data version (header
  ``X-Data-Version``), ``max_wait_during_refresh_ms`` the longest any request
  took meanwhile (median and max over ``--changes`` changes);
* ``prices_p50_ms`` / ``prices_history_p50_ms``: ``/v1/prices`` and
  ``/v1/prices/history?model=`` one request at a time (read from PostgreSQL);
* ``peak_rss_mb``: the largest peak RSS (VmHWM) of the serving processes;
  ``total_pss_mb_at_end``: their proportional set sizes summed, after the run.

    .venv/bin/python bench/api_cost_curve.py --versions 1000000 [--json] [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
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
from typing import Any

import httpx
import psycopg

from costcurve.catalog import load_models
from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.frame_delta import load, refresh
from db.frames import csv_llm_versions
from db.migrate import upgrade

START = datetime(2023, 9, 1, tzinfo=UTC)
SPAN = timedelta(days=3 * 365)
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "4"))
REQUESTS = 3000
CHANGED = 500  # versions closed and reopened per ingest-like change


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


async def drive(url: str, requests: int = REQUESTS) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = iter(range(requests))

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in queue:
            t = time.perf_counter()
            response = await client.get(url)
            latencies.append(time.perf_counter() - t)
            assert response.status_code == 200, response.text[:200]

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
        return time.perf_counter() - start, latencies


def route_p50_ms(url: str, requests: int = 50) -> float:
    """Median latency of ``url``, one request at a time, after one warming request."""
    latencies = []
    with httpx.Client(timeout=120) as client:
        client.get(url).raise_for_status()
        for _ in range(requests):
            t = time.perf_counter()
            client.get(url).raise_for_status()
            latencies.append(time.perf_counter() - t)
    return statistics.median(latencies) * 1000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def frame_figures(pg: EmbeddedPostgres, offerings: int) -> dict[str, float]:
    """In this process: a full load of the frames by each reader, and a refresh after
    an ingest-like change (``refresh``: only the changed versions), median of 3."""
    engine = make_engine(pg.url("bench"))
    binary, csv, deltas = [], [], []
    frames = load(engine)
    for round_ in range(3):
        t = time.perf_counter()
        frames = load(engine)
        binary.append(time.perf_counter() - t)
        t = time.perf_counter()
        with engine.connect() as conn:
            csv_llm_versions(conn)
        csv.append(time.perf_counter() - t)
        change_data(pg.admin_dsn("bench"), CHANGED, offerings, 100 + round_)
        t = time.perf_counter()
        frames = refresh(engine, frames)
        deltas.append(time.perf_counter() - t)
        # The full LLM frame is built after publication (db.frame_delta.Frames.llm):
        # built here, outside the timing, so no round counts the previous one's.
        frames.llm  # noqa: B018
    engine.dispose()
    return {
        "full_load_binary_s": statistics.median(binary),
        "full_load_csv_s": statistics.median(csv),
        "refresh_after_change_s": statistics.median(deltas),
        "refreshed_versions": frames.changed_rows,
    }


def change_data(dsn: str, changed: int, offerings: int, round_: int) -> None:
    """What an ingest of one source does: close and reopen ``changed`` versions at a
    new price, move last_seen_at of its other open versions, record the run."""
    # Later than every stored start, also in a reused store: the clock, a day ahead.
    at = datetime.now(UTC) + timedelta(days=1)
    with psycopg.connect(dsn) as conn:
        first = 1 + int(at.timestamp() * 1000) % offerings
        ids = list(range(first, min(offerings, first + changed - 1) + 1))
        conn.execute(
            "UPDATE llm_price_version SET valid_to = %s, closed_recorded_at = %s "
            "WHERE offering_id = ANY(%s) AND valid_to IS NULL",
            (at, at, ids),
        )
        with conn.cursor().copy(
            "COPY llm_price_version_record (offering_id, input_usd_per_mtok, output_usd_per_mtok, "
            "free, original_currency, valid_from, recorded_at, last_seen_at, change_kind) "
            "FROM STDIN"
        ) as copy:
            for i in ids:
                copy.write_row(
                    (i, Decimal("0.05"), Decimal("0.2"), False, "USD", at, at, at, "observed")
                )
        conn.execute(
            "UPDATE llm_price_version SET last_seen_at = %s WHERE valid_to IS NULL "
            "AND offering_id %% 5 = %s AND NOT offering_id = ANY(%s)",
            (at, round_ % 5, ids),
        )
        conn.execute(
            "INSERT INTO pipeline_run (source, trigger, started_at, finished_at, status, "
            "observations, new_versions, closed_versions, unchanged, skipped, listing_complete) "
            "VALUES ('bench', 'cli', now(), now(), 'succeeded', 0, 0, 0, 0, 0, false)"
        )


async def hammer_through_change(
    url: str, change: Any, clients: int, settle_s: float = 0.5
) -> tuple[float, float, int]:
    """Hammer ``url`` from ``clients`` keep-alive connections while ``change()``
    commits: (seconds from the commit until every connection is answered from a
    data version not served before it, longest request meanwhile in ms, requests).
    With several workers the connections spread over them, so the figure is the
    slowest worker's."""
    before: set[str] = set()
    committed: list[float] = []
    first_new: dict[int, float] = {}
    waits: list[tuple[float, float]] = []  # (end, latency)
    stop = asyncio.Event()

    async def worker(client: httpx.AsyncClient, me: int) -> None:
        while not stop.is_set():
            t = time.perf_counter()
            response = await client.get(url)
            end = time.perf_counter()
            assert response.status_code == 200, response.text[:200]
            waits.append((end, end - t))
            version = response.headers["x-data-version"]
            if not committed or t < committed[0]:
                before.add(version)  # sent before the commit: an old version
            elif version not in before and me not in first_new:
                first_new[me] = end
                if len(first_new) == clients:
                    asyncio.get_running_loop().call_later(settle_s, stop.set)

    async def changer() -> None:
        await asyncio.sleep(settle_s)
        await asyncio.to_thread(change)
        committed.append(time.perf_counter())

    async def one_client(me: int) -> None:
        async with httpx.AsyncClient(timeout=60) as client:  # a connection of its own
            await worker(client, me)

    await asyncio.gather(changer(), *(one_client(i) for i in range(clients)))
    last = max(first_new.values())
    during = [lat for end, lat in waits if committed[0] <= end <= last + settle_s]
    return last - committed[0], max(during) * 1000, len(during)


def server_pids(root: int) -> list[int]:
    """``root`` and its children (uvicorn's worker processes)."""
    pids = [root]
    for task in Path(f"/proc/{root}/task").iterdir():
        children = Path(f"/proc/{root}/task/{task.name}/children").read_text().split()
        pids += [int(c) for c in children]
    return pids


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pss_mb(pid: int) -> float:
    """Proportional set size now: pages shared by several processes split among them."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def serve(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "DATABASE_URL": url.replace("+psycopg", ""),
        "COSTCURVE_API_PORT": str(port),
    }
    command = [sys.executable, "-m", "costcurve", "serve-api", "--workers", str(workers)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure(pg: EmbeddedPostgres, args: argparse.Namespace) -> dict[str, Any]:
    url = pg.url("bench")
    figures: dict[str, Any] = {"versions": args.versions, "workers": args.workers}
    figures |= frame_figures(pg, args.offerings)
    # This process's own full collections would pause the client mid-request and
    # count as server waits: what is alive now is frozen out of them.
    gc.collect()
    gc.freeze()
    port = 8765
    server = serve(url, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                httpx.get(f"{base}/livez", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        curve = f"{base}/v1/cost-curve?tier=frontier&interval=week"
        t = time.perf_counter()
        for _ in range(2 * args.workers):  # each worker's first request loads its frames
            httpx.get(curve, timeout=600).raise_for_status()
        figures["cold_start_s"] = (time.perf_counter() - t) / (2 * args.workers)
        misses = []
        for k in range(5):  # each window is a new cache key: computed, not looked up
            t = time.perf_counter()
            httpx.get(f"{curve}&to=2026-0{k + 1}-15", timeout=600).raise_for_status()
            misses.append(time.perf_counter() - t)
        figures["compute_ms"] = statistics.median(misses) * 1000
        rates = {}
        for name, target in (("livez", f"{base}/livez"), ("curve", curve)):
            elapsed, lat = asyncio.run(drive(target))
            rates[name] = REQUESTS / elapsed
            if name == "curve":
                figures["warm_p50_ms"] = pct(lat, 0.5)
                figures["warm_p99_ms"] = pct(lat, 0.99)
        figures["req_per_s"] = rates["curve"]
        figures["livez_req_per_s"] = rates["livez"]
        figures["req_ratio"] = rates["curve"] / rates["livez"]
        # The current-price and history reads (PostgreSQL, not the frames).
        model = sorted(load_models())[0]
        figures["prices_p50_ms"] = route_p50_ms(f"{base}/v1/prices")
        figures["prices_history_p50_ms"] = route_p50_ms(f"{base}/v1/prices/history?model={model}")
        colds, waits = [], []
        for round_ in range(args.changes):
            cold, wait, _ = asyncio.run(
                hammer_through_change(
                    curve,
                    lambda r=round_: change_data(pg.admin_dsn("bench"), CHANGED, args.offerings, r),
                    args.hammer_clients,
                )
            )
            colds.append(cold)
            waits.append(wait)
        figures["cold_after_change_s"] = statistics.median(colds)
        figures["cold_after_change_max_s"] = max(colds)
        figures["max_wait_during_refresh_ms"] = max(waits)
        figures["changed_versions_per_change"] = CHANGED
        figures["hammer_clients"] = args.hammer_clients
        rss = [peak_rss_mb(p) for p in server_pids(server.pid)]
        workers_rss = rss[1:] if args.workers > 1 else rss
        figures["peak_rss_mb"] = max(workers_rss)
        figures["peak_rss_gb_per_m_versions"] = max(workers_rss) / 1024 / (args.versions / 1e6)
        figures["total_pss_mb_at_end"] = sum(pss_mb(p) for p in server_pids(server.pid))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--offerings", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--changes", type=int, default=3, help="data changes to measure")
    parser.add_argument(
        "--hammer-clients",
        type=int,
        default=None,
        help="clients (connections) reading the cached curve back to back while a change "
        "lands; default 1, or 4 with several workers so that each worker is read",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line only")
    parser.add_argument(
        "--store", type=Path, help="keep the store in this directory and reuse it next time"
    )
    args = parser.parse_args()
    if args.hammer_clients is None:
        args.hammer_clients = 1 if args.workers == 1 else 4
    with tempfile.TemporaryDirectory() as tmp:
        data = args.store or Path(tmp)
        built_marker = data / f"built-{args.versions}-{args.offerings}"
        pg = EmbeddedPostgres(data, cleanup_mode="stop" if args.store else "delete")
        try:
            t = time.perf_counter()
            fresh = not built_marker.exists()
            if fresh:
                pg.drop_database("bench")
                pg.ensure_database("bench")
            upgrade(pg.url("bench"))  # a kept store too: brought to the code's schema
            if fresh:
                build_store(pg.admin_dsn("bench"), args.versions, args.offerings)
                built_marker.touch()
            built = time.perf_counter() - t
            figures = measure(pg, args)
        finally:
            pg.stop()
    if args.json:
        print(
            json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()})
        )
        return
    print(
        f"store: {args.versions:,} versions, {args.offerings:,} offerings, built in {built:.0f} s"
    )
    for key, value in figures.items():
        print(f"{key:32} {value:,.3f}" if isinstance(value, float) else f"{key:32} {value}")


if __name__ == "__main__":
    main()
