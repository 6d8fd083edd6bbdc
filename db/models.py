"""The schema. Migrations in ``migrations/`` are generated from these tables and
are the only way the schema is created (the app never calls ``create_all``).

Price tables are versioned: a version is valid over ``[valid_from, valid_to)``
and was learned at ``recorded_at``; closing a version sets ``valid_to`` and
``closed_recorded_at`` (when we learned it ended) and nothing else. A change is
always a new row, so "what was the price at D" and "what did we believe at R"
are both answerable (see db/queries.py).

Every version ever believed is a row of ``*_version_record``; one that a
later-arriving observation contradicted keeps its row with ``superseded_at``
(when it stopped being believed). The views ``llm_price_version`` and
``gpu_rate_version`` (the ORM classes below) are the current belief: every
read of "now" goes through them, so a superseded row is never read by mistake.
The observation logs and ``listing_event`` are what versions are derived from
(db/ingest.py rebuilds an offering's versions from them).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.columns import Xid8, changed_xid, money, timestamptz, utcnow


class Source(SQLModel, table=True):
    __tablename__ = "source"

    slug: str = Field(primary_key=True)
    kind: str  # llm_price | gpu_rate | dataset | reference
    url: str | None = None
    listing_complete: bool = False
    verified_against_recording: bool = False


class RawSnapshot(SQLModel, table=True):
    """A fetched response, archived content-addressed so history can be re-parsed."""

    __tablename__ = "raw_snapshot"

    sha256: str = Field(primary_key=True, max_length=64)
    source: str = Field(foreign_key="source.slug", index=True)
    url: str
    fetched_at: datetime = timestamptz()
    content_type: str | None = None
    size_bytes: int
    compression: str = "zlib"
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class PipelineRun(SQLModel, table=True):
    __tablename__ = "pipeline_run"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    source: str = Field(foreign_key="source.slug", index=True)
    flow_run_id: uuid.UUID | None = Field(default=None, index=True)
    trigger: str = "cli"  # cli | flow | backfill | replay
    started_at: datetime = timestamptz(index=True)
    finished_at: datetime | None = timestamptz(nullable=True)
    status: str = "running"  # running | succeeded | failed | crashed (process died)
    observed_at: datetime | None = timestamptz(nullable=True)
    snapshot_sha256: str | None = Field(default=None, foreign_key="raw_snapshot.sha256")
    observations: int = 0
    new_versions: int = 0
    closed_versions: int = 0
    unchanged: int = 0
    skipped: int = 0
    listing_complete: bool = False
    error: str | None = Field(default=None, sa_column=Column(Text))


class LlmOffering(SQLModel, table=True):
    """What is sold: one (source, provider, model id, variant, context tier, modality).

    Stored with half of each page free (migration 0015): a scrape moves every listed
    offering's ``last_seen_at``, and free room makes that a HOT update.
    """

    __tablename__ = "llm_offering"
    __table_args__ = (
        UniqueConstraint(
            "source",
            "provider",
            "provider_model_id",
            "variant",
            "context_tier",
            "modality",
            "deployment",
            "region",
            "endpoint",
            name="uq_llm_offering_key",
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    source: str = Field(foreign_key="source.slug")
    provider: str = Field(index=True)
    provider_model_id: str
    variant: str = "standard"
    context_tier: str | None = None
    modality: str = "text"
    # Deployment scope, region and aggregator endpoint tag (LlmPrice): identity.
    deployment: str | None = None
    region: str | None = None
    endpoint: str | None = None
    # Serving attributes refreshed from the latest observation (not versioned).
    quantization: str | None = None
    context_length: int | None = None
    model_slug: str | None = Field(default=None, index=True)
    first_seen_at: datetime = timestamptz()
    last_seen_at: datetime = timestamptz()


class LlmEndpointStat(SQLModel, table=True):
    """Measured speed of an offering's endpoint at one observation (not a price).

    Stored beside the versioned prices, one row per (offering, observed_at), so
    "cheapest offering at or above a throughput" can be asked; NUMERIC like money
    because the aggregator's percentiles are decimals.
    """

    __tablename__ = "llm_endpoint_stat"
    __table_args__ = (UniqueConstraint("offering_id", "observed_at", name="uq_llm_endpoint_stat"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    offering_id: int = Field(foreign_key="llm_offering.id", sa_type=BigInteger, index=True)
    observed_at: datetime = timestamptz()
    p50_throughput_tps: Decimal | None = money()
    p75_throughput_tps: Decimal | None = money()
    p90_throughput_tps: Decimal | None = money()
    p95_throughput_tps: Decimal | None = money()
    p99_throughput_tps: Decimal | None = money()
    p50_latency_ms: Decimal | None = money()
    p75_latency_ms: Decimal | None = money()
    p90_latency_ms: Decimal | None = money()
    p95_latency_ms: Decimal | None = money()
    p99_latency_ms: Decimal | None = money()
    uptime_pct: Decimal | None = money()
    request_count: int | None = None
    window_minutes: int | None = None
    status: int | None = None


_VERSION_CHECKS = (
    "valid_to IS NULL OR valid_to > valid_from",
    "change_kind IN ('observed', 'correction', 'announced', 'reference')",
)


class LlmPriceVersion(SQLModel, table=True):
    """Token price versions believed now: the view over ``llm_price_version_record``."""

    __tablename__ = "llm_price_version"
    __table_args__ = {"info": {"view_of": "llm_price_version_record"}}

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    offering_id: int = Field(foreign_key="llm_offering.id", sa_type=BigInteger)
    input_usd_per_mtok: Decimal | None = money()
    output_usd_per_mtok: Decimal | None = money()
    cached_input_usd_per_mtok: Decimal | None = money()
    cache_write_usd_per_mtok: Decimal | None = money()
    cache_write_1h_usd_per_mtok: Decimal | None = money()
    free: bool = False
    original_currency: str = "USD"
    fx_rate: Decimal | None = money()
    valid_from: datetime = timestamptz()
    valid_to: datetime | None = timestamptz(nullable=True)
    recorded_at: datetime = timestamptz()
    closed_recorded_at: datetime | None = timestamptz(nullable=True)
    # The canonical model this version priced: a moving id (``deepseek-chat``,
    # ``mistral-large-latest``) keeps, per version, the model it pointed to.
    model_slug: str | None = None
    last_seen_at: datetime = timestamptz()
    change_kind: str = "observed"
    run_id: int | None = Field(default=None, foreign_key="pipeline_run.id", sa_type=BigInteger)
    source_url: str | None = None
    # Which transaction last changed the row, so the analytics cache reads only what
    # changed since its last snapshot (db/frames.py; migration 0011 keeps it set).
    changed_xid: str | None = changed_xid()


class GpuOffering(SQLModel, table=True):
    __tablename__ = "gpu_offering"
    __table_args__ = (
        UniqueConstraint(
            "source",
            "provider",
            "gpu",
            "gpu_count",
            "pricing",
            "region",
            "instance_type",
            "os",
            "statistic",
            name="uq_gpu_offering_key",
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    source: str = Field(foreign_key="source.slug")
    provider: str = Field(index=True)
    gpu: str = Field(index=True)
    gpu_count: int
    pricing: str
    region: str | None = None
    instance_type: str | None = None
    os: str | None = None
    statistic: str | None = None
    first_seen_at: datetime = timestamptz()
    last_seen_at: datetime = timestamptz()


class GpuRateVersion(SQLModel, table=True):
    """GPU rate versions believed now: the view over ``gpu_rate_version_record``."""

    __tablename__ = "gpu_rate_version"
    __table_args__ = {"info": {"view_of": "gpu_rate_version_record"}}

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    offering_id: int = Field(foreign_key="gpu_offering.id", sa_type=BigInteger)
    usd_per_gpu_hour: Decimal = money(nullable=False)
    usd_per_instance_hour: Decimal | None = money()
    offer_count: int | None = None
    valid_from: datetime = timestamptz()
    valid_to: datetime | None = timestamptz(nullable=True)
    recorded_at: datetime = timestamptz()
    closed_recorded_at: datetime | None = timestamptz(nullable=True)
    last_seen_at: datetime = timestamptz()
    change_kind: str = "observed"
    run_id: int | None = Field(default=None, foreign_key="pipeline_run.id", sa_type=BigInteger)
    source_url: str | None = None
    # Which transaction last changed the row, so the analytics cache reads only what
    # changed since its last snapshot (db/frames.py; migration 0011 keeps it set).
    changed_xid: str | None = changed_xid()


# Version columns that say when/how a version was learned, not what it says
# (db/ingest_kinds.py: every other version column is a versioned value).
VERSION_BOOKKEEPING = frozenset(
    {
        "id",
        "offering_id",
        "valid_from",
        "valid_to",
        "recorded_at",
        "closed_recorded_at",
        "last_seen_at",
        "change_kind",
        "run_id",
        "source_url",
        "superseded_at",
        "changed_xid",  # which transaction wrote the row (migration 0011's trigger)
    }
)


def _tz(name: str, *, nullable: bool = True) -> Column[Any]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


def _like(column: Column[Any], *, nullable: bool | None = None) -> Column[Any]:
    """A new column with ``column``'s name, type and foreign keys (one definition)."""
    keys = [ForeignKey(fk.target_fullname) for fk in column.foreign_keys]
    return Column(
        column.name,
        column.type,
        *keys,
        primary_key=column.primary_key,
        nullable=column.nullable if nullable is None else nullable,
    )


