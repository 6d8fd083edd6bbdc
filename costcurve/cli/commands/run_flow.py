"""``costcurve run-flow NAME``: run one flow now, in this process, and print its summary.

The flow run is reported to the Prefect server of a running ``costcurve up``
(or ``PREFECT_API_URL``) when there is one, so it shows in the UI; otherwise
Prefect starts a temporary local server for the run (its state lives in
``COSTCURVE_DATA_DIR/prefect``).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from costcurve.cli.runtime import database_or_exit, settings_or_exit
from costcurve.core.jsonenc import dumps


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _parameters(pairs: list[str]) -> dict[str, Any]:
    """KEY=VALUE pairs; VALUE is JSON when it parses as JSON, else a string."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise _fail(f"--param takes KEY=VALUE, got {pair!r}")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


EPHEMERAL_STARTUP_TIMEOUT_S = 180


def _use_local_prefect(settings: Any) -> str:
    """Point Prefect at a running `costcurve up` server, or at a temporary one."""
    import httpx

    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    url = f"http://{settings.prefect_host}:{settings.prefect_port}/api"
    try:
        if httpx.get(f"{url}/health", timeout=2).status_code == 200:
            os.environ["PREFECT_API_URL"] = url
            return url
    except httpx.HTTPError:
        pass
    os.environ.setdefault("PREFECT_HOME", str((settings.data_dir / "prefect").resolve()))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Prefect gives its temporary server 20 s by default; a busy 2-core machine
    # needs more to migrate and start it (the command says it is waiting).
    os.environ.setdefault(
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(EPHEMERAL_STARTUP_TIMEOUT_S)
    )
    return (
        "a temporary local Prefect server; starting it can take up to "
        f"{EPHEMERAL_STARTUP_TIMEOUT_S} s"
    )


def register(app: typer.Typer) -> None:
    @app.command("run-flow")
    def run_flow_cmd(
        name: Annotated[
            str,
            typer.Argument(
                help="scrape-llm-prices, scrape-gpu-rates, evaluate-alerts, "
                "refresh-analytics, backfill or gpu-benchmarks"
            ),
        ],
        replay: Annotated[
            Path | None,
            typer.Option(help="Scrapes read recorded responses from DIR/<source>/"),
        ] = None,
        all_dates: Annotated[
            bool,
            typer.Option("--all-dates", help="With --replay: every recording, in date order"),
        ] = False,
        source: Annotated[
            list[str] | None,
            typer.Option("--source", help="Scrape only this source (repeatable)"),
        ] = None,
        param: Annotated[
            list[str] | None,
            typer.Option("--param", help="Flow parameter KEY=VALUE (VALUE may be JSON)"),
        ] = None,
    ) -> None:
        """Run one flow once, here and now, and print its summary as JSON."""
        from flows.deployments import SCRAPES, by_name

        settings = settings_or_exit()
        try:
            spec = by_name(name)
        except KeyError as exc:
            raise _fail(exc.args[0]) from None
        params = _parameters(list(param or []))
        if name in SCRAPES:
            if replay is not None:
                if not replay.is_dir():
                    raise _fail(f"--replay {replay} is not a directory")
                params["replay_dir"] = str(replay.resolve())
            if all_dates:
                if replay is None and settings.replay_dir is None:
                    raise _fail("--all-dates only applies with --replay DIR")
                params["all_dates"] = True
            if source:
                params["sources"] = list(source)
        elif replay is not None or all_dates or source:
            raise _fail(f"--replay, --all-dates and --source apply to {', '.join(SCRAPES)} only")
        _, engine = database_or_exit(require_head=True)
        where = _use_local_prefect(settings)
        typer.echo(f"running {name} (Prefect: {where})", err=True)

        from prefect.client.schemas.objects import State

        from flows.runtime import engine_in_use

        flow = spec.load_flow()
        try:
            with engine_in_use(engine):
                call = flow(**params, return_state=True)
                if inspect.iscoroutine(call):
                    call = asyncio.run(call)
                state = cast(State[Any], call)
        except (TypeError, ValueError) as exc:  # bad parameters, refused before the run
            raise _fail(str(exc)) from None
        finally:
            engine.dispose()
        result = state.result(raise_on_failure=False)
        if state.is_completed():
            typer.echo(dumps(result))
            return
        if isinstance(result, dict):  # a scrape whose failed sources are named in the state
            typer.echo(dumps(result))
            result = state.message
        typer.echo(f"error: {name} ended {state.type.value}: {result}", err=True)
        raise typer.Exit(1)
