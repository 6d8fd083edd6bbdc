"""Version frames get their offerings' columns by ``offering_id`` (db/frames.py
``VersionRead``), not read once per version: hand-built frames."""

from __future__ import annotations

import polars as pl

from db.frames import LLM_READ, VersionRead

READ = VersionRead(
    sql="",
    schema={"id": pl.Int64, "offering_id": pl.Int64, "provider": pl.String, "price": pl.Int64},
    offering_table="offering",
    offering_columns=("provider",),
)


def test_each_version_gets_its_offerings_columns_in_the_frames_column_order() -> None:
    versions = pl.DataFrame({"id": [1, 2, 3], "offering_id": [7, 8, 7], "price": [10, 20, 30]})
    offerings = pl.DataFrame({"id": [8, 7], "provider": ["b", "a"]})
    frame = READ.with_offerings(versions, offerings)
    assert frame.columns == ["id", "offering_id", "provider", "price"]
    assert frame["provider"].to_list() == ["a", "b", "a"]


def test_a_version_whose_offering_is_not_read_gets_nulls_of_the_columns_type() -> None:
    versions = pl.DataFrame({"id": [1], "offering_id": [9], "price": [10]})
    offerings = pl.DataFrame(schema={"id": pl.Int64, "provider": pl.String})
    frame = READ.with_offerings(versions, offerings)
    assert frame["provider"].to_list() == [None]
    assert frame.schema["provider"] == pl.String


def test_the_offering_query_names_the_ids_and_the_offering_columns() -> None:
    sql = LLM_READ.offering_sql(pl.Series([3, 1]))
    assert sql.startswith("SELECT id, source, provider, provider_model_id, variant, context_tier")
    assert "ANY('{3,1}'::bigint[])" in sql


def test_several_parts_read_their_offerings_once_and_none_without_versions() -> None:
    queries: list[str] = []
    offerings = pl.DataFrame({"id": [7, 8], "provider": ["a", "b"]})

    def read_rows(sql: str, schema: dict[str, object]) -> pl.DataFrame:
        queries.append(sql)
        return offerings

    closed = pl.DataFrame({"id": [1], "offering_id": [8], "price": [10]})
    open_ = pl.DataFrame({"id": [2], "offering_id": [7], "price": [20]})
    first, second = READ.assemble([closed, open_], read_rows)
    assert (first["provider"].to_list(), second["provider"].to_list()) == (["b"], ["a"])
    assert len(queries) == 1
    assert "ANY('{7,8}'::bigint[])" in queries[0]
    [empty] = READ.assemble([closed.clear()], read_rows)
    assert len(queries) == 1  # no versions: no offering query
    assert empty.columns == list(READ.schema)