def record_table(view: Table, *args: Any) -> Table:
    """Every version ever believed: the view's columns plus ``superseded_at``.

    The view (``SELECT * ... WHERE superseded_at IS NULL``, migration 0012) is
    what the ORM class maps; its Table carries ``info["view_of"]`` so Alembic
    leaves it to the migration (migrations/env.py).
    """
    return Table(
        view.info["view_of"],
        view.metadata,
        *(_like(c) for c in view.c),
        _tz("superseded_at"),
        *args,
    )


def observation_table(name: str, version: Table) -> Table:
    """The append-only log of one kind's observations: what versions are derived from.

    ``instant`` is when the observation says its values take effect
    (``effective_from`` when announced, else ``observed_at``); ``stated_end`` its
    stated end (a promotion). The value columns are the version's, nullable:
    ``change_kind = 'withdrawn'`` rows (a dataset marking an offering gone) carry none.
    """
    values = [_like(c, nullable=True) for c in version.c if c.name not in VERSION_BOOKKEEPING]
    return Table(
        name,
        version.metadata,
        Column("id", BigInteger, primary_key=True),
        _like(version.c.offering_id),
        _tz("instant", nullable=False),
        _tz("observed_at", nullable=False),
        *values,
        _tz("stated_end"),
        _like(version.c.change_kind),
        _like(version.c.run_id),
        _like(version.c.source_url),
        _tz("recorded_at", nullable=False),
        Index(f"ix_{name}_offering_instant", "offering_id", "instant"),
    )


