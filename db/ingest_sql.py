"""Staging helpers of db/ingest.py: temporary tables filled by COPY."""

from __future__ import annotations

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
    types |= {"ord": "integer", "offering_id": "bigint"}
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
