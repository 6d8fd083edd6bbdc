"""Quarantined (and reviewed) prices as rows: what ``/v1/anomalies`` and
``costcurve anomalies list`` show. The screen itself is db/screen.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

_ANOMALY_SQL = """
    SELECT f.id, f.status, f.reason, f.field, f.source_value, f.consensus, f.listings,
           f.detail, f.flagged_at, f.decided_by, f.decided_at, f.note, k.*
    FROM price_flag f
    JOIN (
        SELECT 'llm_price' AS kind, v.id AS llm_id, NULL::bigint AS gpu_id, o.source,
               o.provider, o.provider_model_id AS offering,
               COALESCE(v.model_slug, o.model_slug) AS model, o.variant AS detail_key,
               v.valid_from, v.valid_to
        FROM llm_price_version v JOIN llm_offering o ON o.id = v.offering_id
        WHERE v.id IN (SELECT llm_price_version_id FROM price_flag)
        UNION ALL
        SELECT 'gpu_rate', NULL, v.id, o.source, o.provider, o.gpu, o.gpu, o.pricing,
               v.valid_from, v.valid_to
        FROM gpu_rate_version v JOIN gpu_offering o ON o.id = v.offering_id
        WHERE v.id IN (SELECT gpu_rate_version_id FROM price_flag)
    ) k ON k.llm_id = f.llm_price_version_id OR k.gpu_id = f.gpu_rate_version_id
"""
ANOMALY_COLUMNS = (
    "id",
    "kind",
    "status",
    "reason",
    "field",
    "source_value",
    "consensus",
    "listings",
    "detail",
    "source",
    "provider",
    "offering",
    "model",
    "valid_from",
    "valid_to",
    "flagged_at",
    "decided_by",
    "decided_at",
    "note",
)


def anomaly_rows(
    conn: Connection, *, status: str | None, source: str | None, reason: str | None
) -> list[dict[str, Any]]:
    where, params = [], {}
    for column, value in (("f.status", status), ("k.source", source), ("f.reason", reason)):
        if value is not None:
            name = column.split(".")[1]
            where.append(f"{column} = :{name}")
            params[name] = value
    sql = _ANOMALY_SQL + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY f.reason, k.source, k.provider, k.offering, k.valid_from"
    rows = [dict(r) for r in conn.execute(text(sql), params).mappings()]
    return [{c: r.get(c) for c in ANOMALY_COLUMNS} for r in rows]