_LLM_VIEW: Table = LlmPriceVersion.__table__  # type: ignore[attr-defined]
_GPU_VIEW: Table = GpuRateVersion.__table__  # type: ignore[attr-defined]
_CURRENT = text("superseded_at IS NULL")
_OPEN = text("valid_to IS NULL AND superseded_at IS NULL")

LLM_VERSION_RECORD = record_table(
    _LLM_VIEW,
    # One believed version per start, and at most one believed open version per
    # offering: concurrent ingests cannot both open one.
    Index(
        "uq_llm_version_start", "offering_id", "valid_from", unique=True, postgresql_where=_CURRENT
    ),
    Index("uq_llm_version_open", "offering_id", unique=True, postgresql_where=_OPEN),
    Index("ix_llm_version_validity", "valid_from", "valid_to"),
    # /v1/changes: newest recorded first, and each version's predecessor by its end.
    Index("ix_llm_version_recorded", "recorded_at", "id"),
    Index("ix_llm_version_offering_end", "offering_id", "valid_to"),
    # Current reads: the versions closed after now (db/queries.py in_effect_now_arms).
    Index("ix_llm_version_end", "valid_to"),
    Index("ix_llm_price_version_model_slug", "model_slug"),
    # The analytics cache's delta: rows written since its snapshot (migration 0011).
    Index("ix_llm_price_version_changed_xid", "changed_xid"),
    CheckConstraint(_VERSION_CHECKS[0], name="ck_llm_version_interval"),
    CheckConstraint(_VERSION_CHECKS[1], name="ck_llm_version_change_kind"),
)
GPU_VERSION_RECORD = record_table(
    _GPU_VIEW,
    Index(
        "uq_gpu_version_start", "offering_id", "valid_from", unique=True, postgresql_where=_CURRENT
    ),
    Index("uq_gpu_version_open", "offering_id", unique=True, postgresql_where=_OPEN),
    # A changed version's predecessor (its freshness depends on its successor).
    Index("ix_gpu_version_offering_end", "offering_id", "valid_to"),
    Index("ix_gpu_version_end", "valid_to"),
    Index("ix_gpu_rate_version_changed_xid", "changed_xid"),
    CheckConstraint(_VERSION_CHECKS[0], name="ck_gpu_version_interval"),
    CheckConstraint(_VERSION_CHECKS[1], name="ck_gpu_version_change_kind"),
)
LLM_OBSERVATION = observation_table("llm_price_observation", _LLM_VIEW)
GPU_OBSERVATION = observation_table("gpu_rate_observation", _GPU_VIEW)

