"""``costcurve ingest SOURCE FILE``: parse a recorded response and version it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from costcurve.cli.commands.parse import observed_at_option, require_source_and_file
from costcurve.cli.runtime import database_or_exit
from costcurve.core.jsonenc import dumps


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest_cmd(
        source: Annotated[str, typer.Argument(help="Source slug, e.g. openrouter")],
        file: Annotated[Path, typer.Argument(help="A recorded response of that source")],
        observed_at: Annotated[
            str | None, typer.Option(help="Observation time (default: date in file name)")
        ] = None,
        partial: Annotated[
            bool, typer.Option("--partial", help="The file is not the complete listing")
        ] = False,
        as_json: Annotated[
            bool, typer.Option("--json", help="End with a JSON summary line")
        ] = False,
    ) -> None:
        """Parse FILE and version its prices; prints what changed."""
        from costcurve.core.observations import ParseError
        from db.pipeline import ingest_raw

        require_source_and_file(source, file)
        when = observed_at_option(observed_at, file)
        _, engine = database_or_exit(require_head=True)
        try:
            outcome = ingest_raw(
                engine,
                source,
                file.read_bytes(),
                observed_at=when,
                listing_complete=False if partial else None,
            )
        except ParseError as exc:
            typer.echo(f"error: parse failed, nothing changed: {exc}", err=True)
            raise typer.Exit(1) from None
        result = outcome.result
        for change in result.changes:
            key = "/".join(str(v) for v in change.key.values() if v is not None)
            verb = "new" if change.old is None else ("closed" if change.new is None else "changed")
            typer.echo(f"{verb:7} {key}")
        typer.echo(
            f"run {outcome.run_id}: {result.observations} observations, "
            f"{result.new_versions} new versions, {result.closed_versions} closed, "
            f"{result.unchanged} unchanged, {result.skipped} skipped"
        )
        if as_json:
            typer.echo(dumps(result.counts()))
