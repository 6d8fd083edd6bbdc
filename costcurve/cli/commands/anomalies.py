"""``costcurve anomalies list|accept|reject``: review the plausibility screen's flags.

``accept`` overrules a flag (the price counts again), ``reject`` confirms it
(the price stays out); both record who decided and when (db/screen.py).
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from costcurve.cli.runtime import database_or_exit
from costcurve.core.jsonenc import dumps


def _decide(flag_id: int, status: str, who: str | None, note: str | None) -> None:
    from db.screen import decide

    _, engine = database_or_exit(require_head=True)
    with engine.begin() as conn:
        found = decide(conn, flag_id, status, who=who or getpass.getuser(), note=note)
    if not found:
        typer.echo(f"error: no anomaly with id {flag_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"anomaly {flag_id}: {status}")


def register(app: typer.Typer) -> None:
    anomalies_app = typer.Typer(
        help="Prices held back by the plausibility screen: list, accept, reject.",
        no_args_is_help=True,
    )
    app.add_typer(anomalies_app, name="anomalies")

    @anomalies_app.command("list")
    def list_cmd(
        status: Annotated[
            str, typer.Option(help="quarantined, accepted, rejected or all")
        ] = "quarantined",
        source: Annotated[str | None, typer.Option(help="Only this source")] = None,
        reason: Annotated[str | None, typer.Option(help="Only this reason")] = None,
    ) -> None:
        """Print one JSON line per flag (reason, source value, consensus, offering)."""
        from db.anomalies import anomaly_rows

        if status not in ("quarantined", "accepted", "rejected", "all"):
            raise typer.BadParameter(
                "use quarantined, accepted, rejected or all", param_hint="--status"
            )
        _, engine = database_or_exit(require_head=True)
        with engine.connect() as conn:
            rows = anomaly_rows(
                conn, status=None if status == "all" else status, source=source, reason=reason
            )
        for row in rows:
            typer.echo(dumps(row))

    @anomalies_app.command("accept")
    def accept_cmd(
        flag_id: Annotated[int, typer.Argument(help="The anomaly id (see list)")],
        who: Annotated[str | None, typer.Option(help="Who decides (default: login)")] = None,
        note: Annotated[str | None, typer.Option(help="Why")] = None,
    ) -> None:
        """Overrule the flag: the price counts again."""
        _decide(flag_id, "accepted", who, note)

    @anomalies_app.command("reject")
    def reject_cmd(
        flag_id: Annotated[int, typer.Argument(help="The anomaly id (see list)")],
        who: Annotated[str | None, typer.Option(help="Who decides (default: login)")] = None,
        note: Annotated[str | None, typer.Option(help="Why")] = None,
    ) -> None:
        """Confirm the flag: the price stays out of curves, picks, alerts, break-even."""
        _decide(flag_id, "rejected", who, note)
