from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from costcurve.benchmarks import BenchmarkFormatError, BenchmarkPoint, import_result_file
from tests.support import DATASETS

FOLDER = DATASETS / "benchmarks"


def result_files() -> list[Any]:
    if not FOLDER.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{FOLDER} is absent"))]
    return sorted(FOLDER.glob("*.json"))


FILES = result_files()


def name_of(path: Path | None) -> str:
    return path.name if path else "absent"


# What the files do not say, from their origin (datasets README and the
# InferenceX sbatch scripts beside the results: `-p h200`, `--tensor-parallel-size 8`).
SETUP: dict[str, dict[str, Any]] = {
    "inferencex": {"gpu": "H200-SXM-141GB", "gpu_count": 8},
    "lambdalabs": {"gpu": "H100-SXM-80GB", "gpu_count": 1},
}


def setup_for(path: Path) -> dict[str, Any]:
    return SETUP[path.name.split("_", 1)[0]]


def load(path: Path) -> BenchmarkPoint:
    points = import_result_file(path.read_bytes(), **setup_for(path))
    assert len(points) == 1
    return points[0]


def at(stamp: str, duration: float) -> datetime:
    return datetime.strptime(stamp, "%Y%m%d-%H%M%S").replace(tzinfo=UTC) - timedelta(
        seconds=duration
    )


# Values read from each file (InferenceX reports seconds: x 1000 -> ms).
EXPECTED: dict[str, dict[str, Any]] = {
    "inferencex_qwen35_vllm_tp8_isl1024_osl128_conc4.json": {
        "model_id": "Qwen/Qwen3.5-397B-A17B",
        "concurrency": 4,
        "num_prompts": 40,
        "completed": 40,
        "input_len": 1024,
        "output_len": 128,
        "total_input_tokens": 40960,
        "total_output_tokens": 5120,
        "duration": 75.69601165596396,
        "request_throughput": 0.5284294261340844,
        "output_throughput": 67.6389665451628,
        "median_ttft_ms": 4.567766260355711 * 1000,
        "p99_ttft_ms": 7.589122961498797 * 1000,
        "median_tpot_ms": 0.03230497395751748 * 1000,
        "p99_tpot_ms": 0.06304697274861079 * 1000,
        "median_e2el_ms": 6.794439172372222 * 1000,
        "p99_e2el_ms": 13.54499560632743 * 1000,
        "mean_ttft_ms": None,
        "median_itl_ms": None,
        "output_tokens_per_s_per_gpu": 67.6389665451628 / 8,
        "total_token_throughput": (40960 + 5120) / 75.69601165596396,
        "interactivity": 1000 / (0.03230497395751748 * 1000),
        "started_at": at("20260216-125027", 75.69601165596396),
    },
    "inferencex_qwen35_vllm_tp8_isl1024_osl128_conc16.json": {
        "concurrency": 16,
        "num_prompts": 160,
        "completed": 160,
        "total_input_tokens": 163840,
        "total_output_tokens": 20480,
        "duration": 59.84604913648218,
        "output_throughput": 342.2113956644697,
        "median_ttft_ms": 2.8395004882477224 * 1000,
        "median_tpot_ms": 0.01905804902579137 * 1000,
        "p99_tpot_ms": 0.03811084862277791 * 1000,
        "median_e2el_ms": 6.1921902927570045 * 1000,
        "output_tokens_per_s_per_gpu": 342.2113956644697 / 8,
        "started_at": at("20260216-125302", 59.84604913648218),
    },
    "inferencex_qwen35_vllm_tp8_isl1024_osl128_conc64.json": {
        "concurrency": 64,
        "num_prompts": 640,
        "completed": 640,
        "total_output_tokens": 81920,
        "duration": 182.13421905599535,
        "output_throughput": 449.7781933817418,
        "median_ttft_ms": 5.428644580300897 * 1000,
        "p99_ttft_ms": 13.585581564456225 * 1000,
        "median_tpot_ms": 0.10077818904042712 * 1000,
        "p99_e2el_ms": 25.890387213211508 * 1000,
        "started_at": at("20260216-125829", 182.13421905599535),
    },
    "lambdalabs_vllm-benchmark_1xH100_Llama-3.1-8B-FP8_len2048_prompt10_summary.json": {
        "model_id": "neuralmagic/Meta-Llama-3.1-8B-FP8",
        "engine": "vllm",
        "backend": "vllm",
        "gpu": "H100-SXM-80GB",
        "gpu_count": 1,
        "concurrency": None,
        "num_prompts": 10,
        "completed": 10,
        # ShareGPT run: mean actual lengths, 1369 / 10 and 442 / 10, rounded.
        "input_len": 137,
        "output_len": 44,
        "duration": 1.0679055179934949,
        "request_throughput": 9.364124289561836,
        "output_throughput": 413.89429359863317,
        "total_token_throughput": (1369 + 442) / 1.0679055179934949,
        "mean_ttft_ms": 44.16175780061167,
        "median_ttft_ms": 62.47698800143553,
        "p99_ttft_ms": 64.57043718444766,
        "mean_tpot_ms": 6.018531635219421,
        "median_tpot_ms": 5.198485823815636,
        "p99_tpot_ms": 9.263060682011433,
        "mean_itl_ms": 50.32475644418607,
        "median_itl_ms": 50.59480300405994,
        "p99_itl_ms": 51.87586423999164,
        # v0.5-era files spell E2EL "latency".
        "mean_e2el_ms": 290.35341650014743,
        "median_e2el_ms": 87.63665999867953,
        "p99_e2el_ms": 1030.5146967872863,
        "interactivity": 1000 / 5.198485823815636,
        "started_at": at("20240907-082634", 1.0679055179934949),
    },
}


