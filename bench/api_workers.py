"""Keep-alive requests/s of `costcurve serve-api --workers 2` against `--workers 1`,
on the same database in the same run: `/livez` and a cached
`/v1/cost-curve?tier=frontier`.

Builds the synthetic store of bench/api_cost_curve.py (VERSIONS price versions
over OFFERINGS offerings), then per repeat starts serve-api with 1 and with 2
workers (the order alternates between repeats), warms each worker's curve
cache, and drives each route with CONCURRENCY keep-alive connections sharing
one request budget (a connection that is answered sooner takes the next
request, so no worker idles while requests remain). Prints one line per
measurement and, last, a JSON line with the medians and the ratios 2/1.

The load generator is a bare asyncio protocol (one pre-built GET, responses
framed by Content-Length): on 2 cores the client shares the CPUs with the
workers, and httpx spends about as much CPU per request as the server does, so
with it the ratio would measure the client. Other processes on the machine
make absolute figures noisy; compare the ratios of one run.

    .venv/bin/python bench/api_workers.py [--versions 200000] [--offerings 2000]
        [--repeats 3] [--requests 4000] [--concurrency 8] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
from api_cost_curve import build_store  # bench/ is the script's directory (sys.path[0])

from db.embedded import EmbeddedPostgres
from db.migrate import upgrade

ROUTES = {"livez": "/livez", "curve": "/v1/cost-curve?tier=frontier"}


@dataclass
class Budget:
    """Requests left to send, shared by every connection; latencies collected."""

    left: int
    latencies: list[float] = field(default_factory=list)

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


class KeepAliveClient(asyncio.Protocol):
    """One keep-alive connection sending GETs back to back until the budget is spent."""

    def __init__(self, request: bytes, budget: Budget, done: asyncio.Future[None]) -> None:
        self._request, self._budget, self._done = request, budget, done
        self._buffer = b""
        self._need: int | None = None
        self._sent_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._send()

    def _send(self) -> None:
        if not self._budget.take():
            self._transport.close()
            if not self._done.done():
                self._done.set_result(None)
            return
        self._sent_at = time.perf_counter()
        self._transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._need is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self._buffer[:end].lower()
            if not head.startswith(b"http/1.1 200"):
                raise RuntimeError(head[:200].decode(errors="replace"))
            start = head.index(b"content-length:") + len(b"content-length:")
            self._need = end + 4 + int(head[start : head.index(b"\r\n", start)])
        if len(self._buffer) < self._need:
            return
        self._budget.latencies.append(time.perf_counter() - self._sent_at)
        self._buffer, self._need = self._buffer[self._need :], None
        self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._done.done():
            self._done.set_exception(exc or RuntimeError("connection closed early"))


async def drive(port: int, path: str, requests: int, concurrency: int) -> tuple[float, Budget]:
    """(requests/s, budget with latencies) of ``requests`` GETs over keep-alive connections."""
    loop = asyncio.get_running_loop()
    budget = Budget(requests)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    start = time.perf_counter()
    done = []
    for _ in range(concurrency):
        future: asyncio.Future[None] = loop.create_future()
        await loop.create_connection(
            partial(KeepAliveClient, request, budget, future), "127.0.0.1", port
        )
        done.append(future)
    await asyncio.gather(*done)
    return requests / (time.perf_counter() - start), budget


def _start(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "costcurve", "serve-api", "--port", str(port)],
        env=env | {"COSTCURVE_API_WORKERS": str(workers)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _warm(port: int, concurrency: int) -> None:
    """Every worker has answered the curve once (each computes and caches its own)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/livez", timeout=2)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    # New connections land on any worker: enough of them reach each one.
    for _ in range(3):
        asyncio.run(drive(port, ROUTES["curve"], 4 * concurrency, 4 * concurrency))


def measure(env: dict[str, str], workers: int, args: argparse.Namespace) -> dict[str, float]:
    port = 8780 + workers
    server = _start(env, port, workers)
    try:
        _warm(port, args.concurrency)
        result = {}
        for name, path in ROUTES.items():
            rate, budget = asyncio.run(drive(port, path, args.requests, args.concurrency))
            p50 = statistics.median(budget.latencies) * 1000
            if not args.json:
                print(f"workers {workers}  {name:5}: {rate:7,.0f} req/s  p50 {p50:6.2f} ms")
            result[name] = rate
        return result
    finally:
        server.send_signal(signal.SIGTERM)
        if server.wait(timeout=60) != 0:
            raise SystemExit(f"serve-api --workers {workers} exited {server.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--versions", type=int, default=200_000)
    parser.add_argument("--offerings", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--requests", type=int, default=4_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true", help="only the JSON line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pg = EmbeddedPostgres(Path(tmp), cleanup_mode="delete")
        try:
            pg.ensure_database("bench")
            upgrade(pg.url("bench"))
            build_store(pg.admin_dsn("bench"), args.versions, args.offerings)
            env = {k: v for k, v in os.environ.items() if not k.startswith("COSTCURVE_")}
            env["DATABASE_URL"] = pg.url("bench")
            runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
            for repeat in range(args.repeats):
                for workers in (1, 2) if repeat % 2 == 0 else (2, 1):
                    runs[workers].append(measure(env, workers, args))
        finally:
            pg.stop()
    summary: dict[str, object] = {
        "versions": args.versions,
        "concurrency": args.concurrency,
        "repeats": args.repeats,
        "cpus": os.cpu_count(),
    }
    for name in ROUTES:
        one = [r[name] for r in runs[1]]
        two = [r[name] for r in runs[2]]
        ratios = [b / a for a, b in zip(one, two, strict=True)]
        summary[f"{name}_req_per_s_1_worker"] = round(statistics.median(one))
        summary[f"{name}_req_per_s_2_workers"] = round(statistics.median(two))
        summary[f"{name}_ratio"] = round(statistics.median(ratios), 2)
        summary[f"{name}_ratios"] = [round(r, 2) for r in ratios]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
