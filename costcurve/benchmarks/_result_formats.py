"""Readers for recorded serving-benchmark result JSON (used by benchmarks.results)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from costcurve.benchmarks.results import BenchmarkFormatError
from costcurve.core.benchmark_point import _METRICS, _STATS

# Values of vLLM's ``backend`` key that name a serving engine (the others,
# "openai" and "openai-chat", only name the HTTP API).
_ENGINE_BACKENDS = {"vllm", "sglang", "tgi", "lmdeploy", "tensorrt-llm", "deepspeed-mii"}
_REQUIRED = (
    "model_id",
    "num_prompts",
    "completed",
    "duration",
    "total_input_tokens",
    "total_output_tokens",
    "request_throughput",
    "output_throughput",
)


def documents(raw: bytes) -> Iterator[dict[str, Any]]:
    """Result objects in a file: one object, an array of them, or JSON lines."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BenchmarkFormatError(f"expected UTF-8 JSON, got undecodable bytes: {exc}") from exc
    try:
        docs: list[Any] = [json.loads(text)]
    except json.JSONDecodeError as exc:
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            docs = [json.loads(line) for line in lines]
        except json.JSONDecodeError:
            raise BenchmarkFormatError(
                f"expected a benchmark result JSON object, array or JSON lines: {exc}"
            ) from exc
        if len(docs) < 2:
            raise BenchmarkFormatError(f"expected a benchmark result JSON object: {exc}") from exc
    if len(docs) == 1 and isinstance(docs[0], list):
        docs = docs[0]
    if not docs:
        raise BenchmarkFormatError("the file holds no benchmark result")
    for index, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise BenchmarkFormatError(
                f"result #{index}: expected a JSON object, got {type(doc).__name__}"
            )
        yield doc


def _unit_scale(doc: dict[str, Any], index: int) -> tuple[str, float]:
    """Key suffix of the latency statistics and the factor that turns them into ms."""
    if any(f"median_{m}_ms" in doc for m in _METRICS) or "median_latency_ms" in doc:
        return "_ms", 1.0
    if "median_ttft" in doc and "median_tpot" in doc:
        return "", 1000.0
    if "tput_per_gpu" in doc and "hw" in doc:
        raise BenchmarkFormatError(
            f"result #{index}: an aggregated InferenceX row (hw, tput_per_gpu) has no "
            "input/output lengths or run duration; import the benchmark_serving result it "
            "was made from"
        )
    keys = ", ".join(sorted(doc)[:12])
    raise BenchmarkFormatError(
        f"result #{index}: not a vLLM benchmark_serving result: expected median_ttft_ms "
        f"(vLLM) or median_ttft/median_tpot in seconds (InferenceX); keys: {keys}"
    )


def _number(doc: dict[str, Any], key: str, index: int) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BenchmarkFormatError(f"result #{index}: {key} should be a number, got {value!r}")
    return float(value)


def _int(doc: dict[str, Any], key: str, index: int) -> int:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BenchmarkFormatError(f"result #{index}: {key} should be an integer, got {value!r}")
    return value


def _metadata(doc: dict[str, Any], *keys: str) -> Any:
    """First non-empty value of ``keys`` (vLLM --metadata values are strings)."""
    for key in keys:
        value = doc.get(key)
        if value not in (None, ""):
            return value
    return None


def _as_int(value: Any, what: str, index: int) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise BenchmarkFormatError(f"result #{index}: {what} is not an integer: {value!r}") from exc


def _started_at(doc: dict[str, Any], duration: float, index: int) -> datetime:
    if iso := doc.get("started_at"):
        try:
            parsed = datetime.fromisoformat(str(iso))
        except ValueError as exc:
            raise BenchmarkFormatError(f"result #{index}: bad started_at {iso!r}") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    stamp = doc.get("date")
    if not isinstance(stamp, str):
        raise BenchmarkFormatError(
            f"result #{index}: no 'date' in the file; pass started_at to say when it ran"
        )
    try:
        finished = datetime.strptime(stamp, "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise BenchmarkFormatError(
            f"result #{index}: date {stamp!r} is not YYYYMMDD-HHMMSS"
        ) from exc
    # benchmark_serving stamps the file after the run (with the host's clock,
    # UTC on the clusters these come from), so the run began `duration` earlier.
    return finished - timedelta(seconds=duration)


