"""``costcurve alerts evaluate|deliver|list|delete``: the evaluate-alerts flow's steps,
and the administrator's view of every rule (including those of revoked keys)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

import typer

from costcurve.cli.runtime import database_or_exit
from costcurve.core.jsonenc import dumps


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    from costcurve.core.observations import utc

    try:
        return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO date or datetime (e.g. 2026-08-03)", param_hint="--since"
        ) from None


def register(app: typer.Typer) -> None:
    alerts_app = typer.Typer(
        help="Alert rules: evaluate them against current prices, deliver what fired.",
        no_args_is_help=True,
    )
    app.add_typer(alerts_app, name="alerts")

    @alerts_app.command("evaluate")
    def evaluate_cmd(
        since: Annotated[
            str | None,
            typer.Option(help="Re-examine price changes recorded after this instant"),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line")] = False,
    ) -> None:
        """Compare every active rule's value with its threshold; record new crossings."""
        from costcurve.alerts.evaluate import evaluate_rules

        when = _since(since)
        _, engine = database_or_exit(require_head=True)
        ids = evaluate_rules(engine, since=when)
        if as_json:
            typer.echo(dumps({"new_events": ids}))
        else:
            typer.echo(f"{len(ids)} new alert event(s)" + (f": {ids}" if ids else ""))

    @alerts_app.command("deliver")
    def deliver_cmd(
        max_attempts: Annotated[
            int, typer.Option(min=1, help="Give an alert up after this many failed tries")
        ] = 8,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line")] = False,
    ) -> None:
        """Send every due alert from the outbox through its Apprise channel."""
        from costcurve.alerts.delivery import deliver_pending, prefect_api_configured

        _, engine = database_or_exit(require_head=True)
        stats = deliver_pending(engine, max_attempts=max_attempts)
        if prefect_api_configured() and stats.delivered + stats.failed:
            # The events go out from a background worker: let it finish before exiting.
            from prefect.events.worker import EventsWorker

            EventsWorker.drain_all(timeout=10)
        if as_json:
            typer.echo(dumps(asdict(stats)))
        else:
            typer.echo(
                f"{stats.attempted} attempted: {stats.delivered} delivered, "
                f"{stats.retrying} to retry, {stats.failed} given up, "
                f"{stats.cancelled} cancelled"
            )

    @alerts_app.command("list")
    def list_cmd() -> None:
        """Every rule of every key (admin view); a revoked key's rules say so and never fire."""
        from costcurve.alerts.admin import all_rules

        _, engine = database_or_exit(require_head=True)
        for rule in all_rules(engine):
            state = "key revoked" if rule.key_revoked else ("active" if rule.active else "paused")
            typer.echo(
                f"{rule.id:>5}  key {rule.api_key_id} ({rule.key_name})  {rule.name}  [{state}]"
            )

    @alerts_app.command("delete")
    def delete_cmd(rule_id: Annotated[int, typer.Argument(help="Rule id (from `list`)")]) -> None:
        """Delete a rule whatever key owns it (for rules of revoked keys)."""
        from costcurve.alerts.admin import delete_rule

        _, engine = database_or_exit(require_head=True)
        if not delete_rule(engine, rule_id):
            typer.echo(f"error: no alert rule {rule_id}", err=True)
            raise typer.Exit(1)
        typer.echo(f"rule {rule_id} deleted")
