"""``evaluate-alerts``: turn new prices into alert events, then deliver them.

Runs as a subflow after every scrape that ingested something, and on its own
schedule so that deliveries waiting for a retry (backoff in alerts/delivery.py)
go out even when no price changed.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import runtime


@task(name="evaluate-rules", cache_policy=NO_CACHE, timeout_seconds=600)
def evaluate_rules_task() -> list[int]:
    """Alert events created by this evaluation (ids); safe to run concurrently."""
    from costcurve.alerts.evaluate import evaluate_rules

    return evaluate_rules(runtime.engine())


@task(name="deliver-pending", cache_policy=NO_CACHE, timeout_seconds=600)
def deliver_pending_task() -> dict[str, int]:
    """Send every due delivery once; failures are retried by later runs with backoff."""
    from costcurve.alerts.delivery import deliver_pending

    return asdict(deliver_pending(runtime.engine()))


@flow(name="evaluate-alerts", description="Evaluate alert rules against new prices; deliver.")
def evaluate_alerts() -> dict[str, Any]:
    logger = get_run_logger()
    events = evaluate_rules_task()
    stats = deliver_pending_task()
    logger.info("%d new alert events; deliveries: %s", len(events), stats)
    return {"new_events": len(events), **stats}