def _engine(doc: dict[str, Any]) -> str:
    if named := _metadata(doc, "engine"):
        return str(named)
    backend = doc.get("backend")
    if isinstance(backend, str) and backend.lower() in _ENGINE_BACKENDS:
        return backend.lower()
    # Both formats are vLLM's benchmark_serving (or InferenceX's fork of it run
    # against vLLM); a caller benchmarking another engine passes engine=.
    return "vllm"


def point_fields(doc: dict[str, Any], *, index: int, overrides: dict[str, Any]) -> dict[str, Any]:
    """BenchmarkPoint keyword arguments for one result object."""
    suffix, scale = _unit_scale(doc, index)
    missing = [key for key in _REQUIRED if key not in doc]
    if missing:
        raise BenchmarkFormatError(f"result #{index}: missing {', '.join(missing)}")

    def pick(name: str, *keys: str) -> Any:
        given = overrides.get(name)
        return given if given is not None else _metadata(doc, *keys)

    gpu = pick("gpu", "gpu")
    if gpu is None:
        raise BenchmarkFormatError(
            f"result #{index}: the file does not name the GPU; pass gpu= (e.g. 'H100-SXM-80GB')"
        )
    tp = _as_int(pick("tensor_parallel_size", "tensor_parallel_size", "tp"), "tp", index)
    pp = _as_int(pick("pipeline_parallel_size", "pipeline_parallel_size", "pp"), "pp", index)
    gpu_count = _as_int(pick("gpu_count", "gpu_count"), "gpu_count", index) or (
        tp * (pp or 1) if tp else None
    )
    if gpu_count is None:
        raise BenchmarkFormatError(
            f"result #{index}: the file does not say how many GPUs served it; pass gpu_count="
        )

    duration = _number(doc, "duration", index)
    completed = _int(doc, "completed", index)
    total_in = _int(doc, "total_input_tokens", index)
    total_out = _int(doc, "total_output_tokens", index)
    if not duration or duration <= 0 or completed < 1:
        raise BenchmarkFormatError(
            f"result #{index}: an empty run (duration={duration}, completed={completed})"
        )
    total_tput = _number(doc, "total_token_throughput", index)
    if total_tput is None:
        # v0.5-era and InferenceX files predate the key; same definition as vLLM's.
        total_tput = (total_in + total_out) / duration

    input_len = _as_int(pick("input_len", "random_input_len", "input_len"), "input_len", index)
    output_len = _as_int(pick("output_len", "random_output_len", "output_len"), "output_len", index)
    ratio = pick("range_ratio", "random_range_ratio", "range_ratio")
    max_conc = doc.get("max_concurrency")

    fields: dict[str, Any] = {
        "model_id": doc["model_id"],
        "engine": overrides.get("engine") or _engine(doc),
        "backend": doc.get("backend"),
        "engine_version": pick("engine_version", "engine_version"),
        "gpu": gpu,
        "gpu_count": gpu_count,
        "tensor_parallel_size": tp or gpu_count // (pp or 1),
        "pipeline_parallel_size": pp or 1,
        "driver_version": pick("driver_version", "driver_version"),
        # Mean actual lengths stand in when the nominal ones were not recorded.
        "input_len": input_len or max(1, round(total_in / completed)),
        "output_len": output_len or max(1, round(total_out / completed)),
        "range_ratio": float(ratio) if ratio is not None else None,
        "concurrency": _as_int(max_conc, "max_concurrency", index),
        "num_prompts": _int(doc, "num_prompts", index),
        "completed": completed,
        "total_input_tokens": total_in,
        "total_output_tokens": total_out,
        "duration": duration,
        "request_throughput": _number(doc, "request_throughput", index),
        "output_throughput": _number(doc, "output_throughput", index),
        "total_token_throughput": total_tput,
        "started_at": overrides.get("started_at") or _started_at(doc, duration, index),
        "raw": doc,
    }
    for metric in _METRICS:
        for stat in _STATS:
            value = _number(doc, f"{stat}_{metric}{suffix}", index)
            if value is None and metric == "e2el":
                value = _number(doc, f"{stat}_latency{suffix}", index)
            fields[f"{stat}_{metric}_ms"] = value * scale if value is not None else None
    return fields
