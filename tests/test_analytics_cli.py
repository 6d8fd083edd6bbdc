"""``costcurve deflation --from-csv``: one JSON object, exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from costcurve.cli.commands import deflation

# Same table as tests/test_analytics_deflation.py (hand-computed fit there):
# without the reasoning model, factor 19.9526/year, CI [6.2265, 63.9376], r2 0.965714.
CSV = """model,date,usd_per_mtok,reasoning,GPQA Diamond,MMLU
alpha-pricey,2023-01-01,150,false,65,80
alpha,2023-01-01,100,false,60,80
beta,2023-06-01,120,no,70,85
gamma,2023-09-01,5,0,49.9%,70
delta,2024-01-01,10,false,50,75
epsilon-r,2024-06-01,3,true,80,90
zeta,2024-12-31,1,FALSE,55,82
iota,2025-06-01,,false,90,95
theta,2025-12-31,0.01,,52,83
"""


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:  # keeps "deflation" a subcommand, as in the real CLI
        pass

    deflation.register(app)
    return app


def _write(tmp_path: Path, text: str = CSV) -> Path:
    path = tmp_path / "models.csv"
    path.write_text(text)
    return path


def _run(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["deflation", *args])
    return result.exit_code, result.stdout, result.stderr


def test_deflation_prints_one_json_object(app: typer.Typer, tmp_path: Path) -> None:
    csv = str(_write(tmp_path))
    code, out, _ = _run(
        app,
        "--from-csv",
        csv,
        "--benchmark",
        "GPQA Diamond",
        "--threshold",
        "50",
        "--exclude-reasoning",
    )
    assert code == 0
    assert len(out.strip().splitlines()) == 1
    result = json.loads(out)
    assert set(result) == {"factor_per_year", "ci90", "r2", "n", "models"}
    assert result["factor_per_year"] == pytest.approx(19.952623, rel=1e-6)
    assert result["ci90"] == pytest.approx([6.226495, 63.937601], rel=1e-6)
    assert result["r2"] == pytest.approx(0.965714, abs=1e-6)
    assert result["n"] == 4
    assert [m["model"] for m in result["models"]] == ["alpha", "delta", "zeta", "theta"]
    assert result["models"][0] == {
        "model": "alpha",
        "date": "2023-01-01",
        "usd_per_mtok": 100.0,
        "score": 60.0,
    }


def test_reasoning_models_are_kept_without_the_flag(app: typer.Typer, tmp_path: Path) -> None:
    csv = str(_write(tmp_path))
    code, out, _ = _run(app, "--from-csv", csv, "--benchmark", "GPQA Diamond", "--threshold", "50")
    assert code == 0
    assert json.loads(out)["n"] == 5


def test_unknown_benchmark_lists_available_ones(app: typer.Typer, tmp_path: Path) -> None:
    csv = str(_write(tmp_path))
    code, out, err = _run(app, "--from-csv", csv, "--benchmark", "HLE", "--threshold", "1")
    assert code == 2
    assert out == ""
    assert "unknown benchmark 'HLE'" in err
    assert "'GPQA Diamond', 'MMLU'" in err


def test_too_few_points_exits_2(app: typer.Typer, tmp_path: Path) -> None:
    csv = str(_write(tmp_path))
    code, _, err = _run(app, "--from-csv", csv, "--benchmark", "MMLU", "--threshold", "90")
    assert code == 2
    assert "at least 4" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (CSV.replace("usd_per_mtok", "price"), "lacks column(s) usd_per_mtok"),
        (CSV.replace("2024-01-01", "Jan 2024"), "dates must be ISO"),
        (CSV.replace(",10,false", ",ten,false"), "'usd_per_mtok' must hold numbers"),
        (CSV.replace(",65,80", ",n/a,80"), "'GPQA Diamond' must hold numbers"),
        (CSV.replace("true", "maybe"), "reasoning must be true/false"),
    ],
    ids=["missing-column", "bad-date", "bad-price", "bad-score", "bad-flag"],
)
def test_bad_input_exits_2_with_a_clear_message(
    app: typer.Typer, tmp_path: Path, text: str, message: str
) -> None:
    csv = str(_write(tmp_path, text))
    code, out, err = _run(
        app, "--from-csv", csv, "--benchmark", "GPQA Diamond", "--threshold", "50"
    )
    assert code == 2
    assert out == ""
    assert message in err


def test_missing_reasoning_column_matters_only_with_the_flag(
    app: typer.Typer, tmp_path: Path
) -> None:
    lines = [",".join(p for i, p in enumerate(r.split(",")) if i != 3) for r in CSV.splitlines()]
    csv = str(_write(tmp_path, "\n".join(lines) + "\n"))
    args = ["--from-csv", csv, "--benchmark", "GPQA Diamond", "--threshold", "50"]
    assert _run(app, *args)[0] == 0
    code, _, err = _run(app, *args, "--exclude-reasoning")
    assert code == 2
    assert "reasoning" in err


def test_missing_file_exits_2(app: typer.Typer, tmp_path: Path) -> None:
    code, _, err = _run(
        app, "--from-csv", str(tmp_path / "nope.csv"), "--benchmark", "MMLU", "--threshold", "1"
    )
    assert code == 2
    assert "is not a file" in err


def test_real_console_app_registers_deflation(tmp_path: Path) -> None:
    from costcurve.cli import app as real_app

    csv = str(_write(tmp_path))
    result = CliRunner().invoke(
        real_app, ["deflation", "--from-csv", csv, "--benchmark", "MMLU", "--threshold", "75"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] >= 4