# A complete listing of one source and kind at ``instant`` (db/ingest.py's
# withdrawal rule): ``offering_count`` offerings were listed.
LISTING_EVENT = Table(
    "listing_event",
    SQLModel.metadata,
    Column("id", BigInteger, primary_key=True),
    Column("source", Text, ForeignKey("source.slug"), nullable=False),
    Column("kind", Text, nullable=False),
    _tz("instant", nullable=False),
    Column("offering_count", Integer, nullable=False),
    _tz("recorded_at", nullable=False),
    Column("run_id", BigInteger, ForeignKey("pipeline_run.id")),
    Index("ix_listing_event_source_instant", "source", "kind", "instant"),
)


# A price_flag change marks its version here (migration 0014's trigger) instead of
# updating the version row: the screen flags other sources' versions, and row
# locks taken by concurrent ingests in opposite orders deadlocked. Insert-only;
# db/frame_delta.py re-reads the versions stamped since its snapshot.
VERSION_STAMP = Table(
    "version_stamp",
    SQLModel.metadata,
    Column("id", BigInteger, primary_key=True),
    Column("llm_price_version_id", BigInteger),
    Column("gpu_rate_version_id", BigInteger),
    Column("changed_xid", Xid8(), server_default=text("pg_current_xact_id()"), nullable=False),
    Index("ix_version_stamp_changed_xid", "changed_xid"),
)


FLAG_STATUSES = ("quarantined", "accepted", "rejected")


