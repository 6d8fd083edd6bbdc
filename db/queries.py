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

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Table,
    and_,
    func,
    or_,
    select,
    union_all,
)

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
        return or_(*in_effect_now_arms(table, at))
    return and_(
        v.c.recorded_at <= believed_at,
        or_(v.c.superseded_at.is_(None), v.c.superseded_at > believed_at),
        v.c.valid_from <= at,
        or_(v.c.valid_to.is_(None), v.c.valid_to > at, v.c.closed_recorded_at > believed_at),
    )


def in_effect_now_arms(table: VersionedTable, at: datetime) -> tuple[Any, Any]:
    """``in_effect(table, at)`` as two disjoint conditions, each one index range.

    ``valid_to IS NULL OR valid_to > at`` under ``valid_from <= at`` can only
    use the ``(valid_from, valid_to)`` index as a scan of every version that
    started before ``at``: nearly the whole table for a current read. Split,
    the open versions come from the partial unique index on open versions
    (``uq_*_version_open``: one row per offering) and the versions closed
    after ``at`` (announced changes, rare) from the index on ``valid_to``
    (migration 0013), so a current read costs O(open offerings). The arms are
    disjoint (NULL vs not), so their UNION ALL is exact.
    """
    v = table.version
    return (
        and_(v.c.valid_to.is_(None), v.c.valid_from <= at),
        and_(v.c.valid_to > at, v.c.valid_from <= at),
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
    where = _conditions(table, listing)
    if listing.fresh_only:
        where.append(~table.stale(at))
    if believed_at is None:
        return _read_current(conn, table, listing, where, at, page)
    query = table._select(at).where(*where, in_effect(table, at, believed_at))
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    query = query.order_by(*_order(table, listing, by_time=False))
    if page is not None:
        query = query.limit(page.limit).offset(page.offset)
    return int(total), [dict(r._mapping) for r in conn.execute(query)]


def _read_current(
    conn: Connection,
    table: VersionedTable,
    listing: Listing,
    where: list[Any],
    at: datetime,
    page: Page | None,
) -> tuple[int, list[dict[str, Any]]]:
    """``read_at`` without ``believed_at``: open versions UNION ALL those closing after ``at``."""
    arms = [table._select(at).where(*where, arm) for arm in in_effect_now_arms(table, at)]
    current = union_all(*arms).subquery("current")
    total = conn.execute(select(func.count()).select_from(current)).scalar_one()
    order: list[Any] = [current.c[name] for name in listing.lead_order]
    order += [current.c[table.labels.get(n, n)].asc().nulls_first() for n in table.order]
    query = select(current).order_by(*order)
    if page is not None:
        query = query.limit(page.limit).offset(page.offset)
    return int(total), [dict(r._mapping) for r in conn.execute(query)]


def history(conn: Connection, table: VersionedTable, listing: Listing) -> list[dict[str, Any]]:
    """Every version of the matching offerings, oldest first per offering (stale as of now)."""
    return history_page(conn, table, listing)[1]


def _offering_conditions(table: VersionedTable, listing: Listing) -> list[Any]:
    """``listing``'s equal/any_of filters on the offering table alone (a superset).

    A per-version column (the model of a moving id) matches an offering whose
    own value matches, or one with a version naming that value (through the
    version table's index on the column); the version-level filter then keeps
    exactly the matching versions.
    """
    o, v = table.offering, table.version

    def matches(name: str, test: Any) -> Any:
        if name not in table.per_version:
            return test(o.c[name])
        return or_(test(o.c[name]), o.c.id.in_(select(v.c.offering_id).where(test(v.c[name]))))

    conditions = [
        matches(name, lambda c, value=value: c == value)
        for name, value in listing.equal.items()
        if value is not None
    ]
    return conditions + [
        matches(name, lambda c, values=list(values): c.in_(values))
        for name, values in listing.any_of.items()
    ]


def history_page(
    conn: Connection, table: VersionedTable, listing: Listing, page: Page | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """(matching offerings, every version of the offerings of ``page``), paged by offering.

    The offerings are chosen first on the offering table, then their versions
    read through the ``(offering_id, valid_from)`` index: no version of
    another offering is read and discarded.
    """
    o, v = table.offering, table.version
    offerings = select(o.c.id).where(*_offering_conditions(table, listing))
    if page is None:
        ids = list(conn.execute(offerings).scalars())
        total = len(ids)
    else:
        total = conn.execute(select(func.count()).select_from(offerings.subquery())).scalar_one()
        offerings = offerings.order_by(*[o.c[n].asc().nulls_first() for n in table.order])
        ids = list(conn.execute(offerings.limit(page.limit).offset(page.offset)).scalars())
    if not ids:
        return int(total), []
    # The ids as values, not a subquery: the planner then knows how few
    # offerings it reads and probes the (offering_id, ...) index for each.
    query = table._select(datetime.now(UTC)).where(
        v.c.offering_id.in_(ids), *_conditions(table, listing)
    )
    query = query.order_by(*_order(table, listing, by_time=True))
    return int(total), [dict(r._mapping) for r in conn.execute(query)]


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
