"""``costcurve scores import FILE.csv``: capability scores for constant-capability deflation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from costcurve.cli.runtime import database_or_exit


def register(app: typer.Typer) -> None:
    scores_app = typer.Typer(
        help="Capability scores per model and benchmark.", no_args_is_help=True
    )
    app.add_typer(scores_app, name="scores")

    @scores_app.command("import")
    def import_cmd(
        file: Annotated[Path, typer.Argument(help="CSV: model,benchmark,score or wide")],
    ) -> None:
        """Import scores (long or wide CSV); model names resolve through the catalog."""
        from db.scores import ScoreImportError, import_scores, parse_scores_csv

        if not file.is_file():
            typer.echo(f"error: {file} is not a file", err=True)
            raise typer.Exit(2)
        try:
            rows = parse_scores_csv(file.read_text())
        except ScoreImportError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        _, engine = database_or_exit(require_head=True)
        count = import_scores(engine, rows)
        benchmarks = sorted({r.benchmark for r in rows})
        typer.echo(
            f"imported {count} scores for {len({r.model_slug for r in rows})} models "
            f"({', '.join(benchmarks)})"
        )
