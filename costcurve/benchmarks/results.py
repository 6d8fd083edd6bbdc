"""One measured serving-benchmark point, and import of recorded result JSON.

Field names follow vLLM's ``benchmark_serving`` result JSON (``median_ttft_ms``,
``output_throughput``, ``max_concurrency`` -> ``concurrency``) so a point and
the file it came from can be read side by side. Latencies are milliseconds,
throughputs tokens (or requests) per second over the whole run.

Formats read by :func:`import_result_file` (see ``benchmarks/_result_formats.py``):

* vLLM ``benchmark_serving.py`` / ``vllm bench serve --save-result`` JSON
  (``*_ms`` keys; the v0.5-era ``*_latency_ms`` spelling of E2EL included);
* the InferenceX fork's summaries, which report the same statistics in
  seconds without the ``_ms`` suffix (``median_ttft``, ``p99_tpot``, ...);
* either of those as a JSON array or as JSON lines (``--append-result``).
"""

from __future__ import annotations

from typing import Any

from costcurve.core.benchmark_point import BenchmarkPoint


class BenchmarkFormatError(ValueError):
    """The bytes are not a benchmark result this module knows how to read."""


def import_result_file(
    raw: bytes,
    *,
    gpu: str | None,
    gpu_count: int | None = None,
    tensor_parallel_size: int | None = None,
    engine: str | None = None,
    engine_version: str | None = None,
    driver_version: str | None = None,
    input_len: int | None = None,
    output_len: int | None = None,
    range_ratio: float | None = None,
    started_at: Any = None,
    dummy_weights: bool = False,
    synthetic: bool = False,
) -> list[BenchmarkPoint]:
    """Read a vLLM/InferenceX serving-benchmark result file into points.

    Keyword arguments say what the file does not (the GPU, how many, the
    engine version); a value given here wins over the same key written into
    the file with vLLM's ``--metadata KEY=VALUE``. Raises
    :class:`BenchmarkFormatError` for anything that is not such a result, or
    when the GPU or GPU count is known neither from the file nor the caller.
    """
    from costcurve.benchmarks._result_formats import documents, point_fields

    overrides: dict[str, Any] = {
        "gpu": gpu,
        "gpu_count": gpu_count,
        "tensor_parallel_size": tensor_parallel_size,
        "engine": engine,
        "engine_version": engine_version,
        "driver_version": driver_version,
        "input_len": input_len,
        "output_len": output_len,
        "range_ratio": range_ratio,
        "started_at": started_at,
    }
    points = []
    for index, doc in enumerate(documents(raw)):
        fields = point_fields(doc, index=index, overrides=overrides)
        fields.update(dummy_weights=dummy_weights, synthetic=synthetic)
        try:
            points.append(BenchmarkPoint(**fields))
        except ValueError as exc:
            raise BenchmarkFormatError(f"result #{index}: invalid values: {exc}") from exc
    return points
