"""``python -m flows.serve``: serve the deployments on their schedules (``costcurve up``).

Runs in its own process, so that ``costcurve up`` can stop it before the
Prefect server. Each flow run is started by the runner as a subprocess. With
``--run-now`` the scrape deployments get one run immediately, so a fresh
``costcurve up --replay DIR`` shows completed runs without waiting for cron.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import cast


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.serve")
    parser.add_argument("--replay", type=Path, help="scrapes read DIR/<source>/")
    parser.add_argument("--all-dates", action="store_true", help="replay every recording")
    parser.add_argument("--run-now", action="store_true", help="run the scrapes once now")
    args = parser.parse_args(argv)

    from prefect import serve
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    from flows.deployments import SCRAPES, served_deployments

    replay = args.replay.resolve() if args.replay else None
    deployments = served_deployments(replay, all_dates=args.all_dates)
    if args.run_now:
        for deployment in deployments:
            if deployment.name in SCRAPES:
                deployment.apply()
                run = cast(
                    FlowRun, run_deployment(f"{deployment.name}/{deployment.name}", timeout=0)
                )
                # `costcurve up` relays this process's stdout to the person who started it.
                print(f"started {deployment.name}: flow run {run.name} ({run.id})", flush=True)  # noqa: T201
    # The runner stops gracefully on SIGTERM (prefect.runner.Runner.handle_sigterm)
    # and pauses the schedules it served; the next serve resumes them.
    serve(*deployments, print_starting_message=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
