"""Query parameter types shared by the routes: strict where FastAPI is lax."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _not_a_number(value: object) -> object:
    # pydantic reads "0.5" as a Unix timestamp; the API documents ISO 8601 only.
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        raise ValueError("must be an ISO 8601 date-time such as 2026-08-03T00:00:00Z")
    return value


IsoDatetime = Annotated[datetime, BeforeValidator(_not_a_number)]


def _iso_day(value: object) -> object:
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        raise ValueError("must be an ISO 8601 date such as 2026-08-03")
    return value


def _plausible_day(value: date) -> date:
    # Dates the product can hold prices for; 9999-12-31 + 1 day would overflow.
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    return value


FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2199, 12, 31)
IsoDate = Annotated[date, BeforeValidator(_iso_day), AfterValidator(_plausible_day)]
