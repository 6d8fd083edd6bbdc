"""What ingest versions, derived from the table definitions (db/models.py).

An offering is identified by the columns of its ``uq_<table>_key`` constraint;
every other version column that is not bookkeeping is a value that a change of
makes a new version. Deriving both from the tables means a column added to a
model is versioned (and reported as a change) without a second list to update.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from operator import attrgetter
from typing import Any

from sqlalchemy import Table, UniqueConstraint

from costcurve.core.observations import GpuRate, LlmPrice, Observation
from costcurve.core.offer_terms import same_price
from db.models import (
    GPU_OBSERVATION,
    GPU_VERSION_RECORD,
    LLM_OBSERVATION,
    LLM_VERSION_RECORD,
    VERSION_BOOKKEEPING,
    GpuOffering,
    GpuRateVersion,
    LlmOffering,
    LlmPriceVersion,
)

BOOKKEEPING = VERSION_BOOKKEEPING
_OFFERING_BOOKKEEPING = frozenset({"id", "first_seen_at", "last_seen_at"})
# Versioned values that are not prices: who the price is for and its currency.
IDENTITY = frozenset({"model_slug", "original_currency", "fx_rate"})
# Table column -> observation field where the names differ.
_FIELD_OF_COLUMN = {"model_slug": "model"}


@dataclass(frozen=True)
class Kind:
    name: str  # llm_price | gpu_rate
    observation: type[LlmPrice] | type[GpuRate]
    offering: Table
    version: Table  # the current belief (a view)
    record: Table  # every version ever believed
    log: Table  # the observations versions are derived from

    @cached_property
    def key_columns(self) -> tuple[str, ...]:
        wanted = f"uq_{self.offering.name}_key"
        for constraint in self.offering.constraints:
            if isinstance(constraint, UniqueConstraint) and constraint.name == wanted:
                return tuple(c.name for c in constraint.columns)
        raise LookupError(f"{self.offering.name} has no {wanted} constraint")

    @cached_property
    def offering_extra(self) -> tuple[str, ...]:
        """Offering columns refreshed from the latest observation (not key, not bookkeeping)."""
        skip = set(self.key_columns) | _OFFERING_BOOKKEEPING
        return tuple(c.name for c in self.offering.c if c.name not in skip)

    @cached_property
    def value_columns(self) -> tuple[str, ...]:
        """Version columns whose change opens a new version."""
        return tuple(c.name for c in self.version.c if c.name not in BOOKKEEPING)

    @cached_property
    def price_fields(self) -> tuple[str, ...]:
        """The value columns that are prices or counts (what a change report lists)."""
        return tuple(c for c in self.value_columns if c not in IDENTITY)

    def key_of(self, obs: Observation) -> dict[str, Any]:
        return dict(zip(self.key_columns, self._read_key(obs), strict=True))

    def offering_row(self, obs: Observation) -> dict[str, Any]:
        columns = (*self.key_columns, *self.offering_extra)
        return dict(zip(columns, self._read_offering(obs), strict=True))

    def values_of(self, obs: Observation) -> dict[str, Any]:
        return dict(zip(self.value_columns, self._read_values(obs), strict=True))

    @cached_property
    def _read_key(self) -> Callable[[Observation], tuple[Any, ...]]:
        return self.reader(self.key_columns)

    @cached_property
    def _read_offering(self) -> Callable[[Observation], tuple[Any, ...]]:
        return self.reader((*self.key_columns, *self.offering_extra))

    @cached_property
    def _read_values(self) -> Callable[[Observation], tuple[Any, ...]]:
        return self.reader(self.value_columns)

    def reader(self, columns: Sequence[str]) -> Callable[[Observation], tuple[Any, ...]]:
        """One call reading ``columns`` off an observation, as a tuple.

        Staging reads every column of every observation; one C-level
        ``attrgetter`` call per observation keeps that loop off the profile.
        """
        names = [_FIELD_OF_COLUMN.get(c, c) for c in columns]
        get = attrgetter(*names)
        if len(names) == 1:
            return lambda obs: (get(obs),)
        return get


def same_values(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal values; prices closer than the published precision count as equal."""
    for column, value in a.items():
        other = b[column]
        if isinstance(value, Decimal) or isinstance(other, Decimal):
            if not same_price(value, other):
                return False
        elif value != other:
            return False
    return True


LLM = Kind(
    "llm_price",
    LlmPrice,
    LlmOffering.__table__,  # type: ignore[attr-defined]
    LlmPriceVersion.__table__,  # type: ignore[attr-defined]
    LLM_VERSION_RECORD,
    LLM_OBSERVATION,
)
GPU = Kind(
    "gpu_rate",
    GpuRate,
    GpuOffering.__table__,  # type: ignore[attr-defined]
    GpuRateVersion.__table__,  # type: ignore[attr-defined]
    GPU_VERSION_RECORD,
    GPU_OBSERVATION,
)
KINDS = (LLM, GPU)
PRICE_FIELDS: dict[str, tuple[str, ...]] = {k.name: k.price_fields for k in KINDS}
