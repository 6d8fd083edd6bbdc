"""``serve_and_run`` without a GPU: a stand-in ``vllm`` executable and ``nvidia-smi``.

The stand-in answers ``--version``, records the ``vllm serve`` command line
and the config.json it was given, starts a worker process in its own process
group (as vLLM's tensor-parallel workers are), then becomes the real fake
OpenAI server. That checks the wiring this machine can check: the command
line, dummy-weights config generation and the MoE refusal, waiting for
``/v1/models``, recording versions, and that the whole process group is gone
afterwards. Real vLLM speed is measured only on a GPU box (README).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from costcurve.benchmarks._vllm import VLLM_VERSION
from costcurve.benchmarks.job import DummyWeightsError, VllmError, serve_and_run
from costcurve.benchmarks.spec import Deployment, ServeSpec, Workload
from costcurve.core.benchmark_point import BenchmarkPoint
from db.models import BenchmarkResult

REPO = Path(__file__).resolve().parent.parent
FAKE_VLLM = """#!{python}
import json, os, subprocess, sys
args = sys.argv[1:]
if args == ["--version"]:
    print("INFO 11-22 10:00:00 some start-up log line")
    print(os.environ.get("FAKE_VLLM_VERSION", "{version}"))
    sys.exit(0)
if os.environ.get("FAKE_VLLM_CRASH"):
    print("torch.OutOfMemoryError: CUDA out of memory", flush=True)
    sys.exit(1)
opts = dict(zip(args[2::2], args[3::2]))
config = os.path.join(args[1], "config.json")
worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(os.environ["FAKE_VLLM_RECORD"], "w") as out:
    json.dump({{"argv": args, "config": json.load(open(config)), "pids": [os.getpid(), worker.pid],
               "pgid": os.getpgid(0)}}, out)
os.execv(sys.executable, [sys.executable, "-m", "costcurve.benchmarks.fake_server",
         "--port", opts["--port"],
         "--model", opts["--served-model-name"], "--ttft-ms", "5", "--itl-ms", "1"])
