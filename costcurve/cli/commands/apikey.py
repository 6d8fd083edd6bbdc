"""``costcurve apikey create|list|revoke``: keys for the alert API (``X-API-Key``)."""

from __future__ import annotations

from typing import Annotated

import typer

from costcurve.cli.runtime import database_or_exit


def register(app: typer.Typer) -> None:
    keys_app = typer.Typer(
        help="API keys for the alert-rule API (sent as the X-API-Key header).",
        no_args_is_help=True,
    )
    app.add_typer(keys_app, name="apikey")

    @keys_app.command("create")
    def create_cmd(
        name: Annotated[str, typer.Argument(help="Who or what the key is for")],
    ) -> None:
        """Create a key and print it once (only its sha256 is stored)."""
        from costcurve.alerts.keys import create_key

        if not name.strip():
            raise typer.BadParameter("must not be blank", param_hint="NAME")
        _, engine = database_or_exit(require_head=True)
        key = create_key(engine, name)
        # The secret alone on stdout, so `KEY=$(costcurve apikey create me)` works.
        typer.echo(key.secret)
        typer.echo(
            f"key {key.id} ({key.name!r}, prefix {key.prefix}): store it now; "
            "it cannot be shown again",
            err=True,
        )

    @keys_app.command("list")
    def list_cmd() -> None:
        """List keys (id, prefix, name, created, revoked); never the secrets."""
        from costcurve.alerts.keys import list_keys

        _, engine = database_or_exit(require_head=True)
        for key in list_keys(engine):
            revoked = f"  revoked {key.revoked_at.isoformat()}" if key.revoked_at else ""
            typer.echo(
                f"{key.id:>4}  {key.prefix}…  {key.name}  {key.created_at.isoformat()}{revoked}"
            )

    @keys_app.command("revoke")
    def revoke_cmd(key_id: Annotated[int, typer.Argument(help="Key id (from `list`)")]) -> None:
        """Revoke a key: requests with it get 401 from now on."""
        from costcurve.alerts.keys import revoke_key

        _, engine = database_or_exit(require_head=True)
        if not revoke_key(engine, key_id):
            typer.echo(f"error: no active key with id {key_id}", err=True)
            raise typer.Exit(1)
        typer.echo(f"key {key_id} revoked")

    @keys_app.command("rotate")
    def rotate_cmd(key_id: Annotated[int, typer.Argument(help="Key id (from `list`)")]) -> None:
        """Replace a key: a new key (printed once) takes over its rules; the old is revoked."""
        from costcurve.alerts.keys import rotate_key

        _, engine = database_or_exit(require_head=True)
        try:
            key = rotate_key(engine, key_id)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(key.secret)
        typer.echo(
            f"key {key.id} ({key.name!r}) now owns the rules of key {key_id}, which is revoked",
            err=True,
        )