@pytest.mark.parametrize("path", FILES, ids=name_of)
def test_import_reads_every_recorded_result_file(path: Path) -> None:
    point = load(path)
    assert point.engine == "vllm"
    assert point.gpu == setup_for(path)["gpu"]
    assert point.tensor_parallel_size == point.gpu_count == setup_for(path)["gpu_count"]
    assert point.raw == json.loads(path.read_bytes())
    assert point.started_at.tzinfo is not None
    assert point.completed == point.num_prompts
    assert point.synthetic is False
    assert point.dummy_weights is False
    assert point.median_ttft_ms is not None
    assert point.median_ttft_ms > 0
    assert point.median_tpot_ms is not None
    assert point.p99_tpot_ms is not None
    assert point.median_tpot_ms <= point.p99_tpot_ms
    assert point.output_tokens_per_s_per_gpu == point.output_throughput / point.gpu_count
    assert point.total_tokens_per_s_per_gpu == point.total_token_throughput / point.gpu_count
    assert path.name in EXPECTED, f"add the values of {path.name} to EXPECTED"


@pytest.mark.parametrize("path", FILES, ids=name_of)
def test_import_values_match_the_file_exactly(path: Path) -> None:
    point = load(path)
    for field, value in EXPECTED[path.name].items():
        assert getattr(point, field) == value, field


@pytest.mark.parametrize("path", FILES, ids=name_of)
def test_import_is_deterministic_and_round_trips_through_json(path: Path) -> None:
    point = load(path)
    assert load(path) == point
    assert BenchmarkPoint.model_validate_json(point.model_dump_json()) == point


def test_import_of_inferencex_sweep_gains_throughput_with_concurrency() -> None:
    files = sorted(FOLDER.glob("inferencex_*.json")) if FOLDER.is_dir() else []
    if not files:
        pytest.skip(f"no InferenceX files in {FOLDER}")
    points = sorted((load(p) for p in files), key=lambda p: p.concurrency or 0)
    assert [p.concurrency for p in points] == [4, 16, 64]
    tputs = [p.output_tokens_per_s_per_gpu for p in points]
    assert tputs == sorted(tputs)
    # Real data is not monotone per user: conc 4 decoded slower (32 ms TPOT) than 16 (19 ms).
    assert [round(p.interactivity or 0) for p in points] == [31, 52, 10]


@pytest.mark.parametrize("path", FILES, ids=name_of)
def test_import_arguments_win_over_what_the_file_implies(path: Path) -> None:
    point = import_result_file(
        path.read_bytes(),
        gpu="B200-SXM-180GB",
        gpu_count=2,
        tensor_parallel_size=2,
        engine="sglang",
        engine_version="0.5.1",
        driver_version="570.86.15",
        input_len=1000,
        output_len=100,
        range_ratio=0.8,
        started_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        dummy_weights=True,
        synthetic=True,
    )[0]
    assert (point.gpu, point.gpu_count, point.tensor_parallel_size) == ("B200-SXM-180GB", 2, 2)
    assert (point.engine, point.engine_version, point.driver_version) == (
        "sglang",
        "0.5.1",
        "570.86.15",
    )
    assert (point.input_len, point.output_len, point.range_ratio) == (1000, 100, 0.8)
    assert point.started_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert point.dummy_weights
    assert point.synthetic
    assert point.output_tokens_per_s_per_gpu == point.output_throughput / 2


