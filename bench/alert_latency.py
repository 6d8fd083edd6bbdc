"""Alert delivery latency: from the commit of the ingest that crosses a threshold to
the webhook receiver getting the alert.

Starts a throwaway embedded PostgreSQL and a webhook receiver on 127.0.0.1, makes
one GPU rule (``below 2.00 $/GPU-hour``, a ``json://`` Apprise channel) plus
``EXTRA_RULES`` rules that never fire, then ingests a price that alternates
2.50 / 1.50 so every second ingest is a crossing. After each ingest it runs what
the evaluate-alerts flow runs (``evaluate_rules`` then ``deliver_pending``) and
measures commit -> receiver for each of ``ALERTS`` alerts. Baseline in the same
run: a bare HTTP POST of the same payload size to the same receiver.

    .venv/bin/python bench/alert_latency.py [ALERTS=20] [EXTRA_RULES=0]

Prefect's own scheduling of the flow run is not included (this measures the
alerting code path, not the orchestrator).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from costcurve.alerts.delivery import deliver_pending
from costcurve.alerts.evaluate import evaluate_rules
from costcurve.alerts.keys import create_key
from costcurve.core.observations import GpuRate
from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.ingest import ingest
from db.migrate import upgrade
from db.pipeline import SourceRow, ensure_source

SOURCE = "bench-alerts"
T0 = datetime(2026, 8, 1, tzinfo=UTC)


class Receiver:
    def __init__(self) -> None:
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.arrivals.append((time.perf_counter(), json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def rate(price: str, day: int) -> GpuRate:
    return GpuRate(
        source=SOURCE,
        provider="bench",
        gpu="H100-SXM-80GB",
        gpu_count=1,
        pricing="on_demand",
        usd_per_gpu_hour=Decimal(price),
        observed_at=T0 + timedelta(hours=day),
        source_url="https://example.invalid/bench",
    )


def add_rule(conn: Any, key_id: int, gpu: str, channel: str) -> None:
    conn.execute(
        text(
            "INSERT INTO alert_rule (api_key_id, name, target, metric, threshold, direction, "
            "channel, active, created_at) VALUES (:k, 'bench', CAST(:t AS jsonb), "
            "'usd_per_gpu_hour', 2, 'below', :c, true, now())"
        ),
        {
            "k": key_id,
            "t": json.dumps({"type": "gpu", "gpu": gpu, "pricing": "on_demand", "provider": None}),
            "c": channel,
        },
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(alerts: int = 20, extra_rules: int = 0) -> None:
    base = Path(tempfile.mkdtemp(prefix="costcurve-bench-alerts-"))
    server = EmbeddedPostgres(base, cleanup_mode="delete")
    try:
        server.ensure_database("bench")
        upgrade(server.url("bench"))
        engine = make_engine(server.url("bench"))
        receiver = Receiver()
        channel = f"json://127.0.0.1:{receiver.port}/hook"
        key_id = create_key(engine, "bench").id
        with engine.begin() as conn:
            ensure_source(
                conn, SourceRow(slug=SOURCE, kind="gpu_rate", url=None, listing_complete=False)
            )
            add_rule(conn, key_id, "H100-SXM-80GB", channel)
            for _ in range(extra_rules):
                add_rule(conn, key_id, "L40S-48GB", channel)  # no L40S price: never fires

        latencies, evaluate_ms, deliver_ms = [], [], []
        for i in range(2 * alerts):
            price = "1.50" if i % 2 else "2.50"
            with engine.begin() as conn:
                ingest(conn, SOURCE, [rate(price, i)], listing_complete=False)
            committed = time.perf_counter()
            new = evaluate_rules(engine)
            evaluated = time.perf_counter()
            stats = deliver_pending(engine, allow_private=True)
            delivered = time.perf_counter()
            if price == "1.50":
                assert len(new) == 1, (new, stats)
                assert stats.delivered == 1, (new, stats)
                arrived, body = receiver.arrivals[-1]
                assert body["costcurve_event_id"] == str(new[0])
                latencies.append((arrived - committed) * 1000)
                evaluate_ms.append((evaluated - committed) * 1000)
                deliver_ms.append((delivered - evaluated) * 1000)
            else:
                assert not new
        assert len(receiver.arrivals) == alerts

        payload = json.dumps(receiver.arrivals[-1][1]).encode()
        baseline = []
        with httpx.Client() as client:
            for _ in range(alerts):
                start = time.perf_counter()
                client.post(f"http://127.0.0.1:{receiver.port}/hook", content=payload)
                baseline.append((time.perf_counter() - start) * 1000)

        rules = 1 + extra_rules
        print(f"alerts: {alerts}, active rules: {rules}")
        print(f"first alert of the process (Apprise loads its plugins): {latencies[0]:.1f} ms")
        print(
            f"ingest commit -> receiver: median {statistics.median(latencies):.1f} ms, "
            f"p90 {pct(latencies, 0.9):.1f} ms, max {max(latencies):.1f} ms"
        )
        print(
            f"  of which evaluate_rules: median {statistics.median(evaluate_ms):.1f} ms, "
            f"deliver_pending (Apprise json:// POST): median {statistics.median(deliver_ms):.1f} ms"
        )
        print(
            f"baseline, bare HTTP POST to the receiver: median {statistics.median(baseline):.2f} ms"
        )
        engine.dispose()
    finally:
        server.stop()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
