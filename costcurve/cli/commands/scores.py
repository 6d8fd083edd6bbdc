"""``costcurve scores ...``: capability scores (hand-made CSV, Epoch AI Hub, LMArena)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

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

    @scores_app.command("import-epoch")
    def import_epoch_cmd(
        folder: Annotated[
            Path, typer.Argument(help="Epoch Hub extract: epoch_capabilities_index.csv + CSVs")
        ],
    ) -> None:
        """Import an Epoch AI Benchmarking Hub extract (ECI and per-benchmark scores)."""
        from db.score_import import import_epoch_dir

        if not folder.is_dir():
            typer.echo(f"error: {folder} is not a folder", err=True)
            raise typer.Exit(2)
        _run_import(lambda engine: import_epoch_dir(engine, folder))

    @scores_app.command("import-arena")
    def import_arena_cmd(
        file: Annotated[
            Path, typer.Argument(help="LMArena long CSV (nakasyou, catalog, fboulnois)")
        ],
    ) -> None:
        """Import an LMArena rating history (one row per snapshot and model)."""
        from db.score_import import import_arena_file

        if not file.is_file():
            typer.echo(f"error: {file} is not a file", err=True)
            raise typer.Exit(2)
        _run_import(lambda engine: import_arena_file(engine, file))

    @scores_app.command("match-rate")
    def match_rate_cmd() -> None:
        """Per source: stored score rows and the share matched to catalog models (JSON lines)."""
        from costcurve.core.jsonenc import dumps
        from db.score_import import match_rates

        _, engine = database_or_exit(require_head=True)
        for row in match_rates(engine):
            typer.echo(dumps(row))


def _run_import(action: Callable[[Any], Any]) -> None:
    from costcurve.core.observations import ParseError

    _, engine = database_or_exit(require_head=True)
    try:
        report = action(engine)
    except (ParseError, FileNotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(report.summary())
