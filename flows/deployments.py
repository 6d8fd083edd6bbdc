"""The deployments: one list for production (``prefect.yaml``) and ``costcurve up``.

``prefect.yaml`` is what ``prefect deploy --all`` reads for the work pools;
``costcurve up`` serves the same deployments from this list on the same cron
schedules (tests/test_flows_deployments.py keeps the two equal). Times are UTC.

* ``process`` pool: everything that needs a CPU only;
* ``gpu`` pool: ``gpu-benchmarks``, on workers that have the GPUs.
"""

from __future__ import annotations

import importlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROCESS_POOL = "process"
GPU_POOL = "gpu"
SCRAPES = ("scrape-llm-prices", "scrape-gpu-rates")


@dataclass(frozen=True)
class DeploymentSpec:
    name: str  # also the flow's name: `prefect deployment run NAME/NAME`
    entrypoint: str  # path/to/file.py:function, as prefect.yaml writes it
    cron: str | None
    work_pool: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def module(self) -> str:
        path, _ = self.entrypoint.split(":")
        return path.removesuffix(".py").replace("/", ".")

    @property
    def function(self) -> str:
        return self.entrypoint.split(":")[1]

    def load_flow(self) -> Any:
        return getattr(importlib.import_module(self.module), self.function)


DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        "scrape-llm-prices",
        "flows/scrape.py:scrape_llm_prices",
        # Provider price pages change a few times a month; four looks a day is polite.
        "15 */6 * * *",
        PROCESS_POOL,
        "Every LLM API price source: fetch, parse, version; then alerts and curves.",
    ),
    DeploymentSpec(
        "scrape-gpu-rates",
        "flows/scrape.py:scrape_gpu_rates",
        # Marketplace and spot rates move within a day.
        "45 * * * *",
        PROCESS_POOL,
        "Every GPU rental rate source: fetch, parse, version; then alerts and curves.",
    ),
    DeploymentSpec(
        "evaluate-alerts",
        "flows/evaluate.py:evaluate_alerts",
        # Also runs after every ingest; this schedule sends deliveries due for a retry.
        "*/15 * * * *",
        PROCESS_POOL,
        "Evaluate alert rules against the versioned prices and deliver notifications.",
    ),
    DeploymentSpec(
        "refresh-analytics",
        "flows/analytics.py:refresh_analytics",
        # Also runs after every ingest; nightly as a backstop.
        "30 3 * * *",
        PROCESS_POOL,
        "Recompute the precomputed cost curves.",
    ),
    DeploymentSpec(
        "publish-gpu-index",
        "flows/gpu_index.py:publish_gpu_index",
        # Hourly prints close on the hour; run after the :45 GPU-rate scrape.
        "55 * * * *",
        PROCESS_POOL,
        "Store the GPU index prints of recently closed periods (new or revised).",
    ),
    DeploymentSpec(
        "backfill",
        "flows/backfill.py:backfill",
        None,  # on demand, with a dataset parameter
        PROCESS_POOL,
        "Version a price history dataset: openrouterlist, genai-prices, litellm or reference.",
        {"dataset": "reference"},
    ),
    DeploymentSpec(
        "gpu-benchmarks",
        "flows/benchmarks.py:gpu_benchmarks",
        "0 2 * * 0",  # weekly: a full sweep holds the GPU for hours
        GPU_POOL,
        "Serving benchmarks (models x GPUs x workloads) on the gpu work pool.",
        {"models": ["meta-llama/Llama-3.1-8B-Instruct"], "gpus": ["H100-SXM-80GB"]},
    ),
)


def by_name(name: str) -> DeploymentSpec:
    for spec in DEPLOYMENTS:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in DEPLOYMENTS)
    raise KeyError(f"unknown flow {name!r}; known flows: {known}")


def gpu_present() -> bool:
    return shutil.which("nvidia-smi") is not None


def served_deployments(
    replay_dir: Path | None = None, *, all_dates: bool = False, gpu: bool | None = None
) -> list[Any]:
    """RunnerDeployments for ``serve``: the production list, with replay parameters.

    In replay mode the scrape deployments default to reading ``replay_dir``.
    The benchmark schedule is only active on a machine with an NVIDIA GPU (its
    deployment is served either way, for runs on demand).
    """
    from prefect.flows import EntrypointType  # type: ignore[attr-defined]
    from prefect.schedules import Cron

    gpu = gpu_present() if gpu is None else gpu
    deployments = []
    for spec in DEPLOYMENTS:
        parameters = dict(spec.parameters)
        if replay_dir is not None and spec.name in SCRAPES:
            parameters |= {"replay_dir": str(replay_dir), "all_dates": all_dates}
        active = gpu or spec.work_pool != GPU_POOL
        schedules = [Cron(spec.cron, timezone="UTC", active=active)] if spec.cron else None
        deployments.append(
            spec.load_flow().to_deployment(
                name=spec.name,
                description=spec.description,
                schedules=schedules,
                parameters=parameters,
                tags=[spec.work_pool] + (["replay"] if replay_dir and spec.name in SCRAPES else []),
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    return deployments
