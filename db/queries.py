"""Point-in-time reads of the versioned price tables: the one read path.

The API, the CLI and the tests read prices through these functions. ``at``
answers "what was the price at D"; adding ``believed_at`` answers "what did we
believe at R the price at D was": it reads every version ever believed (the
record table), ignores versions recorded after R and those superseded by R, and
treats a close recorded after R as not yet known.

The columns a listing returns are derived from the table definitions (the
offering's identity, then every value column of the version), so a column
added to a table reaches every read and every CSV without another list to edit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Table, and_, func, or_, select

from db.countable_sql import excluded_expr, stale_expr
from db.models import (
    GPU_VERSION_RECORD,
    LLM_VERSION_RECORD,
    GpuOffering,
    GpuRateVersion,
    LlmOffering,
    LlmPriceVersion,
)

# Bookkeeping columns of a version that are not part of what a price *is*.
_VERSION_INTERNAL = frozenset({"id", "offering_id", "run_id", "changed_xid", "superseded_at"})
# Offering columns that are bookkeeping, not identity.
_OFFERING_INTERNAL = frozenset({"id", "first_seen_at", "last_seen_at"})


@dataclass(frozen=True)
class VersionedTable:
    """An offering table and its version table, read together."""

    offering: Table
    version: Table  # the current belief (a view over ``record``)
    # Offering columns a listing is ordered by (NULLs first), after any leading order.
    order: tuple[str, ...]
    # Renamed in listings: the catalog's word for an offering column.
    labels: Mapping[str, str] = field(default_factory=dict)
    # Offering columns a version may restate for itself (the canonical model of
    # a moving id): the version's value wins where it has one.
    per_version: frozenset[str] = frozenset()
    # price_flag's column naming this table's versions (the plausibility screen).
    flag_column: str = ""
    # Every version ever believed, superseded ones included ("believed at R").
    record: Table | None = None

    def as_believed(self) -> VersionedTable:
        """The same listing over every version ever believed (for ``believed_at`` reads)."""
        assert self.record is not None
        return replace(self, version=self.record)

    def offering_columns(self) -> list[Column[Any]]:
        return [c for c in self.offering.c if c.name not in _OFFERING_INTERNAL]

    def value_columns(self) -> list[Column[Any]]:
        skip = _VERSION_INTERNAL | self.per_version
        return [c for c in self.version.c if c.name not in skip]

    def column(self, name: str) -> Any:
        """An offering column as listings filter on it (the version's own value first)."""
        if name in self.per_version:
            return func.coalesce(self.version.c[name], self.offering.c[name])
        return self.offering.c[name]

    def listing_names(self) -> tuple[str, ...]:
        """The column names of a listing, in order (also the CSV header)."""
        names = [self.labels.get(c.name, c.name) for c in self.offering_columns()]
        values = (c.name for c in self.value_columns())
        return (*names, *values, "stale", "quarantined", "version_id")

    def stale(self, at: datetime) -> Any:
        """Last seen longer ago than its source's freshness horizon, as of ``at``."""
        return stale_expr(self.version, self.offering, at)

    def _select(self, at: datetime) -> Any:
        o, v = self.offering, self.version
        offering = [
            self.column(c.name).label(self.labels.get(c.name, c.name))
            for c in self.offering_columns()
        ]
        state = [
            and_(v.c.valid_to.is_(None), self.stale(at)).label("stale"),
            excluded_expr(v, self.flag_column).label("quarantined"),
        ]
        return select(
            *offering, *self.value_columns(), *state, v.c.id.label("version_id")
        ).select_from(v.join(o, o.c.id == v.c.offering_id))


LLM = VersionedTable(
    LlmOffering.__table__,  # type: ignore[attr-defined]
    LlmPriceVersion.__table__,  # type: ignore[attr-defined]
    order=(
        "provider",
        "provider_model_id",
        "variant",
        "context_tier",
        "modality",
        "source",
        "deployment",
        "region",
        "endpoint",
    ),
    labels={"model_slug": "model"},
    per_version=frozenset({"model_slug"}),
    flag_column="llm_price_version_id",
    record=LLM_VERSION_RECORD,
)
GPU = VersionedTable(
    GpuOffering.__table__,  # type: ignore[attr-defined]
    GpuRateVersion.__table__,  # type: ignore[attr-defined]
    order=("provider", "pricing", "region", "instance_type", "gpu", "gpu_count", "os", "source"),
    flag_column="gpu_rate_version_id",
    record=GPU_VERSION_RECORD,
)


@dataclass(frozen=True)
class Listing:
    """Which rows of a versioned table to read."""

    # Offering column -> required value (None values are ignored).
    equal: Mapping[str, Any] = field(default_factory=dict)
    # Offering column -> allowed values (e.g. the canonical models of a tier).
    any_of: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    # Extra conditions over the version table (e.g. ``NOT free``).
    where: tuple[ColumnElement[bool], ...] = ()
    # Order by these version columns first (e.g. the cheapest GPU rate first).
    lead_order: tuple[str, ...] = ()
    # Leave out versions past their source's freshness horizon (read_at only).
    fresh_only: bool = False


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int = 0


def in_effect(table: VersionedTable, at: datetime, believed_at: datetime | None = None) -> Any:
    """The version was in effect at ``at`` (as believed at ``believed_at``, if given).

    With ``believed_at``, ``table`` must read the record table (``as_believed``).
    """
    v = table.version
    if believed_at is None:
        return and_(v.c.valid_from <= at, or_(v.c.valid_to.is_(None), v.c.valid_to > at))
    return and_(
        v.c.recorded_at <= believed_at,
        or_(v.c.superseded_at.is_(None), v.c.superseded_at > believed_at),
        v.c.valid_from <= at,
        or_(v.c.valid_to.is_(None), v.c.valid_to > at, v.c.closed_recorded_at > believed_at),
    )


def _conditions(table: VersionedTable, listing: Listing) -> list[Any]:
    conditions: list[Any] = [
        table.column(name) == value for name, value in listing.equal.items() if value is not None
    ]
    conditions += [table.column(name).in_(list(values)) for name, values in listing.any_of.items()]
    return conditions + list(listing.where)


def _order(table: VersionedTable, listing: Listing, *, by_time: bool) -> list[Any]:
    o, v = table.offering, table.version
    order: list[Any] = [v.c[name] for name in listing.lead_order]
    order += [o.c[name].asc().nulls_first() for name in table.order]
    return order + ([v.c.valid_from] if by_time else [])


def read_at(
    conn: Connection,
    table: VersionedTable,
    listing: Listing,
    at: datetime,
    *,
    believed_at: datetime | None = None,
    page: Page | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """(total matching, rows of ``page``) of the versions in effect at ``at``."""
    if believed_at is not None:
        table = table.as_believed()
    where = [*_conditions(table, listing), in_effect(table, at, believed_at)]
    if listing.fresh_only:
        where.append(~table.stale(at))
    query = table._select(at).where(*where)
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    query = query.order_by(*_order(table, listing, by_time=False))
    if page is not None:
        query = query.limit(page.limit).offset(page.offset)
    return int(total), [dict(r._mapping) for r in conn.execute(query)]


def history(conn: Connection, table: VersionedTable, listing: Listing) -> list[dict[str, Any]]:
    """Every version of the matching offerings, oldest first per offering (stale as of now)."""
    query = table._select(datetime.now(UTC)).where(*_conditions(table, listing))
    query = query.order_by(*_order(table, listing, by_time=True))
    return [dict(r._mapping) for r in conn.execute(query)]


def llm_prices_as_of(
    conn: Connection,
    at: datetime,
    *,
    believed_at: datetime | None = None,
    source: str | None = None,
    provider: str | None = None,
    provider_model_id: str | None = None,
    model: str | None = None,
) -> list[dict[str, Any]]:
    """The token prices in effect at ``at`` (as believed at ``believed_at``)."""
    equal = {
        "source": source,
        "provider": provider,
        "provider_model_id": provider_model_id,
        "model_slug": model,
    }
    return read_at(conn, LLM, Listing(equal=equal), at, believed_at=believed_at)[1]


def llm_history(
    conn: Connection, *, source: str, provider: str, provider_model_id: str
) -> list[dict[str, Any]]:
    """Every version of one seller's model id (all variants and context tiers)."""
    equal = {"source": source, "provider": provider, "provider_model_id": provider_model_id}
    return history(conn, LLM, Listing(equal=equal))