class PriceFlag(SQLModel, table=True):
    """A plausibility-screen finding on one price version (db/screen.py).

    The version itself is kept as it was observed; a flag in status
    ``quarantined`` or ``rejected`` leaves it out of curves, cheapest picks,
    alerts and break-even. ``accepted`` is a person overruling the screen
    (``decided_by``/``decided_at`` record who and when).
    """

    __tablename__ = "price_flag"
    __table_args__ = (
        UniqueConstraint("llm_price_version_id", "reason", name="uq_price_flag_llm"),
        UniqueConstraint("gpu_rate_version_id", "reason", name="uq_price_flag_gpu"),
        CheckConstraint(
            "(llm_price_version_id IS NULL) <> (gpu_rate_version_id IS NULL)",
            name="ck_price_flag_one_version",
        ),
        CheckConstraint(
            "status IN ('quarantined', 'accepted', 'rejected')", name="ck_price_flag_status"
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    llm_price_version_id: int | None = Field(
        default=None, foreign_key="llm_price_version_record.id", sa_type=BigInteger, index=True
    )
    gpu_rate_version_id: int | None = Field(
        default=None, foreign_key="gpu_rate_version_record.id", sa_type=BigInteger, index=True
    )
    reason: str  # machine-readable: see db/screen.py REASONS
    field: str  # the price field the finding is about
    source_value: Decimal | None = money()
    consensus: Decimal | None = money()
    listings: int | None = None
    detail: str | None = Field(default=None, sa_column=Column(Text))
    status: str = "quarantined"
    flagged_at: datetime = timestamptz(default_factory=utcnow)
    decided_by: str | None = None
    decided_at: datetime | None = timestamptz(nullable=True)
    note: str | None = Field(default=None, sa_column=Column(Text))


class BenchmarkResult(SQLModel, table=True):
    """One concurrency point of a serving benchmark (measured or imported)."""

    __tablename__ = "benchmark_result"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    content_sha256: str = Field(unique=True, max_length=64)
    model_id: str
    model_slug: str | None = Field(default=None, index=True)
    engine: str
    engine_version: str | None = None
    gpu: str = Field(index=True)
    gpu_count: int = 1
    tensor_parallel_size: int = 1
    pipeline_parallel_size: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    driver_version: str | None = None
    input_len: int
    output_len: int
    concurrency: int
    num_prompts: int
    output_throughput: Decimal = money(nullable=False)
    total_token_throughput: Decimal = money(nullable=False)
    request_throughput: Decimal | None = money()
    median_ttft_ms: Decimal | None = money()
    p99_ttft_ms: Decimal | None = money()
    median_tpot_ms: Decimal | None = money()
    p99_tpot_ms: Decimal | None = money()
    median_itl_ms: Decimal | None = money()
    median_e2el_ms: Decimal | None = money()
    duration_s: Decimal | None = money()
    completed: int | None = None
    # Representativeness of the point's sweep (costcurve.core.representativeness);
    # 'unclassified' for rows stored before migration 0008 (never representative).
    verdict: str = Field(
        default="unclassified", sa_column_kwargs={"server_default": "unclassified"}
    )
    verdict_reason: str | None = None
    dummy_weights: bool = False
    synthetic: bool = False
    started_at: datetime = timestamptz(index=True)
    recorded_at: datetime = timestamptz()
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))


