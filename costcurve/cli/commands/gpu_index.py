"""``costcurve gpu-index publish|verify``: store the GPU index prints, check them.

``publish`` stores every closed period's print that is new or changed (a new
revision); ``verify`` recomputes every stored print from the versions as
believed when it was computed and exits 1 on any mismatch (docs/gpu-index.md).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from costcurve.cli.runtime import database_or_exit
from costcurve.core.jsonenc import dumps

app = typer.Typer(help="The costcurve GPU price index (docs/gpu-index.md)", no_args_is_help=True)


def _day(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        d = date.fromisoformat(value)
    except ValueError:
        typer.echo(f"error: {option}: {value!r} is not a YYYY-MM-DD date", err=True)
        raise typer.Exit(2) from None
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


FromOpt = Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD)")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Day after the last (YYYY-MM-DD)")]


@app.command("publish")
def publish_cmd(start: FromOpt = None, end: ToOpt = None) -> None:
    """Compute and store the daily and hourly prints of every closed period."""
    from costcurve.indexes.gpu import publish

    _, engine = database_or_exit(require_head=True)
    result = publish(engine, start=_day(start, "--from"), end=_day(end, "--to"))
    typer.echo(
        dumps(
            {
                "computed_at": result.computed_at,
                "computed": result.computed,
                "stored": result.stored,
                "revised": result.revised,
                "by_interval": result.by_interval,
            }
        )
    )


@app.command("verify")
def verify_cmd(start: FromOpt = None, end: ToOpt = None) -> None:
    """Recompute every stored print; list mismatches and exit 1 if there are any."""
    from costcurve.indexes.gpu import verify

    _, engine = database_or_exit(require_head=True)
    checked, mismatches = verify(engine, start=_day(start, "--from"), end=_day(end, "--to"))
    for m in mismatches:
        typer.echo(f"MISMATCH {m.describe()}")
    typer.echo(f"{checked} prints checked, {len(mismatches)} mismatches")
    if mismatches:
        raise typer.Exit(1)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="gpu-index")
