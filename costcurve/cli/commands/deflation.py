"""``costcurve deflation``: Epoch AI's constant-capability deflation rate from a CSV.

CSV columns: ``model,date,usd_per_mtok,reasoning`` and one column per
benchmark score, named as the benchmark (e.g. ``MMLU``, ``GPQA Diamond``).
``date`` is ISO (2024-05-13); ``usd_per_mtok`` is the blended price;
``reasoning`` is true/false/yes/no/1/0 (empty = false; the column may be left
out unless --exclude-reasoning is given); a score may end in ``%``; an empty
price or score leaves that model out. Prints one JSON object; bad input exits
with status 2 and a message on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import polars as pl
import typer

from costcurve.analytics.deflation import EPOCH_COLUMNS, benchmark_columns, epoch_deflation
from costcurve.core.jsonenc import dumps

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0", ""}


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _bad_values(frame: pl.DataFrame, raw: str, parsed: pl.Expr) -> list[str]:
    rows = frame.filter(pl.col(raw).is_not_null() & parsed.is_null())
    return [f"{m!r} ({v!r})" for m, v in rows.select("model", raw).head(5).iter_rows()]


def _number(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    text = pl.col(column).str.strip_chars().str.strip_suffix("%").str.strip_chars()
    parsed = pl.when(text != "").then(text).cast(pl.Float64, strict=False)
    bad = _bad_values(frame, column, pl.when(text == "").then(0.0).otherwise(parsed))
    if bad:
        _fail(f"column {column!r} must hold numbers; not so for {', '.join(bad)}")
    return frame.with_columns(parsed.alias(column))


def read_deflation_csv(path: Path, benchmark: str, *, need_reasoning: bool) -> pl.DataFrame:
    """The CSV as typed columns, or exit 2 naming what is wrong."""
    if not path.is_file():
        _fail(f"{path} is not a file")
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        _fail(f"{path} is not a readable CSV: {exc}")
    frame = frame.rename({c: c.strip() for c in frame.columns})
    required = ["model", "date", "usd_per_mtok"] + (["reasoning"] if need_reasoning else [])
    missing = [c for c in required if c not in frame.columns]
    if missing:
        _fail(
            f"{path} lacks column(s) {', '.join(missing)}; expected "
            f"{','.join(EPOCH_COLUMNS)} and one column per benchmark"
        )
    if benchmark not in benchmark_columns(frame):
        available = ", ".join(repr(c) for c in benchmark_columns(frame)) or "none"
        _fail(f"unknown benchmark {benchmark!r}; available benchmarks: {available}")

    date = pl.col("date").str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
    bad = _bad_values(frame, "date", date)
    if bad:
        _fail(f"dates must be ISO (YYYY-MM-DD); not so for {', '.join(bad)}")
    frame = _number(_number(frame.with_columns(date), "usd_per_mtok"), benchmark)
    if "reasoning" in frame.columns:
        flag = pl.col("reasoning").fill_null("").str.strip_chars().str.to_lowercase()
        unknown = frame.filter(~flag.is_in(_TRUE | _FALSE))
        if not unknown.is_empty():
            examples = ", ".join(repr(v) for v in unknown["reasoning"].head(5))
            _fail(f"reasoning must be true/false (or yes/no, 1/0); got {examples}")
        frame = frame.with_columns(reasoning=flag.is_in(_TRUE))
    return frame


def register(app: typer.Typer) -> None:
    @app.command("deflation")
    def deflation_cmd(
        from_csv: Annotated[
            Path, typer.Option("--from-csv", help="CSV: model,date,usd_per_mtok,reasoning,<scores>")
        ],
        benchmark: Annotated[str, typer.Option(help="Benchmark column, e.g. 'GPQA Diamond'")],
        threshold: Annotated[float, typer.Option(help="Minimum score a model must reach")],
        exclude_reasoning: Annotated[
            bool, typer.Option("--exclude-reasoning", help="Leave reasoning models out")
        ] = False,
    ) -> None:
        """Price deflation at constant capability (Epoch AI's method) as one JSON object."""
        frame = read_deflation_csv(from_csv, benchmark, need_reasoning=exclude_reasoning)
        try:
            result = epoch_deflation(
                frame, benchmark, threshold, exclude_reasoning=exclude_reasoning
            )
        except ValueError as exc:
            _fail(str(exc))
        typer.echo(dumps(result.as_dict()))