class ApiKey(SQLModel, table=True):
    """A key for the write API; only its sha256 is stored (the secret is shown once)."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    key_prefix: str = Field(max_length=12)
    key_sha256: str = Field(unique=True, max_length=64)
    created_at: datetime = timestamptz()
    revoked_at: datetime | None = timestamptz(nullable=True)


class AlertRule(SQLModel, table=True):
    """A threshold on one current price; owned by the API key that created it."""

    __tablename__ = "alert_rule"
    __table_args__ = (
        CheckConstraint("threshold >= 0", name="ck_alert_rule_threshold"),
        CheckConstraint("direction IN ('below', 'above')", name="ck_alert_rule_direction"),
        CheckConstraint(
            "metric IN ('input', 'output', 'blended', 'usd_per_gpu_hour')",
            name="ck_alert_rule_metric",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    api_key_id: int = Field(foreign_key="api_key.id", index=True)
    name: str
    target: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    metric: str
    threshold: Decimal = money(nullable=False)
    direction: str = "below"
    channel: str = Field(sa_column=Column(Text, nullable=False))
    active: bool = True
    created_at: datetime = timestamptz()
    deleted_at: datetime | None = timestamptz(nullable=True)
    # Evaluation state, informational: events are deduplicated by uq_alert_crossing,
    # not by these columns.
    last_value: Decimal | None = money()
    last_evaluated_at: datetime | None = timestamptz(nullable=True)
    # Change points up to here have been evaluated (re-checked with a look-back).
    evaluated_through: datetime | None = timestamptz(nullable=True)


class AlertEvent(SQLModel, table=True):
    """One threshold crossing; ``crossing_key`` makes a second evaluation a no-op."""

    __tablename__ = "alert_event"
    __table_args__ = (UniqueConstraint("rule_id", "crossing_key", name="uq_alert_crossing"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    rule_id: int = Field(foreign_key="alert_rule.id", index=True)
    crossing_key: str
    value: Decimal = money(nullable=False)
    previous_value: Decimal | None = money()
    threshold: Decimal = money(nullable=False)
    # The instant the value changed: when the ingest that changed it recorded it
    # (or when an announced price took effect).
    crossed_at: datetime = timestamptz()
    llm_price_version_id: int | None = Field(
        default=None, foreign_key="llm_price_version_record.id", sa_type=BigInteger
    )
    gpu_rate_version_id: int | None = Field(
        default=None, foreign_key="gpu_rate_version_record.id", sa_type=BigInteger
    )
    benchmark_result_id: int | None = Field(
        default=None, foreign_key="benchmark_result.id", sa_type=BigInteger
    )
    fired_at: datetime = timestamptz(default_factory=utcnow)


class AlertDelivery(SQLModel, table=True):
    """The outbox: one row per event and channel, retried until delivered."""

    __tablename__ = "alert_delivery"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'delivered', 'failed', 'cancelled')",
            name="ck_alert_delivery_status",
        ),
        Index("ix_alert_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    event_id: int = Field(foreign_key="alert_event.id", sa_type=BigInteger, unique=True)
    status: str = "pending"  # pending | delivered | failed | cancelled
    attempts: int = 0
    # Also the lease of a claimed delivery: a worker that dies mid-send leaves the
    # row due again once this passes (at-least-once).
    next_attempt_at: datetime = timestamptz()
    delivered_at: datetime | None = timestamptz(nullable=True)
    last_error: str | None = Field(default=None, sa_column=Column(Text))


class AlertDeliveryAttempt(SQLModel, table=True):
    __tablename__ = "alert_delivery_attempt"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    delivery_id: int = Field(foreign_key="alert_delivery.id", sa_type=BigInteger, index=True)
    attempt: int = 1
    attempted_at: datetime = timestamptz()
    duration_ms: int | None = None
    ok: bool
    error: str | None = Field(default=None, sa_column=Column(Text))


class ModelScore(SQLModel, table=True):
    """A capability score as a source published it on a date (db/scores.py).

    One row per (source, source model id, benchmark, as_of); ``model_slug`` is
    the catalog model the name resolved to, null while it resolves to none.
    """

    __tablename__ = "model_score"
    __table_args__ = (
        UniqueConstraint(
            "source", "source_model_id", "benchmark", "as_of", name="uq_model_score_version"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    model_slug: str | None = Field(default=None, index=True)
    source_model_id: str
    benchmark: str = Field(index=True)
    score: Decimal = money(nullable=False)
    source: str
    as_of: date
    released_on: date | None = None
    citation: str | None = None
    imported_at: datetime = timestamptz()


class GpuIndexPrint(SQLModel, table=True):
    """A published GPU index print (costcurve/analytics/gpu_index.py, docs/gpu-index.md).

    Prints are never updated: a recomputation that differs (late data) is a new
    ``revision`` with its own ``computed_at``; ``costcurve gpu-index verify``
    recomputes every revision from the versions as believed at its ``computed_at``.
    """

    __tablename__ = "gpu_index_print"
    __table_args__ = (
        UniqueConstraint(
            "gpu",
            "tenor",
            "segment",
            "interval",
            "period_start",
            "method_version",
            "revision",
            name="uq_gpu_index_print",
        ),
        Index("ix_gpu_index_print_series", "gpu", "tenor", "segment", "interval", "period_start"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    gpu: str
    tenor: str
    segment: str
    interval: str
    period_start: datetime = timestamptz()
    usd_per_gpu_hour: Decimal | None = money()
    contributor_count: int
    p10_usd_per_gpu_hour: Decimal | None = money()
    p90_usd_per_gpu_hour: Decimal | None = money()
    contributors: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    excluded: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False)
    )
    withheld_reason: str | None = None
    method_version: str
    revision: int = 1
    computed_at: datetime = timestamptz()


class ScoreDataset(SQLModel, table=True):
    """An imported score file, by content: loading it again is a no-op."""

    __tablename__ = "score_dataset"

    sha256: str = Field(primary_key=True)
    source: str
    path: str
    rows: int
    loaded_at: datetime = timestamptz()
