"""The scrape flows: ``scrape-llm-prices`` and ``scrape-gpu-rates``.

Each source is its own chain of task runs, fetch -> parse -> persist, and the
chains run concurrently. A source that fails (network, blocked page, changed
structure) ends in a failed fetch or parse task with its error, followed by a
``record-failure`` task that writes the failed pipeline run; the other sources
are not affected. The flow run fails only when every source failed (then
something systemic is wrong: the network, the database); otherwise it completes
and its summary artifact lists what failed.

After ingesting, the flow runs ``evaluate-alerts`` and ``refresh-analytics``
as subflows, and publishes three kinds of artifact: a table of price changes,
a markdown summary, and links to the API curves the changes affect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, Literal, cast

from prefect import allow_failure, flow, get_run_logger
from prefect.client.schemas.objects import State
from prefect.states import Failed

from flows import report, runtime
from flows.analytics import refresh_analytics
from flows.evaluate import evaluate_alerts
from flows.fetchers import Recording, recorded_sources, replay_plan
from flows.steps import SourceResult
from flows.tasks import fetch, parse, persist, record_failure

Kind = Literal["llm_price", "gpu_rate"]
MAX_CONCURRENT_SOURCES = 8  # bounded by the database pool, not by the hosts (one per host)


def _select(
    kind: Kind, sources: list[str] | None, replay: Path | None
) -> tuple[list[str], list[str]]:
    """The sources this run scrapes, and the requested ones it skips (with why)."""
    from scrapers.registry import sources as registered

    of_kind = {slug for slug, module in registered().items() if module.SOURCE.kind == kind}
    wanted = sorted(of_kind) if sources is None else list(dict.fromkeys(sources))
    unknown = [s for s in wanted if s not in of_kind]
    if unknown:
        raise ValueError(
            f"not {kind} sources: {', '.join(unknown)}; known: {', '.join(sorted(of_kind))}"
        )
    if replay is None:
        return wanted, []
    recorded = set(recorded_sources(replay, of_kind))
    return [s for s in wanted if s in recorded], [
        f"{s}: nothing recorded in {replay / s}" for s in wanted if s not in recorded
    ]


async def _state(task: Any, *args: Any) -> State[Any]:
    """Run an async task and get its final state (Prefect's stubs miss this overload)."""
    return await cast(Awaitable[State[Any]], task(*args, return_state=True))


def _fetch_task(source: str, recording: Recording | None) -> Any:
    """The fetch task, with the source's own timeout for a live crawl of many pages."""
    from scrapers.registry import get_source

    limit = get_source(source).SOURCE.fetch_timeout_s
    if recording is not None or limit is None:
        return fetch
    return fetch.with_options(timeout_seconds=limit)


async def _scrape_source(
    source: str, plan: list[Recording | None], trigger: str, limit: asyncio.Semaphore
) -> list[SourceResult]:
    """Fetch -> parse -> persist for each planned response of one source, in date order."""
    results = []
    async with limit:
        for recording in plan:
            origin = str(recording.path) if recording else "network"
            label = recording.observed_at.date().isoformat() if recording else ""
            fetched = await _state(_fetch_task(source, recording), source, recording, label)
            if not fetched.is_completed():
                failed = allow_failure(fetched)
                final = await _state(record_failure, source, failed, None, trigger, origin, label)
            else:
                parsed = await _state(parse, source, fetched, label)
                if parsed.is_completed():
                    final = await _state(persist, source, fetched, parsed, trigger, label)
                else:
                    failed = allow_failure(parsed)
                    final = await _state(
                        record_failure, source, failed, fetched, trigger, origin, label
                    )
            results.append(await _outcome(final, source, origin))
    return results


async def _outcome(state: State[Any], source: str, origin: str) -> SourceResult:
    """The step's result; a persist that failed for good (the database) is a failed source."""
    if state.is_completed():
        result: SourceResult = await state.aresult()
        return result
    error = await state.aresult(raise_on_failure=False)
    return SourceResult(source, "failed", None, None, origin, error=f"persist failed: {error}")


async def _scrape(
    kind: Kind, sources: list[str] | None, replay_dir: str | None, all_dates: bool
) -> dict[str, Any] | State[Any]:
    from costcurve.config import get_settings
    from db.pipeline import mark_crashed_runs

    logger = get_run_logger()
    # The periodic check for runs a dead process left "running" (kill -9, OOM).
    crashed = await asyncio.to_thread(mark_crashed_runs, runtime.engine())
    if crashed:
        logger.warning("marked %d runs left running by a dead process as crashed", crashed)
    configured = get_settings().replay_dir
    replay = Path(replay_dir) if replay_dir else configured
    if replay is not None and not replay.is_dir():
        raise ValueError(f"replay directory {replay} does not exist")
    selected, skipped = _select(kind, sources, replay)
    if not selected:
        raise ValueError(f"no {kind} source to scrape: " + "; ".join(skipped))
    for line in skipped:
        logger.warning("skipped %s", line)
    trigger = "replay" if replay else "flow"
    plans: dict[str, list[Recording | None]] = {
        s: (list(replay_plan(replay, s, all_dates=all_dates)) if replay else [None])
        for s in selected
    }
    logger.info(
        "%d sources, %d responses to read%s",
        len(selected),
        sum(len(p) for p in plans.values()),
        f" from {replay}" if replay else " from the network",
    )
    limit = asyncio.Semaphore(MAX_CONCURRENT_SOURCES)
    per_source = await asyncio.gather(
        *(_scrape_source(s, plans[s], trigger, limit) for s in selected)
    )
    results = [r for rs in per_source for r in rs]
    summary = report.summary(results, skipped)
    logger.info(
        "%d ok, %d failed; %d new versions, %d closed; publishing artifacts",
        len(summary["sources_ok"]),
        len(summary["sources_failed"]),
        summary["new_versions"],
        summary["closed_versions"],
    )
    await report.publish(kind, results, skipped)
    logger.info("artifacts published")
    if summary["ingested"]:
        evaluate_alerts()
        refresh_analytics()
    if not summary["sources_ok"]:
        raise RuntimeError(
            f"every {kind} source failed: "
            + "; ".join(f"{r.source}: {r.error}" for r in results if r.error)
        )
    if summary["sources_failed"]:
        # The others' data landed; the run is still red in the Prefect UI, naming who failed.
        return Failed(message=failure_message(summary), data=summary)
    return summary


def failure_message(summary: dict[str, Any]) -> str:
    """``1 of 3 sources failed: deepseek (parse failed: ...)``, for the flow run's state."""
    failed: dict[str, list[str]] = summary["sources_failed"]
    total = len(summary["sources_ok"]) + len(failed)
    named = "; ".join(f"{source} ({errors[0][:200]})" for source, errors in failed.items())
    return f"{len(failed)} of {total} sources failed: {named}"


@flow(
    name="scrape-llm-prices",
    description="Scrape every LLM API price source, version what changed, evaluate alerts.",
    log_prints=True,
)
async def scrape_llm_prices(
    sources: list[str] | None = None, replay_dir: str | None = None, all_dates: bool = False
) -> dict[str, Any] | State[Any]:
    """Scrape LLM token prices.

    Args:
        sources: slugs to scrape (default: every llm_price source).
        replay_dir: read recorded responses from ``DIR/<source>/`` instead of the network.
        all_dates: in replay, read every recording in date order (default: newest only).
    """
    return await _scrape("llm_price", sources, replay_dir, all_dates)


@flow(
    name="scrape-gpu-rates",
    description="Scrape every GPU rental rate source, version what changed, evaluate alerts.",
    log_prints=True,
)
async def scrape_gpu_rates(
    sources: list[str] | None = None, replay_dir: str | None = None, all_dates: bool = False
) -> dict[str, Any] | State[Any]:
    """Scrape GPU rental rates.

    Args:
        sources: slugs to scrape (default: every gpu_rate source).
        replay_dir: read recorded responses from ``DIR/<source>/`` instead of the network.
        all_dates: in replay, read every recording in date order (default: newest only).
    """
    return await _scrape("gpu_rate", sources, replay_dir, all_dates)
