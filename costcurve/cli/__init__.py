"""The ``costcurve`` console script.

Each module in ``costcurve/commands/`` adds its commands through
``register(app)``, so a capability brings its CLI with it.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError

from costcurve import __version__
from costcurve.cli import commands

app = typer.Typer(
    name="costcurve",
    help="Track what AI inference costs and how fast that cost falls.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Set by --debug: an unexpected error then shows its traceback instead of one line.
_debug = False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"costcurve {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an unexpected error")
    ] = False,
    version: Annotated[  # noqa: ARG001
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version"),
    ] = False,
) -> None:
    global _debug
    _debug = debug


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"costcurve.cli.commands.{info.name}")
        module.register(app)


_register_commands()


def main() -> None:
    """Run the CLI; every expected failure is one ``error:`` line and a non-zero exit."""
    try:
        app()
    except OperationalError as exc:
        if _debug:
            raise
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        typer.echo(f"error: cannot reach the database: {reason}", err=True)
        sys.exit(1)
    except Exception as exc:
        if _debug:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        typer.echo(
            f"error: {type(exc).__name__}: {first} (run with --debug for the traceback)", err=True
        )
        sys.exit(1)
