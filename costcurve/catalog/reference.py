"""Curated reference price history: documented list prices and the seeds' figures.

Two reviewed CSV files beside this module hold dated price facts that no
scraper can observe any more (launch prices since 2023, announced price
changes, the figures quoted by the seed analyses):

- ``reference_prices.csv``: one LLM API price per row, USD per million tokens.
- ``reference_gpu_rates.csv``: one GPU rental rate per row, USD per GPU-hour.

Every row carries a citation in ``source`` (a provider URL or a seed file and
section), which becomes the observation's ``source_url``. The observation's
``source`` is ``"reference"`` and its ``observed_at`` (and, for LLM prices,
``effective_from``) is the row's ``effective_date`` at 00:00 UTC.

``LlmPrice`` forbids extra fields, so :func:`load_reference_prices` returns
:class:`ReferencePrice` pairs: the observation plus the row's ``change_kind``
(``reference`` for a documented list price, ``announced`` for a price that was
announced ahead of the date it took effect). GPU rows have no change kind and
load as plain :class:`~scrapers.base.GpuRate` objects; their optional
``statistic`` column marks marketplace aggregates (``min``/``max`` of a quoted
range), which keeps both ends of a range as separate offerings.

Loading is strict: any malformed row raises :class:`ReferenceDataError` naming
the file, the line and what is wrong.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal, cast, get_args

from pydantic import ValidationError

from costcurve.catalog.gpus import is_known_gpu
from costcurve.core.money import tidy
from costcurve.core.observations import GpuPricing, GpuRate, LlmPrice, utc

PRICES_PATH = Path(__file__).with_name("reference_prices.csv")
GPU_RATES_PATH = Path(__file__).with_name("reference_gpu_rates.csv")
SOURCE = "reference"
# A curated list price counts as current for a year after its date, and stops
# counting earlier once a live source lists the same offering (db/freshness.py).
HORIZON = timedelta(days=365)
# The product tracks prices from GPT-4's launch year on; a date outside this
# window is a typo, not history.
FIRST_DATE = date(2023, 1, 1)
LAST_DATE = date(2026, 12, 31)

ChangeKind = Literal["reference", "announced"]
CHANGE_KINDS: tuple[str, ...] = get_args(ChangeKind)
GPU_PRICINGS: tuple[str, ...] = get_args(GpuPricing)

PRICE_COLUMNS = (
    "effective_date",
    "provider",
    "model",
    "provider_model_id",
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "cached_input_usd_per_mtok",
    "variant",
    "change_kind",
    "source",
)
GPU_COLUMNS = (
    "effective_date",
    "provider",
    "gpu",
    "gpu_count",
    "pricing",
    "usd_per_gpu_hour",
    "usd_per_instance_hour",
    "statistic",
    "source",
)

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PRICE_RE = re.compile(r"\d+(\.\d+)?")
_SLUG_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")
_WORD_RE = re.compile(r"[a-z][a-z0-9_]*")
_COUNT_RE = re.compile(r"[1-9]\d*")
# A citation is a web address or a seed file of ../shared/seeds with its section.
_CITATION_RE = re.compile(r"https?://\S+|\bseed \d{3}_[0-9a-f]{16}\.txt\b")


class ReferenceDataError(ValueError):
    """A reference CSV row (or the file's header) is not what the loader expects."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        self.path = path
        self.line = line
        super().__init__(f"{path.name} line {line}: {message}")


@dataclass(frozen=True)
class ReferencePrice:
    """One reference LLM price and how it became known."""

    price: LlmPrice
    change_kind: ChangeKind


class _Row:
    """One CSV row with typed, validating accessors that report the line."""

    def __init__(self, path: Path, line: int, values: dict[str, str]) -> None:
        self.path = path
        self.line = line
        self.values = values

    def error(self, message: str) -> ReferenceDataError:
        return ReferenceDataError(self.path, self.line, message)

    def text(self, column: str, *, required: bool = True) -> str:
        value = self.values[column]
        if value != value.strip():
            raise self.error(f"{column} {value!r} has leading or trailing whitespace")
        if required and not value:
            raise self.error(f"{column} is empty")
        return value

    def matching(self, column: str, pattern: re.Pattern[str], what: str) -> str:
        value = self.text(column)
        if not pattern.fullmatch(value):
            raise self.error(f"{column} {value!r} is not {what}")
        return value

    def day(self) -> date:
        value = self.matching("effective_date", _DATE_RE, "a YYYY-MM-DD date")
        try:
            day = date.fromisoformat(value)
        except ValueError as exc:
            raise self.error(f"effective_date {value!r} is not a calendar date") from exc
        if not FIRST_DATE <= day <= LAST_DATE:
            raise self.error(f"effective_date {value} is outside {FIRST_DATE}..{LAST_DATE}")
        return day

    def price(self, column: str, *, required: bool) -> Decimal | None:
        value = self.text(column, required=required)
        if not value:
            return None
        if not _PRICE_RE.fullmatch(value):
            raise self.error(f"{column} {value!r} is not a plain decimal number (no $, no sign)")
        amount = tidy(Decimal(value))
        if amount <= 0:
            raise self.error(f"{column} {value!r} must be positive (leave it empty if unknown)")
        return amount

    def citation(self) -> str:
        value = self.text("source")
        if not _CITATION_RE.search(value):
            raise self.error(
                f"source {value!r} cites neither a URL nor a seed file "
                "('seed NNN_<hash>.txt §section')"
            )
        return value


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[_Row]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise ReferenceDataError(path, 1, "file is empty; expected a header row") from None
        if tuple(header) != columns:
            raise ReferenceDataError(
                path, 1, f"header is {','.join(header)}; expected {','.join(columns)}"
            )
        for cells in reader:
            line = reader.line_num
            if len(cells) != len(columns):
                raise ReferenceDataError(
                    path, line, f"has {len(cells)} fields; expected {len(columns)}"
                )
            yield _Row(path, line, dict(zip(columns, cells, strict=True)))


def _check_unique(seen: dict[tuple[object, ...], int], key: tuple[object, ...], row: _Row) -> None:
    if key in seen:
        raise row.error(f"duplicates line {seen[key]} (same {key})")
    seen[key] = row.line


def load_reference_prices(path: Path = PRICES_PATH) -> list[ReferencePrice]:
    """Every reference LLM price, in file order, validated."""
    out: list[ReferencePrice] = []
    seen: dict[tuple[object, ...], int] = {}
    for row in _rows(path, PRICE_COLUMNS):
        day = row.day()
        provider = row.matching("provider", _SLUG_RE, "a lowercase provider slug")
        model = row.matching("model", _SLUG_RE, "a lowercase canonical model slug")
        variant = row.matching("variant", _WORD_RE, "a lowercase variant name")
        kind = row.text("change_kind")
        if kind not in CHANGE_KINDS:
            raise row.error(f"change_kind {kind!r} is not one of {', '.join(CHANGE_KINDS)}")
        input_price = row.price("input_usd_per_mtok", required=False)
        output_price = row.price("output_usd_per_mtok", required=False)
        cached = row.price("cached_input_usd_per_mtok", required=False)
        if input_price is None and output_price is None:
            raise row.error("has neither an input nor an output price")
        if cached is not None and input_price is not None and cached > input_price:
            raise row.error(f"cached input {cached} exceeds the input price {input_price}")
        _check_unique(seen, (day.isoformat(), provider, model, variant), row)
        # An alias such as DeepSeek's "deepseek-chat" names a different model over
        # time; the reference history is about models, so its offering is the model.
        provider_model_id = model or row.text("provider_model_id")
        try:
            price = LlmPrice(
                source=SOURCE,
                provider=provider,
                provider_model_id=provider_model_id,
                model=model,
                input_usd_per_mtok=input_price,
                output_usd_per_mtok=output_price,
                cached_input_usd_per_mtok=cached,
                variant=variant,
                observed_at=utc(day),
                effective_from=utc(day),
                source_url=row.citation(),
            )
        except ValidationError as exc:
            raise row.error(f"not a valid LlmPrice: {exc}") from exc
        out.append(ReferencePrice(price, cast(ChangeKind, kind)))
    return out


def load_reference_gpu_rates(path: Path = GPU_RATES_PATH) -> list[GpuRate]:
    """Every reference GPU rental rate, in file order, validated."""
    out: list[GpuRate] = []
    seen: dict[tuple[object, ...], int] = {}
    for row in _rows(path, GPU_COLUMNS):
        day = row.day()
        provider = row.matching("provider", _SLUG_RE, "a lowercase provider slug")
        gpu = row.text("gpu")
        if not is_known_gpu(gpu):
            raise row.error(f"gpu {gpu!r} is not a canonical name in catalog/gpus.py")
        count = int(row.matching("gpu_count", _COUNT_RE, "a positive whole number"))
        pricing = row.text("pricing")
        if pricing not in GPU_PRICINGS:
            raise row.error(f"pricing {pricing!r} is not one of {', '.join(GPU_PRICINGS)}")
        per_gpu = row.price("usd_per_gpu_hour", required=True)
        per_instance = row.price("usd_per_instance_hour", required=False)
        assert per_gpu is not None  # required=True never returns None
        if per_instance is not None and per_instance != per_gpu * count:
            raise row.error(
                f"usd_per_instance_hour {per_instance} is not {count} x usd_per_gpu_hour {per_gpu}"
            )
        statistic = row.text("statistic", required=False)
        if statistic and not _WORD_RE.fullmatch(statistic):
            raise row.error(f"statistic {statistic!r} is not a lowercase word such as min or max")
        _check_unique(seen, (day.isoformat(), provider, gpu, count, pricing, statistic), row)
        try:
            rate = GpuRate(
                source=SOURCE,
                provider=provider,
                gpu=gpu,
                gpu_count=count,
                pricing=cast(GpuPricing, pricing),
                usd_per_gpu_hour=per_gpu,
                usd_per_instance_hour=per_instance,
                statistic=statistic or None,
                observed_at=utc(day),
                source_url=row.citation(),
            )
        except ValidationError as exc:
            raise row.error(f"not a valid GpuRate: {exc}") from exc
        out.append(rate)
    return out
