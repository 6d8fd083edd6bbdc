"""``costcurve up``: run the whole product locally on the embedded default.

Starts, in order: PostgreSQL (embedded unless ``DATABASE_URL``; the app and
Prefect get separate databases), migrations and the curated reference history,
the Prefect server with its UI, the deployments served on their schedules
(``flows.serve``), and the API. Ctrl-C or SIGTERM stops them in this order:
served deployments, Prefect server, API, embedded PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from costcurve.cli.runtime import database_or_exit, settings_or_exit

PREFECT_START_TIMEOUT_S = 180.0


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _load_reference(engine: Any) -> None:
    from db.backfill import load_reference_history

    result = load_reference_history(engine).result
    typer.echo(
        f"reference history: {result.new_versions} new versions, {result.unchanged} unchanged"
    )


def _watch_first_scrape(api_url: str, t0: float, stop: threading.Event) -> None:
    from flows.local import first_completed_scrape

    since = time.time() - (time.monotonic() - t0)
    while not stop.wait(2.0):
        name = first_completed_scrape(api_url, since)
        if name:
            typer.echo(
                f"first scrape completed: {name} ({time.monotonic() - t0:.1f} s after start)"
            )
            return


def register(app: typer.Typer) -> None:
    @app.command("up")
    def up_cmd(
        replay: Annotated[
            Path | None,
            typer.Option(
                help="Sources read recorded responses from DIR/<source>/ instead of the network"
            ),
        ] = None,
        all_dates: Annotated[
            bool,
            typer.Option(
                "--all-dates",
                help="With --replay: read every recording in date order, not just the newest",
            ),
        ] = False,
        run_now: Annotated[
            bool | None,
            typer.Option(
                "--run-now/--no-run-now",
                help="Run both scrapes once at start (default: with --replay only)",
            ),
        ] = None,
    ) -> None:
        """Start everything: database, Prefect server and UI, scheduled flows, API.

        Ctrl-C or SIGTERM stops the served deployments, then the Prefect
        server, then the API, then the embedded database.
        """
        t0 = time.monotonic()
        settings = settings_or_exit()
        if replay is not None and not replay.is_dir():
            raise _fail(f"--replay {replay} is not a directory", 2)
        if all_dates and replay is None:
            raise _fail("--all-dates only applies with --replay DIR", 2)
        replay = replay.resolve() if replay else None
        run_now = replay is not None if run_now is None else run_now

        from flows import local

        own_prefect = settings.prefect_api_url is None
        busy = [(settings.api_host, settings.api_port, "COSTCURVE_API_PORT")]
        if own_prefect:
            busy.append((settings.prefect_host, settings.prefect_port, "COSTCURVE_PREFECT_PORT"))
        for host, port, variable in busy:
            if local.port_in_use(host, port):
                raise _fail(f"{host}:{port} is already in use; free it or set {variable}")

        stop = threading.Event()

        def _request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _request_stop)
        signal.signal(signal.SIGINT, _request_stop)

        database, engine = database_or_exit(require_head=True)
        where = "embedded PostgreSQL" if database.embedded else "DATABASE_URL"
        typer.echo(f"database: {where}, schema at head")
        cleanups: list[tuple[str, Callable[[], object]]] = []
        cleanups.append(("database", lambda: _stop_database(engine, database)))
        exit_code = 0
        server: local.Child | None = None
        try:
            _load_reference(engine)
            data_dir = settings.data_dir.resolve()
            env = dict(os.environ) | {"DATABASE_URL": database.url}
            env["PREFECT_HOME"] = env.get("PREFECT_HOME") or str(data_dir / "prefect")
            if own_prefect:
                api_url = f"http://{settings.prefect_host}:{settings.prefect_port}/api"
                server = local.start_prefect_server(
                    local.prefect_server_env(
                        env,
                        home=Path(env["PREFECT_HOME"]),
                        database_url=_prefect_database_url(settings, database),
                        host=settings.prefect_host,
                        port=settings.prefect_port,
                    ),
                    settings.prefect_host,
                    settings.prefect_port,
                    data_dir / "logs" / "prefect-server.log",
                )
                cleanups.append(("Prefect server", server.stop))
                if not local.wait_healthy(f"{api_url}/health", server, PREFECT_START_TIMEOUT_S):
                    typer.echo(server.log_tail(), err=True)
                    raise _fail(f"the Prefect server did not start; log: {server.log}")
                typer.echo(
                    f"Prefect UI: {api_url.removesuffix('/api')}  "
                    f"(ready {time.monotonic() - t0:.1f} s after start)"
                )
            else:
                api_url = str(settings.prefect_api_url).rstrip("/")
                typer.echo(f"Prefect API: {api_url} (PREFECT_API_URL)")
            env["PREFECT_API_URL"] = api_url
            runner = local.start_runner(env, replay=replay, all_dates=all_dates, run_now=run_now)
            cleanups.append(("served deployments", lambda: runner.stop(signal.SIGTERM)))
            api = _start_api(engine, settings.api_host, settings.api_port)
            cleanups.append(("API", api))
            typer.echo(f"API: http://{settings.api_host}:{settings.api_port}  (docs at /docs)")
            if replay:
                every = "every recording in date order" if all_dates else "the newest recording"
                typer.echo(f"replay: sources read {every} under {replay}")
            if run_now:
                threading.Thread(
                    target=_watch_first_scrape, args=(api_url, t0, stop), daemon=True
                ).start()
            children = [c for c in (server, runner) if c is not None]
            while not stop.wait(0.5):
                dead = [c for c in children if not c.alive()]
                if dead:
                    typer.echo(f"error: {dead[0].name} exited unexpectedly", err=True)
                    exit_code = 1
                    break
        except typer.Exit as exc:
            exit_code = exc.exit_code
        finally:
            stop.set()
            # Served deployments first, then the Prefect server, the API, the database.
            order = ["served deployments", "Prefect server", "API", "database"]
            for name, action in sorted(cleanups, key=lambda c: order.index(c[0])):
                typer.echo(f"stopping {name}")
                try:
                    action()
                except Exception as exc:  # keep stopping the rest
                    typer.echo(f"warning: stopping {name}: {exc}", err=True)
            typer.echo("stopped")
        if exit_code:
            raise typer.Exit(exit_code)


def _prefect_database_url(settings: Any, database: Any) -> str:
    """Prefect's own database: never the app's (both keep an alembic_version table)."""
    from db.embedded import PREFECT_DATABASE
    from flows.local import asyncpg_url

    if settings.prefect_database_url:
        return asyncpg_url(settings.prefect_database_url)
    if database.embedded is not None:
        database.embedded.ensure_database(PREFECT_DATABASE)
        return str(database.embedded.url(PREFECT_DATABASE, driver="asyncpg"))
    # Beside the app's database on the same server (docker/postgres-init.sql creates it).
    return asyncpg_url(database.url, database=PREFECT_DATABASE)


def _start_api(engine: Any, host: str, port: int) -> Callable[[], None]:
    """The API in a thread (signals stay with the main thread); returns its stop."""
    import uvicorn

    from api.main import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(engine), host=host, port=port))
    thread = threading.Thread(target=server.run, name="api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise _fail(f"the API did not start on {host}:{port}")

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=15)

    return stop


def _stop_database(engine: Any, database: Any) -> None:
    engine.dispose()
    if database.embedded is not None:
        database.embedded.stop()
