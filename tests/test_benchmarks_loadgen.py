"""The load generator against a real local streaming server whose timing is known.

Tolerances (2-core CI machine, client and server on the same CPUs, other tests
in parallel; load only adds delay, so they are asymmetric): median TTFT within
-10/+50 ms of the configured 80 ms, median ITL and TPOT within -3/+12 ms of
20 ms, E2EL within -15/+120 ms, output throughput within 20 % of
concurrency x output_len / measured E2EL.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from costcurve.benchmarks import BenchmarkPoint, import_result_file
from costcurve.benchmarks.fake_server import running_fake_server
from costcurve.benchmarks.loadgen import (
    BenchmarkRunError,
    benchmark_serving,
    default_num_prompts,
    length_bounds,
    percentile,
    run_sweep,
    sample_requests,
)
from costcurve.benchmarks.spec import Deployment, SweepSpec, Workload
from tests.support import assert_timing

TTFT_MS, ITL_MS = 80.0, 20.0
INPUT_LEN, OUTPUT_LEN = 32, 16
PROMPTS = {1: 8, 4: 12}


def spec(endpoint: str, model: str, *, gpu: str = "H100-SXM-80GB", levels: tuple[int, ...] = (1,),
         range_ratio: float = 1.0, **workload: Any) -> SweepSpec:  # fmt: skip
    """A synthetic sweep against the fake server (fixed lengths unless range_ratio says)."""
    return SweepSpec(
        endpoint,
        model,
        Deployment(gpu, synthetic=True),
        Workload(range_ratio=range_ratio, **workload),
        levels,
    )


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_fake_server(ttft_ms=TTFT_MS, itl_ms=ITL_MS) as url:
        yield url


@pytest.fixture(scope="module")
def sweep(server: str) -> dict[int, BenchmarkPoint]:
    async def run() -> dict[int, BenchmarkPoint]:
        out = {}
        for conc, n in PROMPTS.items():
            # One sweep call per level only to vary num_prompts; run_sweep is what the flow calls.
            [point] = await run_sweep(
                spec(
                    server,
                    "fake-model",
                    levels=(conc,),
                    input_len=INPUT_LEN,
                    output_len=OUTPUT_LEN,
                    num_prompts=n,
                    num_warmups=conc,
                )
            )
            out[conc] = point
        return out

    return asyncio.run(run())


# --- sampling and statistics ---------------------------------------------------------


def test_range_ratio_follows_inferencemax_by_default() -> None:
    assert length_bounds(1024, 0.8, "inferencemax") == (819, 1024)
    assert length_bounds(128, 1.0, "inferencemax") == (128, 128)
    reqs = sample_requests(2000, 100, 50, seed=1)
    assert {r.prompt_len for r in reqs} == set(range(80, 101))
    assert {r.output_len for r in reqs} == set(range(40, 51))
    assert all(len(r.prompt.split()) == r.prompt_len for r in reqs)


def test_range_ratio_can_follow_current_vllm() -> None:
    assert length_bounds(1024, 0.8, "vllm") == (204, 1844)
    assert length_bounds(128, 0.0, "vllm") == (128, 128)
    assert length_bounds(1, 0.9, "vllm") == (1, 2)
    reqs = sample_requests(2000, 100, 10, range_ratio=0.5, range_mode="vllm", seed=2)
    assert {r.prompt_len for r in reqs} == set(range(50, 151))
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        length_bounds(100, 1.0, "vllm")
    with pytest.raises(ValueError, match="InferenceMAX"):
        length_bounds(100, 1.5, "inferencemax")


def test_sampling_is_seeded_and_prompts_differ() -> None:
    a = sample_requests(50, 64, 8, seed=7)
    assert a == sample_requests(50, 64, 8, seed=7)
    assert a != sample_requests(50, 64, 8, seed=8)
    assert len({r.prompt for r in a}) == 50


def test_default_num_prompts_is_ten_per_slot_at_least_fifty() -> None:
    assert [default_num_prompts(c) for c in (1, 4, 5, 64)] == [50, 50, 50, 640]


def test_percentile_interpolates_linearly_like_numpy() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 99) == pytest.approx(3.97)
    assert percentile([5.0], 99) == 5.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0


# --- end to end against the fake server ------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("conc", sorted(PROMPTS))
def test_loadgen_measures_the_servers_configured_latency(
    sweep: dict[int, BenchmarkPoint], conc: int
) -> None:
    p = sweep[conc]
    assert p.concurrency == conc
    assert p.num_prompts == p.completed == PROMPTS[conc]
    assert p.total_output_tokens == PROMPTS[conc] * OUTPUT_LEN
    assert p.total_input_tokens == PROMPTS[conc] * INPUT_LEN
    assert_timing(p.median_ttft_ms, TTFT_MS, early=10, late=50)
    assert_timing(p.median_itl_ms, ITL_MS, early=3, late=12)
    assert_timing(p.median_tpot_ms, ITL_MS, early=3, late=12)
    assert_timing(p.median_e2el_ms, TTFT_MS + (OUTPUT_LEN - 1) * ITL_MS, early=15, late=120)
    assert p.median_tpot_ms is not None
    assert p.interactivity == pytest.approx(1000 / p.median_tpot_ms)
    assert p.synthetic
    assert not p.dummy_weights
    assert (p.input_len, p.output_len, p.range_ratio) == (INPUT_LEN, OUTPUT_LEN, 1.0)


@pytest.mark.slow
@pytest.mark.parametrize("conc", sorted(PROMPTS))
def test_loadgen_throughput_matches_concurrency_over_latency(
    sweep: dict[int, BenchmarkPoint], conc: int
) -> None:
    p = sweep[conc]
    assert p.mean_e2el_ms is not None
    expected = conc * OUTPUT_LEN / (p.mean_e2el_ms / 1000)
    assert p.output_throughput == pytest.approx(expected, rel=0.20)
    assert p.output_tokens_per_s_per_gpu == p.output_throughput
    assert p.request_throughput == pytest.approx(p.completed / p.duration)


@pytest.mark.slow
def test_loadgen_result_is_vllm_json_that_imports_to_the_same_point(
    sweep: dict[int, BenchmarkPoint],
) -> None:
    p = sweep[4]
    assert p.raw["max_concurrency"] == 4
    assert p.raw["backend"] == "openai"
    assert p.raw["median_ttft_ms"] == p.median_ttft_ms
    again = import_result_file(json.dumps(p.raw).encode(), gpu=None, synthetic=True)
    assert again == [p]


@pytest.mark.slow
def test_loadgen_streams_chat_completions(server: str) -> None:
    p = asyncio.run(
        benchmark_serving(
            spec(
                server,
                "fake-model",
                api="chat",
                input_len=8,
                output_len=4,
                num_prompts=2,
                num_warmups=0,
            ),
            2,
        )
    )
    assert p.completed == 2
    assert p.total_output_tokens == 8
    assert p.backend == "openai-chat"
    # Asymmetric: the server sleeps TTFT_MS first, and a loaded machine only adds delay.
    assert p.median_ttft_ms is not None
    assert TTFT_MS - 5 <= p.median_ttft_ms <= TTFT_MS + 2000


@pytest.mark.slow
def test_fake_server_handles_256_concurrent_streams(server: str) -> None:
    p = asyncio.run(
        benchmark_serving(
            spec(server, "fake-model", input_len=8, output_len=4, num_prompts=256, num_warmups=0),
            256,
        )
    )
    assert p.completed == 256
    assert p.total_output_tokens == 256 * 4


def test_loadgen_fails_clearly_when_nothing_listens() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BenchmarkRunError, match="warm-up failed"):
        asyncio.run(
            benchmark_serving(
                spec(f"http://127.0.0.1:{port}", "m", gpu="x", input_len=4, output_len=2), 1
            )
        )
    with pytest.raises(BenchmarkRunError, match="every request"):
        asyncio.run(
            benchmark_serving(
                spec(
                    f"http://127.0.0.1:{port}/v1",
                    "m",
                    gpu="x",
                    input_len=4,
                    output_len=2,
                    num_prompts=2,
                    num_warmups=0,
                ),
                1,
            )
        )


# --- the fake server itself ------------------------------------------------------------


def _events(client: httpx.Client, url: str, body: dict[str, Any]) -> list[Any]:
    with client.stream("POST", url, json=body) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        data = [line[6:] for line in resp.iter_lines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    return [json.loads(d) for d in data[:-1]]


@pytest.mark.slow
def test_fake_server_streams_one_token_per_chunk_then_usage(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10, trust_env=False) as client:
        models = client.get("/v1/models").json()
        assert models["data"][0]["id"] == "fake-model"
        body = {"model": "m", "prompt": "one two three", "max_tokens": 5, "stream": True}
        events = _events(client, "/v1/completions", body)
        tokens = [e["choices"][0]["text"] for e in events if e["choices"]]
        assert len(tokens) == 5
        assert [e["choices"][0]["finish_reason"] for e in events[:5]] == [None] * 4 + ["length"]
        assert events[-1]["usage"] == {
            "prompt_tokens": 3,
            "completion_tokens": 5,
            "total_tokens": 8,
        }
        assert len({e["id"] for e in events}) == 1
        chat = {"messages": [{"role": "user", "content": "a b"}], "max_tokens": 2, "stream": True}
        events = _events(client, "/v1/chat/completions", chat)
        assert [e["choices"][0]["delta"]["content"] for e in events[:2]] == [" w0", " w1"]
        assert events[-1]["usage"]["completion_tokens"] == 2
        whole = client.post("/v1/completions", json={"prompt": "x", "max_tokens": 3}).json()
        assert whole["choices"][0]["text"] == " w0 w1 w2"


@pytest.mark.slow
def test_fake_server_rejects_bad_requests(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10, trust_env=False) as client:
        bad = client.post("/v1/completions", json={"prompt": "x", "max_tokens": 0})
        assert bad.status_code == 400
        assert "max_tokens" in bad.json()["error"]["message"]
        assert client.post("/v1/completions", content=b"not json").status_code == 400
        assert client.post("/v1/chat/completions", json={"messages": []}).status_code == 400
        assert client.get("/v1/completions").status_code == 405
        assert client.get("/nope").status_code == 404


@pytest.mark.slow
def test_fake_server_stops_at_eos_unless_ignore_eos() -> None:
    with (
        running_fake_server(ttft_ms=0, itl_ms=0, eos_after=3) as url,
        httpx.Client(base_url=url, timeout=10, trust_env=False) as client,
    ):
        body = {"prompt": "x", "max_tokens": 10, "stream": True}
        events = _events(client, "/v1/completions", body)
        assert events[-1]["usage"]["completion_tokens"] == 3
        assert events[2]["choices"][0]["finish_reason"] == "stop"
        events = _events(client, "/v1/completions", body | {"ignore_eos": True})
        assert events[-1]["usage"]["completion_tokens"] == 10


@pytest.mark.slow
def test_running_fake_server_stops_the_process_even_when_the_block_raises() -> None:
    # The block under test is the context manager's body, so it holds two statements.
    with pytest.raises(RuntimeError, match="boom"), running_fake_server(ttft_ms=0, itl_ms=0) as url:  # noqa: PT012
        assert httpx.get(f"{url}/health", timeout=5, trust_env=False).status_code == 200
        raise RuntimeError("boom")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/health", timeout=2, trust_env=False)
