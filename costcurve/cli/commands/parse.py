"""``costcurve parse SOURCE FILE``: print normalized observations as JSON lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from costcurve.core.jsonenc import dumps
from costcurve.core.observations import Observation, ParseError, date_from_filename, utc
from scrapers.registry import get_source, parse_source, sources


def observed_at_option(value: str | None, file: Path, *, required: bool = True) -> datetime:
    """An explicit --observed-at, else the capture date in the file name.

    A file without a date in its name needs --observed-at: its modification
    time says when it was copied, not when the page was captured. Only a
    caller that does not use the time (``required=False``) gets "now".
    """
    if value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise typer.BadParameter(
                f"{value!r} is not an ISO date or datetime (e.g. 2026-08-03)",
                param_hint="--observed-at",
            ) from None
        return utc(parsed)
    day = date_from_filename(file.name)
    if day is None and not required:
        return datetime.now(UTC)
    if day is None:
        raise typer.BadParameter(
            f"{file.name} has no capture date (YYYY-MM-DD) in its name; "
            "give the capture time with --observed-at",
            param_hint="--observed-at",
        )
    return utc(day)


def require_source_and_file(source: str, file: Path) -> None:
    """Exit 2 with a message for an unknown source (listing the known ones) or a missing file."""
    try:
        get_source(source)
    except KeyError as exc:
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(2) from None
    if not file.is_file():
        typer.echo(f"error: {file} is not a file", err=True)
        raise typer.Exit(2)


def read_and_parse(source: str, file: Path, observed_at: datetime) -> list[Observation]:
    require_source_and_file(source, file)
    try:
        return parse_source(source, file.read_bytes(), observed_at=observed_at)
    except ParseError as exc:
        typer.echo(f"error: parse failed for source {exc}", err=True)
        raise typer.Exit(1) from None


def register(app: typer.Typer) -> None:
    @app.command("parse")
    def parse_cmd(
        source: Annotated[str, typer.Argument(help="Source slug, e.g. openrouter")],
        file: Annotated[Path, typer.Argument(help="A recorded response of that source")],
        observed_at: Annotated[
            str | None, typer.Option(help="Observation time (default: date in file name)")
        ] = None,
    ) -> None:
        """Parse a recorded page and print one JSON observation per line."""
        require_source_and_file(source, file)
        for obs in read_and_parse(source, file, observed_at_option(observed_at, file)):
            typer.echo(dumps(obs))

    @app.command("sources")
    def sources_cmd() -> None:
        """List the known sources and whether they are verified on recorded pages."""
        for slug, module in sources().items():
            info = module.SOURCE
            verified = "recorded" if info.verified_against_recording else "transport-only"
            if info.verified_only_on:
                verified += f" ({info.verified_only_on})"
            typer.echo(f"{slug}\t{info.kind}\t{verified}\t{info.url}")
