"""Publish and verify the GPU index prints (docs/gpu-index.md).

``publish`` computes the prints of every closed period in a window from the
versions as believed now and stores each one that is new or differs from its
latest stored revision (a new ``revision``; nothing is updated in place).
``verify`` recomputes every stored revision from the versions as believed at
its ``computed_at`` and reports each field that differs: a tampered print, or
a stored version changed after the fact, shows up as a mismatch.

Known limit (docs/gpu-index.md, "Verification"): ``last_seen_at`` is the one
version column updated in place; an offer re-seen at an unchanged price after
a gap longer than its freshness horizon can change the recomputation of a
print computed during the gap. ``verify`` reports it like any other mismatch.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from costcurve.analytics.gpu_index import (
    INTERVALS,
    IndexMethod,
    IndexPrint,
    Interval,
    compute_prints,
)
from costcurve.core.jsonenc import dumps
from db.gpu_index import (
    KEY_COLUMNS,
    PrintKey,
    earliest_version,
    latest_revisions,
    print_key,
    store_prints,
    stored_prints,
)
from db.gpu_index_inputs import gpu_index_inputs


@dataclass
class PublishResult:
    computed_at: datetime
    computed: int = 0
    stored: int = 0
    revised: int = 0
    by_interval: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Mismatch:
    print_id: int
    key: PrintKey
    revision: int
    fields: dict[str, tuple[Any, Any]]  # name -> (stored, recomputed)

    def describe(self) -> str:
        gpu, tenor, segment, interval, start = self.key
        diffs = "; ".join(
            f"{k}: stored {s!r}, recomputed {r!r}" for k, (s, r) in self.fields.items()
        )
        return (
            f"print {self.print_id} ({gpu} {tenor} {segment} {interval} {start.isoformat()} "
            f"rev {self.revision}): {diffs}"
        )


def _floor(t: datetime, interval: Interval) -> datetime:
    t = t.astimezone(UTC)
    if interval == "hour":
        return t.replace(minute=0, second=0, microsecond=0)
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def _compute(
    conn: Connection,
    interval: Interval,
    start: datetime,
    end: datetime,
    believed_at: datetime,
    method: IndexMethod,
) -> list[IndexPrint]:
    inputs = gpu_index_inputs(
        conn,
        believed_at=believed_at,
        lower=start,
        upper=end,
        horizon_s=int(method.longest_horizon().total_seconds()),
    )
    return compute_prints(inputs, interval, start, end, method)


def _jsonable(value: Any) -> Any:
    """The JSON a JSONB column hands back for ``value`` (numbers as floats)."""
    return json.loads(dumps(value))


def _published(p: IndexPrint) -> dict[str, Any]:
    fields = p.published_fields()
    return {
        "usd_per_gpu_hour": fields["value"],
        "contributor_count": fields["contributor_count"],
        "p10_usd_per_gpu_hour": fields["p10"],
        "p90_usd_per_gpu_hour": fields["p90"],
        "contributors": _jsonable(fields["contributors"]),
        "excluded": _jsonable(fields["excluded"]),
        "withheld_reason": fields["withheld_reason"],
        "method_version": fields["method_version"],
    }


_COMPARED = (
    "usd_per_gpu_hour",
    "contributor_count",
    "p10_usd_per_gpu_hour",
    "p90_usd_per_gpu_hour",
    "contributors",
    "excluded",
    "withheld_reason",
    "method_version",
)


def _differences(stored: dict[str, Any], fresh: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {c: (stored[c], fresh[c]) for c in _COMPARED if stored[c] != fresh[c]}


def publish(
    engine: Engine,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    intervals: Sequence[Interval] = ("day", "hour"),
    method: IndexMethod | None = None,
    now: datetime | None = None,
) -> PublishResult:
    """Store the prints of every closed period in [start, end) that are new or changed."""
    method = method or IndexMethod()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    result = PublishResult(computed_at=now)
    first = start or earliest_version(engine)
    if first is None:
        return result
    for interval in intervals:
        lo = _floor(first, interval)
        hi = min(_floor(end or now, interval), _floor(now, interval))
        with engine.begin() as conn:
            prints = _compute(conn, interval, lo, hi, now, method)
            latest = latest_revisions(conn, interval, lo, hi)
            rows = []
            for p in prints:
                fresh = _published(p)
                old = latest.get(p.key())
                if old is not None and not _differences(dict(old), fresh):
                    continue
                revision = 1 if old is None else int(old["revision"]) + 1
                result.revised += old is not None
                rows.append(
                    dict(zip(KEY_COLUMNS, p.key(), strict=True))
                    | fresh
                    | {"revision": revision, "computed_at": now}
                )
            store_prints(conn, rows)
        result.computed += len(prints)
        result.stored += len(rows)
        result.by_interval[interval] = len(prints)
    return result


def verify(
    engine: Engine,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    method: IndexMethod | None = None,
) -> tuple[int, list[Mismatch]]:
    """(prints checked, mismatches) for every stored revision with period_start in range."""
    method = method or IndexMethod()
    with engine.connect() as conn:
        stored = stored_prints(conn, start=start, end=end)
        groups: dict[tuple[datetime, Interval], list[dict[str, Any]]] = defaultdict(list)
        for row in stored:
            groups[(row["computed_at"], row["interval"])].append(row)
        mismatches = []
        for (computed_at, interval), rows in groups.items():
            mismatches += _verify_group(conn, interval, computed_at, rows, method)
    return len(stored), mismatches


def _verify_group(
    conn: Connection,
    interval: Interval,
    computed_at: datetime,
    rows: list[dict[str, Any]],
    method: IndexMethod,
) -> list[Mismatch]:
    """Recompute one publication (one computed_at) and compare each of its prints."""
    lo = min(r["period_start"] for r in rows)
    hi = max(r["period_start"] for r in rows) + INTERVALS[interval]
    fresh = {p.key(): p for p in _compute(conn, interval, lo, hi, computed_at, method)}
    out: list[Mismatch] = []
    for row in rows:
        key = print_key(row)
        out += _check(row, key, fresh.get(key), method)
    return out


def _check(
    row: dict[str, Any], key: PrintKey, fresh: IndexPrint | None, method: IndexMethod
) -> list[Mismatch]:
    if row["method_version"] != method.version:
        note = (row["method_version"], f"this build implements method {method.version}")
        return [Mismatch(row["id"], key, row["revision"], {"method_version": note})]
    if fresh is None:
        gone = (row["usd_per_gpu_hour"], "no print: no provider has an offer in that period")
        return [Mismatch(row["id"], key, row["revision"], {"usd_per_gpu_hour": gone})]
    diffs = _differences(row, _published(fresh))
    return [Mismatch(row["id"], key, row["revision"], diffs)] if diffs else []
