"""Per source: its latest pipeline run and when it last succeeded (dashboard Pipeline page)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

# One row per source that has a run: the newest run's fields plus the finish of
# the newest successful run (null when it never succeeded).
_LAST_RUNS = """
    SELECT DISTINCT ON (r.source)
           r.source, r.id, r.flow_run_id, r.trigger, r.status, r.started_at, r.finished_at,
           r.observed_at, r.observations, r.new_versions, r.closed_versions, r.unchanged,
           r.skipped, r.error,
           (SELECT max(s.finished_at) FROM pipeline_run s
             WHERE s.source = r.source AND s.status = 'succeeded') AS last_succeeded_at,
           (SELECT count(*) FROM pipeline_run c WHERE c.source = r.source) AS runs
    FROM pipeline_run r
    ORDER BY r.source, r.started_at DESC, r.id DESC
"""


def last_runs(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(text(_LAST_RUNS)).mappings()]
