"""``costcurve serve-api``: the API alone, against DATABASE_URL (production)."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from costcurve.cli.runtime import database_or_exit, settings_or_exit


def register(app: typer.Typer) -> None:
    @app.command("serve-api")
    def serve_api_cmd(
        host: Annotated[str | None, typer.Option(help="Bind address")] = None,
        port: Annotated[int | None, typer.Option(help="Port")] = None,
    ) -> None:
        """Serve the API only; the schema must already be at head.

        SIGTERM or SIGINT stops it gracefully with exit code 0, and stops the
        embedded database when this command started it.
        """
        import uvicorn

        from api.main import create_app

        settings = settings_or_exit()
        database, engine = database_or_exit(require_head=True)
        config = uvicorn.Config(
            create_app(engine),
            host=host or settings.api_host,
            port=port or settings.api_port,
            proxy_headers=True,
        )
        # uvicorn re-raises the signal it shut down on once it has restored the
        # handlers it found: these no-op handlers turn that into a normal return.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: None)
        try:
            uvicorn.Server(config).run()
        finally:
            engine.dispose()
            if database.embedded is not None:
                database.embedded.stop()
