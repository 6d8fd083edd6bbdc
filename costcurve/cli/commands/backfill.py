"""``costcurve backfill DATASET``: version years of price history in one go.

``openrouterlist``, ``genai-prices`` and ``litellm`` read their upstream URL
unless ``--file`` names a local copy (for ``litellm``, ``--file`` may repeat or
name a folder of dated snapshots, ingested oldest first); ``reference`` loads
the curated ``catalog/reference_*.csv``. See db/backfill.py for the rules.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from costcurve.cli.runtime import database_or_exit
from costcurve.core.jsonenc import dumps

REFERENCE = "reference"


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _observed_at(value: str | None, files: list[Path], dataset: str) -> datetime:
    """When a local copy was captured: --observed-at or its file name's date.

    A dataset whose points carry their own dates (``SELF_DATED``) does not
    need one; any other undated copy is refused (never its file time).
    """
    from costcurve.cli.commands.parse import observed_at_option
    from scrapers.history import DATASETS

    self_dated = getattr(DATASETS.get(dataset), "SELF_DATED", False)
    if files and not (self_dated and value is None):
        return observed_at_option(value, files[0])
    if value:
        return observed_at_option(value, Path("-"))
    return datetime.now(UTC)


def _fetch(dataset: str) -> bytes:
    import httpx

    from scrapers.history import DATASETS
    from scrapers.http import make_client
    from scrapers.litellm import URL as LITELLM_URL
    from scrapers.litellm import fetch as fetch_litellm

    url = DATASETS[dataset].URL if dataset in DATASETS else LITELLM_URL
    fetch = DATASETS[dataset].fetch if dataset in DATASETS else fetch_litellm
    try:
        with make_client() as client:
            return fetch(client)
    except httpx.HTTPError as exc:
        raise _fail(f"cannot fetch {url}: {exc}", 1) from None


# One nested typer command per subcommand: each is its own small unit.
def register(app: typer.Typer) -> None:  # noqa: C901
    @app.command("backfill")
    def backfill_cmd(
        dataset: Annotated[
            str,
            typer.Argument(
                help="openrouterlist, genai-prices, litellm, reference, "
                "gpu-daily, gpu-marketplace or gpu-ratecards"
            ),
        ],
        file: Annotated[
            list[Path] | None,
            typer.Option(
                "--file",
                help="Read this local copy instead of the upstream URL "
                "(litellm: repeat it or name a folder of dated snapshots)",
            ),
        ] = None,
        observed_at: Annotated[
            str | None,
            typer.Option(
                help="When the document was fetched (default: date in file name, else now)"
            ),
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="End with a JSON summary line")
        ] = False,
    ) -> None:
        """Load a price history dataset (or the curated reference) into the database."""
        from costcurve.catalog.reference import ReferenceDataError
        from costcurve.core.observations import ParseError
        from db.backfill import (
            DATASET_NAMES,
            LITELLM,
            backfill,
            backfill_litellm_files,
            litellm_files,
            load_reference_history,
        )
        from db.gpu_backfill import GPU_DATASET_NAMES

        files = list(file or [])
        if dataset in GPU_DATASET_NAMES:
            _gpu_backfill(dataset, files, as_json=as_json)
            return
        if dataset not in (*DATASET_NAMES, REFERENCE):
            known = ", ".join((*DATASET_NAMES, *GPU_DATASET_NAMES, REFERENCE))
            raise _fail(f"unknown dataset {dataset!r}; known datasets: {known}")
        if dataset == REFERENCE and files:
            raise _fail("reference reads catalog/reference_*.csv; it takes no --file")
        if dataset not in (LITELLM, REFERENCE) and len(files) > 1:
            raise _fail(f"{dataset} is one document; give --file once")
        if dataset == LITELLM and files:
            try:
                files = litellm_files(files)
            except (OSError, ValueError) as exc:
                raise _fail(str(exc)) from None
            if not files:
                raise _fail("no *.json snapshot files found")
        elif files and not files[0].is_file():
            raise _fail(f"{files[0]} is not a file")
        _, engine = database_or_exit(require_head=True)
        try:
            if dataset == REFERENCE:
                outcomes = [load_reference_history(engine)]
            elif dataset == LITELLM and files:
                outcomes = backfill_litellm_files(engine, files)
            else:
                when = _observed_at(observed_at, files, dataset)
                raw = files[0].read_bytes() if files else _fetch(dataset)
                outcomes = [backfill(engine, dataset, raw, observed_at=when)]
        except (ParseError, ReferenceDataError) as exc:
            raise _fail(f"parse failed, nothing changed in that run: {exc}", 1) from None
        totals = {"rows": 0, "new_versions": 0, "closed_versions": 0, "unchanged": 0, "skipped": 0}
        for outcome in outcomes:
            r = outcome.result
            counts = {
                "rows": r.observations,
                "new_versions": r.new_versions,
                "closed_versions": r.closed_versions,
                "unchanged": r.unchanged,
                "skipped": r.skipped,
            }
            totals = {k: totals[k] + counts[k] for k in totals}
            typer.echo(
                f"run {outcome.run_id}: {r.observations} rows, {r.new_versions} new versions, "
                f"{r.closed_versions} closed, {r.unchanged} unchanged, {r.skipped} skipped"
            )
        if totals["skipped"]:
            typer.echo(
                f"warning: {totals['skipped']} rows contradict recorded history and were skipped",
                err=True,
            )
        if as_json:
            typer.echo(dumps(totals))


def _gpu_backfill(dataset: str, files: list[Path], *, as_json: bool) -> None:
    """gpu-daily --file CSV, gpu-marketplace --file DIR, gpu-ratecards --file DIR."""
    from costcurve.core.observations import ParseError
    from db.gpu_backfill import backfill_gpu_dataset

    if len(files) != 1:
        raise _fail(f"{dataset} needs --file once (the dataset's file or folder)")
    _, engine = database_or_exit(require_head=True)
    try:
        outcome = backfill_gpu_dataset(engine, dataset, files[0])
    except (ParseError, OSError, ValueError) as exc:
        raise _fail(f"{dataset}: nothing changed in that run: {exc}", 1) from None
    r = outcome.result
    typer.echo(
        f"run {outcome.run_id}: {r.observations} rows, {r.new_versions} new versions, "
        f"{r.closed_versions} closed, {r.unchanged} unchanged, {r.skipped} skipped "
        f"({len(outcome.files)} file(s))"
    )
    for reason, count in sorted(outcome.skipped.items()):
        typer.echo(f"not imported: {count} rows: {reason}", err=True)
    if as_json:
        typer.echo(
            dumps(
                {
                    "rows": r.observations,
                    "new_versions": r.new_versions,
                    "closed_versions": r.closed_versions,
                    "unchanged": r.unchanged,
                    "skipped": r.skipped,
                }
            )
        )
