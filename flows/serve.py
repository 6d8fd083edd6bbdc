"""``python -m flows.serve``: serve the deployments on their schedules (``costcurve up``).

Runs in its own process, so that ``costcurve up`` can stop it before the
Prefect server. Each flow run is started by the runner as a subprocess. With
``--run-now`` the scrape deployments get one run immediately, so a fresh
``costcurve up --replay DIR`` shows completed runs without waiting for cron.

SIGTERM or SIGINT stops it with exit status 0: in-flight runs are cancelled and
the schedules it served are paused (the next serve resumes them).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, cast

from prefect.runner import Runner


class GracefulRunner(Runner):
    """Prefect's Runner, stopped by a signal through an awaited ``astop``.

    ``Runner.start`` installs ``handle_sigterm`` as the SIGTERM handler. Prefect's
    handler calls ``self.stop()``, a sync/async dispatcher: the handler runs on
    the main thread while the event loop runs there, so ``stop()`` returns the
    coroutine ``astop()`` un-awaited ("coroutine 'Runner.astop' was never
    awaited") and ``sys.exit(0)`` then unwinds the loop from the middle. Here the
    handler only schedules ``astop`` on the loop; ``start`` then returns
    normally after pausing the schedules.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stop_task: asyncio.Task[None] | None = None

    def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:  # noqa: ARG002
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # Not serving (yet, or any more): nothing runs that needs stopping.
            raise SystemExit(0) from None
        # A signal handler may interrupt the loop anywhere; call_soon_threadsafe
        # is the loop's safe entry from such a place.
        loop.call_soon_threadsafe(self._request_stop)

    def _request_stop(self) -> None:
        if self._stop_task is None:
            self._logger.info("Stop requested, cancelling runs and pausing schedules...")
            self._stop_task = asyncio.ensure_future(self._stop_once_started())

    async def _stop_once_started(self) -> None:
        # A signal during start-up waits until there is something to stop.
        while not self.started:
            await asyncio.sleep(0.05)
        await self.astop()


def _on_signal(runner: GracefulRunner) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
        runner.handle_sigterm()

    return handler


def _run_now(deployments: list[Any]) -> None:
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    from flows.deployments import SCRAPES

    for deployment in deployments:
        if deployment.name in SCRAPES:
            deployment.apply()
            run = cast(FlowRun, run_deployment(f"{deployment.name}/{deployment.name}", timeout=0))
            # `costcurve up` relays this process's stdout to the person who started it.
            print(f"started {deployment.name}: flow run {run.name} ({run.id})", flush=True)  # noqa: T201


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.serve")
    parser.add_argument("--replay", type=Path, help="scrapes read DIR/<source>/")
    parser.add_argument("--all-dates", action="store_true", help="replay every recording")
    parser.add_argument("--run-now", action="store_true", help="run the scrapes once now")
    args = parser.parse_args(argv)

    from flows.deployments import served_deployments

    # What prefect.serve does, with our runner: pause the served schedules on shutdown.
    runner = GracefulRunner(pause_on_shutdown=True)
    # Installed before anything is registered, so that a stop during start-up is
    # an exit 0 too; Runner.start installs the same handler for SIGTERM again.
    signal.signal(signal.SIGTERM, _on_signal(runner))
    signal.signal(signal.SIGINT, _on_signal(runner))
    replay = args.replay.resolve() if args.replay else None
    deployments = served_deployments(replay, all_dates=args.all_dates)
    if args.run_now:
        _run_now(deployments)
    for deployment in deployments:
        runner.add_deployment(deployment)
    asyncio.run(runner.start())
    return 0


if __name__ == "__main__":
    sys.exit(main())
