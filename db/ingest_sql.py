"""Staging helpers of db/ingest.py: temporary tables filled by COPY."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

from db.ingest_kinds import Kind


def copy_rows(
    conn: Connection, table: str, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    # COPY through the driver: compiling a multi-row VALUES statement costs more
    # than the database's own work at a few thousand rows.
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def stage_table(conn: Connection, kind: Kind, name: str, columns: list[str]) -> None:
    """An empty temporary table with ``columns`` typed as in the offering/version tables."""
    types = {c.name: c.type.compile(conn.dialect) for c in (*kind.offering.c, *kind.version.c)}
    # Columns of the staged observations that no offering or version table has.
    times = ("instant", "observed_at", "stated_end", "latest")
    types |= {"ord": "integer", "offering_id": "bigint", "version_id": "bigint"}
    types |= dict.fromkeys(times, "timestamptz") | {"fresh": "boolean", "verdict": "text"}
    ddl = ", ".join(f"{c} {types[c]}" for c in columns)
    conn.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({ddl}) ON COMMIT DROP"))
    conn.execute(text(f"TRUNCATE {name}"))


def key_join(kind: Kind, left: str, right: str) -> str:
    """SQL matching two aliases on the offering key (nullable columns: IS NOT DISTINCT FROM)."""
    nullable = {c.name for c in kind.offering.c if c.nullable}
    return " AND ".join(
        f"{left}.{c} IS NOT DISTINCT FROM {right}.{c}"
        if c in nullable
        else f"{left}.{c} = {right}.{c}"
        for c in kind.key_columns
    )


def same_columns(columns: Sequence[str], left: str, right: str) -> str:
    """SQL: the two aliases hold exactly the same ``columns`` (NULL equal to NULL)."""
    return " AND ".join(f"{left}.{c} IS NOT DISTINCT FROM {right}.{c}" for c in columns)


def insert_versions(
    conn: Connection, kind: Kind, rows: list[dict[str, Any]]
) -> list[tuple[int, int, Any]]:
    """Insert version rows (through the current-belief view): (id, offering_id, valid_from)."""
    if not rows:
        return []
    v = kind.version.name
    columns = list(rows[0])
    stage = f"_stage_{v}"
    stage_table(conn, kind, stage, columns)
    copy_rows(conn, stage, columns, [tuple(row.values()) for row in rows])
    cols = ", ".join(columns)
    inserted = conn.execute(
        text(
            f"INSERT INTO {v} ({cols}) SELECT {cols} FROM {stage} "
            "RETURNING id, offering_id, valid_from"
        )
    )
    return [(int(i), int(o), f) for i, o, f in inserted]


def set_by_id(
    conn: Connection,
    table: str,
    column: str,
    pairs: list[tuple[int, Any]],
    also: dict[str, Any] | None = None,
) -> None:
    """``UPDATE table SET column = value`` per (id, timestamp) pair, in one statement.

    ``also``: columns set to one value on every row (``closed_recorded_at``).
    """
    if not pairs:
        return
    extra = "".join(f", {c} = :{c}" for c in also or {})
    conn.execute(
        text(
            f"UPDATE {table} t SET {column} = c.value{extra} FROM "
            "(SELECT unnest(CAST(:ids AS bigint[])) AS id, "
            "unnest(CAST(:vals AS timestamptz[])) AS value) c WHERE t.id = c.id"
        ),
        {"ids": [p[0] for p in pairs], "vals": [p[1] for p in pairs], **(also or {})},
    )
