"""``costcurve serve-api``: the API alone, against DATABASE_URL (production)."""

from __future__ import annotations

from typing import Annotated

import typer

from costcurve.cli.runtime import database_or_exit, settings_or_exit


def register(app: typer.Typer) -> None:
    @app.command("serve-api")
    def serve_api_cmd(
        host: Annotated[str | None, typer.Option(help="Bind address")] = None,
        port: Annotated[int | None, typer.Option(help="Port")] = None,
    ) -> None:
        """Serve the API only; the schema must already be at head."""
        import uvicorn

        from api.main import create_app

        settings = settings_or_exit()
        _, engine = database_or_exit(require_head=True)
        uvicorn.run(
            create_app(engine),
            host=host or settings.api_host,
            port=port or settings.api_port,
            proxy_headers=True,
        )
