"""The self-hosting figures of issue 18's closing note, from the shipped data.

Starts an embedded PostgreSQL in a temporary directory, migrates it, ingests
recorded GPU rates (RunPod 2026-08-05) and API prices (OpenRouter 2026-08-03)
from ../shared/fixtures, imports every shipped benchmark result from
../shared/datasets/benchmarks, then asks the real app (in-process ASGI) for
``/v1/self-hosted`` and a break-even table. None of the shipped benchmarks is
a throughput reference, so the table's throughputs are stated assumptions
(``tokens_per_s_per_gpu``), printed beside each row. Takes about a minute.

    .venv/bin/python bench/selfhost_figures.py
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient

from api.main import create_app
from costcurve.benchmarks.results import import_result_file
from db.benchmarks import store_points
from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.migrate import upgrade
from db.pipeline import ingest_raw
from tests.support import DATASETS, FIXTURES, observed_at_for

# (model, GPU, precision, assumed total tok/s per GPU, where the assumption comes from)
TABLE = (
    ("llama-3.1-8b-instruct", "H100-SXM-80GB", "bf16", 5000,
     "issue 18: saturated H100 runs give $0.07-0.37/M output at $2-4/h"),
    ("llama-3.3-70b-instruct", "H100-SXM-80GB", "fp8", 3000,
     "seed 003: Llama 3.3 70B on H100, ~2,000-4,000 tok/s batched"),
    ("qwen3.5-397b-a17b", "H200-SXM-141GB", "fp8", 2000,
     "seed 003: 405B-class on 8 GPUs, 40-60B tokens/month (~2,400 tok/s/GPU)"),
)  # fmt: skip
VOLUMES = (1e9, 1e10, 1e11)
SETUP = {"inferencex": ("H200-SXM-141GB", 8), "lambdalabs": ("H100-SXM-80GB", 1)}


def load(engine: Any) -> None:
    for source, day in (("runpod", "2026-08-05"), ("openrouter", "2026-08-03")):
        [path] = [p for p in (FIXTURES / source).iterdir() if day in p.name]
        ingest_raw(engine, source, path.read_bytes(), observed_at=observed_at_for(path))
    for path in sorted((DATASETS / "benchmarks").glob("*.json")):
        gpu, count = SETUP[path.name.split("_", 1)[0]]
        store_points(engine, import_result_file(path.read_bytes(), gpu=gpu, gpu_count=count))


def self_hosted(client: TestClient) -> None:
    body = client.get("/v1/self-hosted").json()
    print("## /v1/self-hosted")
    for sweep in body["headlines"] + body["not_representative"]:
        print(
            f"- {sweep['model_id']} on {sweep['gpu_count']}x {sweep['gpu']} "
            f"(TP{sweep['tensor_parallel_size']}, ISL/OSL {sweep['input_len']}/"
            f"{sweep['output_len']}, concurrency {sweep['concurrencies']}, prompts "
            f"{sweep['num_prompts']}): {sweep['verdict']}: {sweep['verdict_reason']}"
        )
    for item in body["items"]:
        cost = item["costs"]["on_demand"]
        print(
            f"  point {item['model_id']} conc {item['concurrency']}: "
            f"{item['output_tokens_per_s_per_gpu']} out tok/s/GPU, on-demand "
            f"{cost['usd_per_gpu_hour']} $/h -> {cost['output_usd_per_mtok']} $/M output "
            f"(not a headline)"
        )


def breakeven_table(client: TestClient) -> None:
    print("\n## /v1/breakeven (on-demand and owned; utilisation 1.0, always on)")
    print("| model | GPU | basis | tok/s/GPU (assumed) | volume | gpus | self-host $/mo |"
          " API $/M (provider) | API $/mo | cheaper | break-even tokens/mo |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for model, gpu, precision, tps, why in TABLE:
        for pricing in ("on_demand", "owned"):
            for volume in VOLUMES:
                params = {"model": model, "gpu": gpu, "monthly_tokens": volume,
                          "precision": precision, "tokens_per_s_per_gpu": tps,
                          "pricing": pricing}  # fmt: skip
                resp = client.get("/v1/breakeven", params=params)
                if resp.status_code != 200:
                    print(f"| {model} | {gpu} | {pricing} | {tps} | {volume:.0e} | "
                          f"{resp.json()['detail']} |")  # fmt: skip
                    continue
                b = resp.json()
                sh, api = b["self_hosted"], b["api"]
                rate = sh["rate"]
                be = b["breakeven_monthly_tokens"]
                print(
                    f"| {model} | {sh['gpus_per_replica']}x {gpu} | {pricing} "
                    f"${rate['usd_per_gpu_hour']}/h ({rate.get('provider', rate['source'])}) | "
                    f"{tps} | {volume:.0e} | {sh['gpus']} | {sh['usd_per_month']:,.0f} | "
                    f"{api['usd_per_mtok']} ({api['provider']}) | {api['usd_per_month']:,.0f} | "
                    f"{b['cheaper']} | {'none' if be is None else f'{be:.3g}'} |"
                )
        print(f"<!-- {model}: {why} -->")


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="costcurve-figures-"))
    server = EmbeddedPostgres(base, cleanup_mode="delete")
    try:
        server.ensure_database("figures")
        upgrade(server.url("figures"))
        engine = make_engine(server.url("figures"))
        load(engine)
        with TestClient(create_app(engine)) as client:
            self_hosted(client)
            breakeven_table(client)
            sample = client.get("/v1/breakeven", params={"model": "qwen3.5-397b-a17b",
                                "gpu": "H200-SXM-141GB", "monthly_tokens": 1e9}).json()  # fmt: skip
            print("\n/v1/breakeven qwen3.5-397b-a17b, no throughput given:", json.dumps(sample))
        engine.dispose()
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
