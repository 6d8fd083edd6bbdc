"""Prefect tasks of a scrape: fetch -> parse -> persist, one chain per source.

The tasks are async so that many sources run concurrently in one flow run;
each runs its blocking step (``flows/steps.py``) in a worker thread. Only the
fetch touches the network, and its retries live in one place, the polite HTTP
layer (``scrapers/http.py``: at most ``ATTEMPTS`` requests per URL and run, with
full-jitter backoff and Retry-After); the task itself does not retry, so the
attempts do not multiply. Parsing is deterministic and never retried.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import task_run
from prefect.tasks import exponential_backoff

from costcurve.core.observations import Observation
from db.pipeline import RunSpec
from flows import runtime, steps
from flows.fetchers import Recording, Snapshot, fetch_live, read_recording

FETCH_TIMEOUT_S = 300  # scrapers.http already waits out Retry-After (<=120 s) inside
PARSE_TIMEOUT_S = 120
PERSIST_TIMEOUT_S = 600


# The tasks take ``source`` and ``label`` for their run names (``_run_name`` reads
# them from the task parameters), hence the ARG001 exemptions below.
def _run_name(step: str) -> Any:
    """``fetch-openrouter``, or ``fetch-openrouter-2026-07-17`` for a recording of that day."""

    def name() -> str:
        params = task_run.parameters
        label = params.get("label")
        return f"{step}-{params.get('source', '?')}" + (f"-{label}" if label else "")

    return name


@task(
    name="fetch",
    task_run_name=_run_name("fetch"),
    timeout_seconds=FETCH_TIMEOUT_S,
    cache_policy=NO_CACHE,
)
async def fetch(source: str, recording: Recording | None, label: str = "") -> Snapshot:  # noqa: ARG001
    """The raw response: from the network, or a recorded file in replay mode."""
    if recording is None:
        return await asyncio.to_thread(fetch_live, source)
    return await asyncio.to_thread(read_recording, source, recording)


@task(
    name="parse",
    task_run_name=_run_name("parse"),
    timeout_seconds=PARSE_TIMEOUT_S,
    cache_policy=NO_CACHE,
)
async def parse(source: str, snapshot: Snapshot, label: str = "") -> list[Observation]:  # noqa: ARG001
    """Normalized observations; a page it does not recognise fails with ParseError."""
    return await asyncio.to_thread(steps.parse_snapshot, snapshot)


@task(
    name="persist",
    task_run_name=_run_name("persist"),
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=5),
    retry_jitter_factor=0.5,
    timeout_seconds=PERSIST_TIMEOUT_S,
    cache_policy=NO_CACHE,
)
async def persist(
    source: str,  # noqa: ARG001
    snapshot: Snapshot,
    observations: list[Observation],
    trigger: str,
    label: str = "",  # noqa: ARG001
) -> steps.SourceResult:
    """Archive the raw response and version its observations."""
    spec = RunSpec(trigger, runtime.flow_run_id(), snapshot.observed_at)
    return await asyncio.to_thread(
        steps.persist_snapshot, runtime.engine(), snapshot, observations, spec
    )


@task(
    name="record-failure",
    task_run_name=_run_name("record-failure"),
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=5),
    retry_jitter_factor=0.5,
    timeout_seconds=PERSIST_TIMEOUT_S,
    cache_policy=NO_CACHE,
)
async def record_failure(
    source: str,
    error: BaseException,
    snapshot: Snapshot | None,
    trigger: str,
    origin: str,
    label: str = "",  # noqa: ARG001
) -> steps.SourceResult:
    """The failed fetch or parse upstream, as a failed pipeline run (nothing versioned)."""
    spec = RunSpec(trigger, runtime.flow_run_id(), snapshot.observed_at if snapshot else None)
    return await asyncio.to_thread(
        functools.partial(steps.record_failure, origin=origin),
        runtime.engine(),
        source,
        error,
        snapshot,
        spec,
    )
