"""``costcurve backfill`` as a user runs it: a real subprocess against a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import DATASETS, FIXTURES, require_shared
from tests.test_cli_foundation import cli

KEYS = {"rows", "new_versions", "closed_versions", "unchanged", "skipped"}


def _summary(stdout: str) -> dict[str, int]:
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert set(summary) == KEYS
    return summary


def test_backfill_genai_prices_file_twice_reports_zero_new_versions(db_url: str) -> None:
    path = require_shared(DATASETS / "genai-prices" / "prices" / "new_data" / "v2" / "data.json")
    args = (
        "backfill",
        "genai-prices",
        "--file",
        str(path),
        "--observed-at",
        "2026-08-21",
        "--json",
    )
    first = cli(*args, db_url=db_url)
    assert first.returncode == 0, first.stderr
    summary = _summary(first.stdout)
    assert summary["new_versions"] > 1000
    assert summary["skipped"] == 0
    assert summary["rows"] == summary["new_versions"] + summary["unchanged"]
    second = cli(*args, db_url=db_url)
    assert second.returncode == 0, second.stderr
    assert _summary(second.stdout) == {
        "rows": summary["rows"],
        "new_versions": 0,
        "closed_versions": 0,
        "unchanged": summary["rows"],
        "skipped": 0,
    }


def test_backfill_litellm_folder_runs_each_snapshot(db_url: str) -> None:
    folder = require_shared(FIXTURES / "litellm")
    result = cli("backfill", "litellm", "--file", str(folder), "--json", db_url=db_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert sum(line.startswith("run ") for line in lines) == len(list(folder.glob("*.json")))
    assert _summary(result.stdout)["new_versions"] > 1000


def test_backfill_reference_loads_the_curated_history(db_url: str) -> None:
    first = cli("backfill", "reference", "--json", db_url=db_url)
    assert first.returncode == 0, first.stderr
    assert _summary(first.stdout)["new_versions"] > 50
    second = cli("backfill", "reference", "--json", db_url=db_url)
    assert _summary(second.stdout)["new_versions"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("backfill", "wikipedia"), "unknown dataset 'wikipedia'; known datasets: openrouterlist"),
        (("backfill", "reference", "--file", "x.csv"), "takes no --file"),
        (("backfill", "openrouterlist", "--file", "a", "--file", "b"), "give --file once"),
        (("backfill", "openrouterlist", "--file", "absent.json"), "absent.json is not a file"),
        (("backfill", "litellm", "--file", "absent"), "neither a file nor a folder"),
    ],
)
def test_backfill_rejects_bad_arguments_before_touching_anything(
    args: tuple[str, ...], message: str
) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_backfill_of_a_broken_file_exits_non_zero_and_says_why(db_url: str, tmp_path: Path) -> None:
    broken = tmp_path / "prices.json"
    broken.write_text('{"as_of": "2026-08-22", "models": []}')
    result = cli("backfill", "openrouterlist", "--file", str(broken), db_url=db_url)
    assert result.returncode == 1
    assert "parse failed" in result.stderr
    assert "openrouterlist" in result.stderr
