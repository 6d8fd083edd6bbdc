"""The ``costcurve`` console script.

Each module in ``costcurve/commands/`` adds its commands through
``register(app)``, so a capability brings its CLI with it.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

from costcurve.cli import commands

app = typer.Typer(
    name="costcurve",
    help="Track what AI inference costs and how fast that cost falls.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"costcurve.cli.commands.{info.name}")
        module.register(app)


_register_commands()


def main() -> None:
    app()