"""
FAKE_SMI = """#!/bin/sh
echo "NVIDIA H100 80GB HBM3, 550.54.15"
echo "NVIDIA H100 80GB HBM3, 550.54.15"
"""
WORK = Workload(16, 8, num_prompts=4, num_warmups=1)
LEVELS = (2,)


def run(engine: Engine, model: str, gpu: str, vllm_bin: Path, *, gpu_count: int = 1,
        dummy_config: Path | None = None,
        warn: Callable[[str], None] | None = None) -> list[BenchmarkPoint]:  # fmt: skip
    """serve_and_run of the small synthetic job every test here runs."""
    serve = ServeSpec(model, dummy_config=dummy_config, vllm_bin=str(vllm_bin),
                      start_timeout_s=30.0)  # fmt: skip
    deployment = Deployment(gpu, gpu_count, synthetic=True)
    return serve_and_run(engine, serve, deployment, WORK, LEVELS, warn=warn)


@pytest.fixture
def fake_vllm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    vllm = bin_dir / "vllm"
    vllm.write_text(FAKE_VLLM.format(python=sys.executable, version=VLLM_VERSION))
    (bin_dir / "nvidia-smi").write_text(FAKE_SMI)
    for exe in bin_dir.iterdir():
        exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("FAKE_VLLM_RECORD", str(tmp_path / "record.json"))
    return vllm


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has ended; only its exit status remains


@pytest.mark.slow
def test_serve_and_run_serves_dummy_weights_measures_and_stops_the_group(
    fake_vllm: Path, tmp_path: Path, engine: Engine
) -> None:
    warnings: list[str] = []
    points = run(
        engine, "meta-llama/Llama-3.1-8B-Instruct", "H100-SXM-80GB", fake_vllm, gpu_count=2,
        warn=warnings.append,
    )  # fmt: skip
    record = json.loads((tmp_path / "record.json").read_text())
    argv = record["argv"]
    assert argv[0] == "serve"
    assert argv[argv.index("--load-format") + 1] == "dummy"
    assert argv[argv.index("--tensor-parallel-size") + 1] == "2"
    assert argv[argv.index("--tokenizer") + 1] == "meta-llama/Llama-3.1-8B-Instruct"
    assert record["config"]["architectures"] == ["LlamaForCausalLM"]
    assert record["config"]["hidden_size"] == 4096
    assert record["pgid"] == record["pids"][0]  # vLLM leads a process group of its own

    (point,) = points
    assert point.dummy_weights
    assert point.synthetic
    assert point.completed == 4
    assert (point.engine_version, point.driver_version) == (VLLM_VERSION, "550.54.15")
    assert point.tensor_parallel_size == 2
    assert point.gpu_count == 2
    assert point.raw["weights"] == "dummy"
    assert "speed does not depend" in point.raw["weights_note"]
    assert point.raw["nvidia_smi_gpus"] == ["NVIDIA H100 80GB HBM3"] * 2
    assert warnings == []
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(BenchmarkResult)).scalar() == 1

    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in record["pids"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in record["pids"]), "vLLM or its worker outlived the run"


def test_a_mixture_of_experts_is_refused_with_dummy_weights(
    fake_vllm: Path, tmp_path: Path, engine: Engine
) -> None:
    mixtral = tmp_path / "mixtral.json"
    mixtral.write_text(
        json.dumps({"architectures": ["MixtralForCausalLM"], "num_local_experts": 8})
    )
    with pytest.raises(DummyWeightsError, match="num_local_experts"):
        run(engine, "my-moe", "H100-SXM-80GB", fake_vllm, dummy_config=mixtral)
    # A config that hides its experts is still caught by the catalog's parameter counts.
    dense_looking = tmp_path / "dense.json"
    dense_looking.write_text(json.dumps({"architectures": ["Qwen3NextForCausalLM"]}))
    with pytest.raises(DummyWeightsError, match="active of"):
        run(engine, "Qwen/Qwen3.5-397B-A17B", "H200-SXM-141GB", fake_vllm,
            dummy_config=dense_looking)  # fmt: skip
    with pytest.raises(DummyWeightsError, match=r"no built-in config\.json"):
        run(engine, "some/unknown-model", "H100-SXM-80GB", fake_vllm)
    assert not (tmp_path / "record.json").exists(), "vllm must not start for a refused run"


@pytest.mark.slow
def test_a_server_that_dies_at_start_is_reported_with_its_log(
    fake_vllm: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_VLLM_CRASH", "1")
    monkeypatch.setenv("FAKE_VLLM_VERSION", "0.1.0")
    warnings: list[str] = []
    with pytest.raises(VllmError, match="CUDA out of memory"):
        run(engine, "meta-llama/Llama-3.1-8B-Instruct", "H100-SXM-80GB", fake_vllm,
            warn=warnings.append)  # fmt: skip
    assert any(
        f"vllm 0.1.0 is installed but results are pinned to {VLLM_VERSION}" in w for w in warnings
    )
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(BenchmarkResult)).scalar() == 0


def test_missing_vllm_says_how_to_install_the_pinned_version(
    engine: Engine, tmp_path: Path
) -> None:
    with pytest.raises(VllmError, match=f"pip install vllm=={VLLM_VERSION}"):
        run(engine, "meta-llama/Llama-3.1-8B-Instruct", "H100-SXM-80GB",
            tmp_path / "no-such-vllm")  # fmt: skip


def test_serve_and_run_cli_rejects_weights_with_dummy() -> None:
    from typer.testing import CliRunner

    from costcurve.cli import app

    args = ["bench", "serve-and-run", "--model", "m", "--gpu", "H100-SXM-80GB"]
    result = CliRunner().invoke(app, [*args, "--weights", ".", "--dummy"])
    assert result.exit_code == 2
    assert "--weights and --dummy" in result.output