@pytest.mark.parametrize("path", FILES, ids=name_of)
def test_import_without_gpu_or_gpu_count_says_what_to_pass(path: Path) -> None:
    with pytest.raises(BenchmarkFormatError, match="pass gpu="):
        import_result_file(path.read_bytes(), gpu=None, gpu_count=1)
    with pytest.raises(BenchmarkFormatError, match="pass gpu_count="):
        import_result_file(path.read_bytes(), gpu="H100-SXM-80GB")


@pytest.mark.parametrize("path", FILES, ids=name_of)
def test_import_reads_metadata_written_into_the_file(path: Path) -> None:
    doc = json.loads(path.read_bytes())
    # What `benchmark_serving --metadata gpu=... tp=8 ...` adds (strings).
    doc |= {"gpu": "H100-SXM-80GB", "tp": "8", "random_input_len": "2048", "engine": "vllm"}
    point = import_result_file(json.dumps(doc).encode(), gpu=None)[0]
    assert (point.gpu, point.gpu_count, point.tensor_parallel_size) == ("H100-SXM-80GB", 8, 8)
    assert point.input_len == 2048


@pytest.mark.parametrize("path", FILES, ids=name_of)
def test_import_reads_arrays_and_json_lines_of_results(path: Path) -> None:
    doc = json.loads(path.read_bytes())
    lines = (json.dumps(doc) + "\n" + json.dumps(doc) + "\n").encode()
    array = json.dumps([doc, doc, doc]).encode()
    assert len(import_result_file(lines, **setup_for(path))) == 2
    assert len(import_result_file(array, **setup_for(path))) == 3


@pytest.mark.parametrize("path", FILES, ids=name_of)
def test_import_of_a_truncated_result_names_the_missing_keys(path: Path) -> None:
    doc = json.loads(path.read_bytes())
    del doc["duration"], doc["completed"]
    with pytest.raises(BenchmarkFormatError, match="missing completed, duration"):
        import_result_file(json.dumps(doc).encode(), **setup_for(path))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "expected a benchmark result JSON"),
        (b"<html><body>Just a moment...</body></html>", "expected a benchmark result JSON"),
        (b"\xff\xfe\x00", "UTF-8"),
        (b"[]", "no benchmark result"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"data": []}', "not a vLLM benchmark_serving result"),
        (
            json.dumps(
                {"hw": "h100", "tp": 8, "conc": 4, "tput_per_gpu": 1.0, "median_ttft": 0.1}
            ).encode(),
            "aggregated InferenceX row",
        ),
    ],
    ids=["empty", "html", "binary", "empty-array", "not-objects", "other-json", "inferencex-agg"],
)
def test_import_rejects_what_is_not_a_serving_result(raw: bytes, message: str) -> None:
    with pytest.raises(BenchmarkFormatError, match=message):
        import_result_file(raw, gpu="H100-SXM-80GB", gpu_count=1)


def test_benchmark_format_error_is_a_value_error() -> None:
    assert issubclass(BenchmarkFormatError, ValueError)


@pytest.mark.parametrize("path", FILES, ids=name_of)
def test_point_model_is_strict(path: Path) -> None:
    fields = load(path).model_dump()
    with pytest.raises(ValueError, match="extra"):
        BenchmarkPoint(**fields, surprise=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="interactivity"):
        BenchmarkPoint(**(fields | {"interactivity": 1.0}))
    with pytest.raises(ValueError, match="output_tokens_per_s_per_gpu"):
        BenchmarkPoint(**(fields | {"output_tokens_per_s_per_gpu": 1.0}))
    with pytest.raises(ValueError, match="timezone-aware"):
        BenchmarkPoint(**(fields | {"started_at": datetime(2026, 1, 1)}))
    with pytest.raises(ValueError, match="exceeds num_prompts"):
        BenchmarkPoint(**(fields | {"completed": fields["num_prompts"] + 1}))
    assert BenchmarkPoint(**fields).latency("tpot", "p99") == fields["p99_tpot_ms"]
