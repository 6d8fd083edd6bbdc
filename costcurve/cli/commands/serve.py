"""``costcurve serve-api``: the API alone, against DATABASE_URL (production)."""

from __future__ import annotations

import shutil
import signal
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from costcurve.cli.runtime import database_or_exit, settings_or_exit


def register(app: typer.Typer) -> None:
    @app.command("serve-api")
    def serve_api_cmd(
        host: Annotated[str | None, typer.Option(help="Bind address")] = None,
        port: Annotated[int | None, typer.Option(help="Port")] = None,
        workers: Annotated[
            int | None,
            typer.Option(min=1, help="Worker processes (default COSTCURVE_API_WORKERS)"),
        ] = None,
    ) -> None:
        """Serve the API only; the schema must already be at head.

        SIGTERM or SIGINT stops it gracefully with exit code 0 (every worker
        first), and stops the embedded database when this command started it.
        """
        settings = settings_or_exit()
        database, engine = database_or_exit(require_head=True)
        bind = (host or settings.api_host, port or settings.api_port)
        try:
            count = workers or settings.api_workers
            if count == 1:
                _serve_in_process(engine, bind)
            else:
                _serve_workers(database.url, bind, count)
        finally:
            engine.dispose()
            if database.embedded is not None:
                database.embedded.stop()


def _serve_in_process(engine: Engine, bind: tuple[str, int]) -> None:
    import uvicorn

    from api.main import create_app

    config = uvicorn.Config(
        create_app(engine),
        host=bind[0],
        port=bind[1],
        proxy_headers=True,
    )
    # uvicorn re-raises the signal it shut down on once it has restored the
    # handlers it found: these no-op handlers turn that into a normal return.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    uvicorn.Server(config).run()


def _serve_workers(database_url: str, bind: tuple[str, int], count: int) -> None:
    from costcurve.cli.workers import Supervisor, WorkerSpec, listen_sockets

    # The workers share one set of version frames (api/frame_share.py): in the
    # configured directory, else in one made for this serve-api and removed after.
    configured = settings_or_exit().api_frames_dir
    frames_dir = configured or Path(tempfile.mkdtemp(prefix="costcurve-frames-"))
    if configured is not None:  # an earlier run's frames may be of another database
        from api.frame_share import FrameShare

        FrameShare.clear(configured)

    try:
        sockets = listen_sockets(*bind, count)
    except OSError as exc:
        typer.echo(f"error: cannot listen on {bind[0]}:{bind[1]}: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"API: http://{bind[0]}:{bind[1]} ({count} workers)")
    try:
        Supervisor(WorkerSpec(database_url, str(frames_dir)), sockets, count).run()
    finally:
        for sock in sockets:
            sock.close()
        if configured is None:
            shutil.rmtree(frames_dir, ignore_errors=True)
