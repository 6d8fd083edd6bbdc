"""``costcurve up``: run the whole product locally on the embedded default.

Starts, in order: PostgreSQL (embedded unless ``DATABASE_URL``; the app and
Prefect get separate databases), migrations and the curated reference history,
the API, the Prefect server with its UI, and the deployments served on their
schedules (``flows.serve``). Everything is pushed on one ``ExitStack``, so
Ctrl-C or SIGTERM stops them in the reverse order: served deployments, Prefect
server, API, embedded PostgreSQL.
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
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
    _load_scores(engine)


def _load_scores(engine: Any) -> None:
    from db.score_import import load_shipped_scores

    shared = settings_or_exit().shared_dir
    report = load_shipped_scores(engine, shared)
    if report is None:
        typer.echo(f"capability scores: {shared}/datasets/capability absent, none loaded")
    else:
        typer.echo(f"capability scores: {report.summary()}")


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


@dataclass(frozen=True)
class UpOptions:
    """What ``costcurve up`` was asked to do, checked."""

    replay: Path | None
    all_dates: bool
    run_now: bool


def _options(replay: Path | None, all_dates: bool, run_now: bool | None) -> UpOptions:
    if replay is not None and not replay.is_dir():
        raise _fail(f"--replay {replay} is not a directory", 2)
    if all_dates and replay is None:
        raise _fail("--all-dates only applies with --replay DIR", 2)
    return UpOptions(
        replay.resolve() if replay else None,
        all_dates,
        replay is not None if run_now is None else run_now,
    )


def _check_ports(settings: Any, own_prefect: bool) -> None:
    from flows import local

    busy = [(settings.api_host, settings.api_port, "COSTCURVE_API_PORT")]
    if own_prefect:
        busy.append((settings.prefect_host, settings.prefect_port, "COSTCURVE_PREFECT_PORT"))
    for host, port, variable in busy:
        if local.port_in_use(host, port):
            raise _fail(f"{host}:{port} is already in use; free it or set {variable}")


LOCK_FILE = "up.lock"


def _lock_data_dir(stack: ExitStack, data_dir: Path) -> None:
    """Refuse a second ``up`` on a data directory in use, before touching anything of it.

    The lock is an flock on ``DATA_DIR/up.lock``: the kernel drops it when the
    process dies, however it dies, so a crash never leaves a stale lock.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / LOCK_FILE).open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "?"
        handle.close()
        raise _fail(
            f"another `costcurve up` (pid {owner}) is using {data_dir}; stop it first, "
            "or give this one its own COSTCURVE_DATA_DIR"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    stack.callback(handle.close)


def _on_exit(stack: ExitStack, name: str, action: Callable[[], object]) -> None:
    """Register ``action`` to stop ``name``; a failing stop still lets the others run."""

    def stop() -> None:
        typer.echo(f"stopping {name}")
        try:
            action()
        except Exception as exc:
            typer.echo(f"warning: stopping {name}: {exc}", err=True)

    stack.callback(stop)


def _start_prefect(
    stack: ExitStack, settings: Any, database: Any, env: dict[str, str]
) -> tuple[str, Any]:
    """Our own Prefect server unless PREFECT_API_URL points at one: (API URL, child or None)."""
    from flows import local

    if settings.prefect_api_url is not None:
        api_url = str(settings.prefect_api_url).rstrip("/")
        typer.echo(f"Prefect API: {api_url} (PREFECT_API_URL)")
        return api_url, None
    data_dir = settings.data_dir.resolve()
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
    _on_exit(stack, "Prefect server", server.stop)
    if not local.wait_healthy(f"{api_url}/health", server, PREFECT_START_TIMEOUT_S):
        typer.echo(server.log_tail(), err=True)
        raise _fail(f"the Prefect server did not start; log: {server.log}")
    return api_url, server


def _supervise(stop: threading.Event, children: list[Any]) -> int:
    """Wait for Ctrl-C/SIGTERM; a child that dies ends the run with exit code 1."""
    while not stop.wait(0.5):
        dead = [c for c in children if not c.alive()]
        if dead:
            typer.echo(f"error: {dead[0].name} exited unexpectedly", err=True)
            return 1
    return 0


def _run(options: UpOptions, stop: threading.Event, t0: float) -> int:
    """Start everything on one ExitStack; it unwinds in the documented stop order.

    Things start in the reverse of that order (database, API, Prefect server,
    served deployments), so the stack stops the served deployments first, then
    the Prefect server, then the API, then the database.
    """
    from db.pipeline import STALE_RUN_AFTER, mark_crashed_runs
    from flows import local

    settings = settings_or_exit()
    with ExitStack() as stack:
        _lock_data_dir(stack, settings.data_dir.resolve())
        _check_ports(settings, own_prefect=settings.prefect_api_url is None)
        stack.callback(typer.echo, "stopped")
        database, engine = database_or_exit(require_head=True)
        _on_exit(stack, "database", lambda: _stop_database(engine, database))
        where = "embedded PostgreSQL" if database.embedded else "DATABASE_URL"
        typer.echo(f"database: {where}, schema at head")
        crashed = mark_crashed_runs(
            engine, older_than=timedelta(0) if database.embedded else STALE_RUN_AFTER
        )
        if crashed:
            typer.echo(f"marked {crashed} runs left running by a dead process as crashed")
        _load_reference(engine)
        _on_exit(stack, "API", _start_api(engine, settings.api_host, settings.api_port))
        typer.echo(f"API: http://{settings.api_host}:{settings.api_port}  (docs at /docs)")
        env = dict(os.environ) | {"DATABASE_URL": database.url}
        env["PREFECT_HOME"] = env.get("PREFECT_HOME") or str(
            settings.data_dir.resolve() / "prefect"
        )
        api_url, server = _start_prefect(stack, settings, database, env)
        env["PREFECT_API_URL"] = api_url
        if server is not None:
            typer.echo(
                f"Prefect UI: {api_url.removesuffix('/api')}  "
                f"(ready {time.monotonic() - t0:.1f} s after start)"
            )
        runner = local.start_runner(
            env, replay=options.replay, all_dates=options.all_dates, run_now=options.run_now
        )
        _on_exit(stack, "served deployments", lambda: runner.stop(signal.SIGTERM))
        if options.replay:
            every = "every recording in date order" if options.all_dates else "the newest recording"
            typer.echo(f"replay: sources read {every} under {options.replay}")
        if options.run_now:
            threading.Thread(
                target=_watch_first_scrape, args=(api_url, t0, stop), daemon=True
            ).start()
        return _supervise(stop, [c for c in (server, runner) if c is not None])


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
        """Start everything: database, API, Prefect server and UI, scheduled flows.

        Ctrl-C or SIGTERM stops the served deployments, then the Prefect
        server, then the API, then the embedded database.
        """
        t0 = time.monotonic()
        options = _options(replay, all_dates, run_now)
        stop = threading.Event()

        def _request_stop(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
            stop.set()

        signal.signal(signal.SIGTERM, _request_stop)
        signal.signal(signal.SIGINT, _request_stop)
        try:
            exit_code = _run(options, stop, t0)
        except typer.Exit as exc:
            exit_code = exc.exit_code
        finally:
            stop.set()
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
