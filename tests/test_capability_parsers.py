"""Score-file parsers and score-name resolution: the documented rules, on small inputs."""

from __future__ import annotations

from datetime import date

import pytest

from costcurve.catalog.score_names import resolve_score_model, score_provider
from costcurve.core.observations import ParseError
from scrapers.history.capability import parse_arena, parse_epoch_file

HEADER = "Model version,Scaffold,Score OPT@1,Release date,Organization\n"


def test_epoch_score_column_is_the_first_numeric_one_and_best_score_wins() -> None:
    raw = HEADER + "m1,agentA,0.25,2025-01-01,X\nm1,agentB,0.5,2025-01-01,X\nm2,a,,2025-02-01,Y\n"
    records = parse_epoch_file("gso_external.csv", raw.encode(), as_of=date(2026, 4, 23))
    assert [(r.source_model_id, float(r.score)) for r in records] == [("m1", 0.5)]
    assert records[0].benchmark == "gso"
    assert records[0].released_on == date(2025, 1, 1)


@pytest.mark.parametrize(
    "raw",
    [
        b"name,score\nx,1\n",  # not the Hub layout
        b"Model version,Notes,Release date\nx,hello,2025-01-01\n",  # no numeric column
        b"Model version,mean_score,Release date\nx,0.5,not-a-date\n",
    ],
)
def test_epoch_file_with_an_unexpected_structure_is_a_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_epoch_file("bench.csv", raw, as_of=date(2026, 1, 1))


def test_arena_layout_comes_from_the_header_and_zero_means_absent() -> None:
    raw = b"snapshot_date,model,elo\n2024-01-01,gpt-4,1250.5\n2024-01-01,koala-13b,0.0\n"
    [record] = parse_arena(raw)
    assert record.source == "lmarena-nakasyou"
    assert record.as_of == date(2024, 1, 1)
    with pytest.raises(ParseError, match="not an LMArena"):
        parse_arena(b"when,who,points\n2024-01-01,x,1\n")


@pytest.mark.parametrize(
    ("source", "name", "slug"),
    [
        ("epoch-hub", "o3-mini-2025-01-31_high", "o3-mini"),
        ("epoch-hub", "claude-3-7-sonnet-20250219_32K", "claude-3.7-sonnet"),
        ("epoch-hub", "claude-sonnet-4-20250514_unknown", "claude-sonnet-4"),
        ("lmarena-fboulnois", "Claude 3.5 Sonnet (20241022)", "claude-3.5-sonnet"),
        ("lmarena-catalog", "claude-opus-4-20250514-thinking-16k", "claude-opus-4"),
        ("lmarena-fboulnois", "Meta-Llama-3.1-70B-Instruct", "llama-3.1-70b-instruct"),
    ],
)
def test_score_names_resolve_by_mechanical_rules(source: str, name: str, slug: str) -> None:
    assert resolve_score_model(source, name) == slug


def test_source_scoped_aliases_apply_only_to_their_source_family() -> None:
    assert score_provider("lmarena-catalog") == "lmarena"
    assert resolve_score_model("epoch-hub", "deepseek-chat") == "deepseek-v3.2"
    # The moving pointer stays unresolved elsewhere.
    assert resolve_score_model("lmarena-catalog", "deepseek-chat") is None
    assert resolve_score_model("epoch-hub", "no-such-model_high") is None
