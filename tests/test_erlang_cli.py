"""`callsim erlang`: the analytic Erlang C and Erlang A answers for one queue."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from sim.analysis import erlang
from sim.cli.app import app

runner = CliRunner()
BASE = [
    "erlang",
    "--per-hour",
    "120",
    "--aht",
    "4m",
    "--patience",
    "3m",
    "--threshold",
    "20s",
    "--target",
    "0.8",
]


def answers(*extra: str) -> dict:
    result = runner.invoke(app, [*BASE, *extra, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_textbook_case():
    # 120 calls/h of 4 min = 8 erlangs; Erlang C: 10 agents answer 65% within 20 s, 11 agents 81%.
    got = answers()
    assert got["load_erlangs"] == pytest.approx(8.0)
    assert got["erlang_c"]["agents"] == 11
    assert got["erlang_c"]["service_level"] == pytest.approx(0.809, abs=5e-4)
    assert erlang.erlang_c_figures(120 / 3600, 240, 10, 20).service_level < 0.8
    # Erlang A: the fewest agents whose M/M/c+M service level reaches 80%
    count = got["erlang_a"]["agents"]
    assert count == erlang.staff_erlang_a(120 / 3600, 240, 180, 20, 0.8)
    assert erlang.erlang_a_figures(120 / 3600, 240, 180, count, 20).service_level >= 0.8
    assert erlang.erlang_a_figures(120 / 3600, 240, 180, count - 1, 20).service_level < 0.8


def test_an_abandonment_ceiling_raises_the_erlang_a_answer_only():
    loose, strict = answers(), answers("--max-abandon", "0.03")
    assert strict["erlang_c"]["agents"] == loose["erlang_c"]["agents"]
    assert strict["erlang_a"]["agents"] > loose["erlang_a"]["agents"]
    assert strict["erlang_a"]["abandon_rate"] <= 0.03
    rows = {row["agents"]: row for row in strict["table"]}
    assert rows[strict["erlang_a"]["agents"] - 1]["erlang_a_abandon_rate"] > 0.03


def test_without_patience_erlang_a_is_erlang_c():
    result = runner.invoke(app, ["erlang", "--per-hour", "120", "--aht", "4m", "--json"])
    got = json.loads(result.output)
    assert got["erlang_a"]["agents"] == got["erlang_c"]["agents"] == 11
    assert got["patience"] is None  # infinite, as JSON null


def test_the_table_marks_the_answers():
    result = runner.invoke(app, BASE)
    assert result.exit_code == 0
    assert "Erlang C (no abandonment): 11 agents" in result.output
    assert "<- Erlang C" in result.output


@pytest.mark.parametrize(
    "extra",
    [
        ["--aht", "0"],
        ["--aht", "soon"],
        ["--patience", "-1m"],
        ["--target", "1.2"],
        ["--max-abandon", "0"],
        ["--per-hour", "nan"],
        ["--per-hour", "1e9"],
    ],
)
def test_bad_inputs_exit_2(extra):
    result = runner.invoke(app, [*BASE, *extra])
    assert result.exit_code == 2
    assert "error" in result.output
    if extra[0] in ("--per-hour", "--target", "--max-abandon"):
        assert f"{extra[0]}: must be a number in" in result.output  # names the option and its range
