"""Cross-source consensus and the plausibility screen (pure polars, no SQL; db/screen.py runs it).

The consensus of a field (input price, output price, GPU-hour rate) for a
*group* (a canonical model, a GPU) at an instant is the median over the
comparable listings in effect then: every offering of that group, from any
source, whose version covers the instant. Because it is a function of
"listings of a group at a time", a new per-host source (Bedrock, Azure OpenAI,
Groq, OpenRouter endpoints...) feeds it as soon as its rows are loaded.

The screen (``screen``) flags a version, never drops it:

* ``above_text_cap``: a text token price above ``TEXT_CAP_USD_PER_MTOK``;
* ``output_below_input``: output below input / ``OUTPUT_INPUT_FLOOR``
  (a per-token unit slip on one field);
* ``far_from_consensus``: more than ``CONSENSUS_RATIO`` times above or below the
  consensus of the *other* offerings of the group at the version's start
  (needs ``MIN_LISTINGS`` of them; a median of one is not a consensus);
* ``jump_vs_previous``: more than ``JUMP_RATIO`` times the offering's previous
  version, unless the consensus at that time confirms the new value (within
  ``JUMP_RATIO``): a real price cut that the market shows is not an error. A
  previous version that is itself flagged is no reference: the version after a
  unit error is its correction, not a jump.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

TEXT_CAP_USD_PER_MTOK = 1000.0
OUTPUT_INPUT_FLOOR = 20.0
CONSENSUS_RATIO = 50.0
JUMP_RATIO = 10.0
MIN_LISTINGS = 2

# Columns of the frame ``screen`` reads (one row per version).
SCREEN_SCHEMA = {
    "version_id": "int: the version",
    "offering_id": "int: its offering",
    "group": "text, nullable: canonical model (LLM) or GPU; null screens no consensus",
    "comparable": "bool: may feed the consensus (standard, base tier, text, priced)",
    "text": "bool: a text token price (the per-M cap applies)",
    "valid_from": "datetime (UTC)",
    "valid_to": "datetime (UTC), nullable",
    "<field>": "float, nullable: one column per screened field",
}

FLAG_COLUMNS = ("version_id", "reason", "field", "source_value", "consensus", "listings")


@dataclass(frozen=True)
class ScreenFields:
    """Which fields to screen; ``input``/``output`` enable the output/input check."""

    fields: tuple[str, ...]
    input: str | None = None
    output: str | None = None


def consensus_at(listings: pl.DataFrame, fields: tuple[str, ...]) -> dict[str, float | None]:
    """Median of each field over ``listings`` (the comparable listings of a group at a time)."""
    priced = {f: listings[f].filter(listings[f] > 0) for f in fields}
    return {f: (s.median() if s.len() else None) for f, s in priced.items()}  # type: ignore[misc]


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "version_id": pl.Int64,
            "reason": pl.String,
            "field": pl.String,
            "source_value": pl.Float64,
            "consensus": pl.Float64,
            "listings": pl.Int64,
        }
    )


def _with_consensus(versions: pl.DataFrame, fields: tuple[str, ...]) -> pl.DataFrame:
    """Per version and field: the median of other comparable offerings in effect at its start."""
    left = versions.select("version_id", "offering_id", "group", "valid_from").filter(
        pl.col("group").is_not_null()
    )
    right = versions.filter(pl.col("comparable")).select(
        pl.col("offering_id").alias("other"),
        "group",
        pl.col("valid_from").alias("o_from"),
        pl.col("valid_to").alias("o_to"),
        *(pl.col(f).alias(f"o_{f}") for f in fields),
    )
    pairs = left.join(right, on="group").filter(
        (pl.col("other") != pl.col("offering_id"))
        & (pl.col("o_from") <= pl.col("valid_from"))
        & (pl.col("o_to").is_null() | (pl.col("o_to") > pl.col("valid_from")))
    )
    medians = pairs.group_by("version_id").agg(
        *(pl.col(f"o_{f}").filter(pl.col(f"o_{f}") > 0).median().alias(f"c_{f}") for f in fields),
        *(pl.col(f"o_{f}").filter(pl.col(f"o_{f}") > 0).len().alias(f"n_{f}") for f in fields),
    )
    return versions.join(medians, on="version_id", how="left")


def _flags(
    frame: pl.DataFrame, reason: str, field: str, when: pl.Expr, ref: str | None
) -> pl.DataFrame:
    return frame.filter(when).select(
        "version_id",
        reason=pl.lit(reason),
        field=pl.lit(field),
        source_value=pl.col(field).cast(pl.Float64),
        consensus=(pl.col(ref) if ref else pl.lit(None)).cast(pl.Float64),
        listings=(pl.col(f"n_{field}") if ref else pl.lit(None)).cast(pl.Int64),
    )


def _ratio_off(value: pl.Expr, ref: pl.Expr, limit: float) -> pl.Expr:
    return (value > 0) & (ref > 0) & ((value > ref * limit) | (value * limit < ref))


def screen(versions: pl.DataFrame, spec: ScreenFields) -> pl.DataFrame:
    """The flags of ``versions`` (``SCREEN_SCHEMA``), one row per (version, reason, field)."""
    if versions.is_empty():
        return _empty()
    frame = _with_consensus(versions, spec.fields).sort("offering_id", "valid_from")
    level = pl.concat([_empty(), *_level_flags(frame, spec)])
    frame = frame.with_columns(
        _flagged=pl.col("version_id").is_in(level["version_id"].unique().to_list())
    )
    after_flagged = pl.col("_flagged").shift(1).over("offering_id").fill_null(False)
    frame = frame.with_columns(
        *(
            pl.when(after_flagged)
            .then(None)
            .otherwise(pl.col(f).shift(1).over("offering_id"))
            .alias(f"p_{f}")
            for f in spec.fields
        )
    )
    found = [level, *_jump_flags(frame, spec)]
    flags = pl.concat(found)
    return (
        flags.with_columns(
            listings=pl.when(pl.col("reason") == "far_from_consensus").then(pl.col("listings"))
        )
        .unique(["version_id", "reason", "field"], keep="first")
        .sort("version_id", "reason", "field")
    )


def _level_flags(frame: pl.DataFrame, spec: ScreenFields) -> list[pl.DataFrame]:
    """Checks of a version on its own and against the consensus."""
    found = []
    for f in spec.fields:
        value, ref, enough = pl.col(f), pl.col(f"c_{f}"), pl.col(f"n_{f}") >= MIN_LISTINGS
        capped = pl.col("text") & (value > TEXT_CAP_USD_PER_MTOK)
        found.append(_flags(frame, "above_text_cap", f, capped.fill_null(False), None))
        off = (enough & _ratio_off(value, ref, CONSENSUS_RATIO)).fill_null(False)
        found.append(_flags(frame, "far_from_consensus", f, off, f"c_{f}"))
    if spec.input and spec.output:
        low = (pl.col(spec.input) > 0) & (
            pl.col(spec.output) * OUTPUT_INPUT_FLOOR < pl.col(spec.input)
        )
        found.append(
            _flags(frame, "output_below_input", spec.output, low.fill_null(False), spec.input)
        )
    return found


def _jump_flags(frame: pl.DataFrame, spec: ScreenFields) -> list[pl.DataFrame]:
    found = []
    for f in spec.fields:
        value, ref, enough = pl.col(f), pl.col(f"c_{f}"), pl.col(f"n_{f}") >= MIN_LISTINGS
        confirmed = (enough & ~_ratio_off(value, ref, JUMP_RATIO)).fill_null(False)
        jump = _ratio_off(value, pl.col(f"p_{f}"), JUMP_RATIO).fill_null(False) & ~confirmed
        found.append(_flags(frame, "jump_vs_previous", f, jump, f"p_{f}"))
    return found
