"""A long, clean arrival trace is read in one vectorised pass that gives exactly what the careful row-by-row
reader gives; anything unusual in a long trace goes to the careful reader, which names the faulty line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim.model.loading as loading
from sim.model.loading import ScenarioError, read_trace
from sim.model.traces import SMALL, read_trace_fast

START = 8 * 3600.0
DURATION = 8 * 3600.0


def _clean_trace(path: Path, lines: int, bom: bool = False) -> None:
    """Distinct millisecond arrivals over the day: every third in seconds after the start, the rest as clock
    times, with reasons some of which carry spaces to strip."""
    rng = np.random.default_rng(7)
    milliseconds = np.sort(rng.choice(int(DURATION * 1000) - 1000, lines, replace=False))
    reasons = np.array(["billing", "technical", " sales ", ""])[rng.integers(0, 4, lines)]
    rows = []
    for index, (at, reason) in enumerate(zip(milliseconds.tolist(), reasons.tolist(), strict=True)):
        whole, milli = divmod(at, 1000)
        if index % 3 == 0:
            rows.append(f"{whole}.{milli:03d},{reason}")
        else:
            clock = whole + int(START)
            rows.append(f"{clock // 3600:02d}:{clock % 3600 // 60:02d}:{clock % 60:02d}.{milli:03d},{reason}")
    text = "at,reason\n" + "\n".join(rows) + "\n"
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")


def _careful(path: Path) -> tuple[tuple[float, ...], tuple[str, ...]]:
    """The row-by-row reader alone (the fast path switched off)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loading, "read_trace_fast", lambda *args: None)
        return read_trace(path, START, DURATION)


@pytest.mark.parametrize("bom", [False, True])
def test_a_long_clean_trace_reads_fast_and_exactly_as_the_careful_reader(tmp_path: Path, bom: bool) -> None:
    path = tmp_path / "trace.csv"
    _clean_trace(path, SMALL + 5_000, bom)
    fast = read_trace_fast(path, START, DURATION)
    assert fast is not None  # the vectorised path took it
    times, reasons = fast
    careful_times, careful_reasons = _careful(path)
    assert times == careful_times  # the same floats, bit for bit
    assert reasons == careful_reasons
    assert "sales" in reasons and " sales " not in reasons


def test_a_short_trace_is_left_to_the_careful_reader(tmp_path: Path) -> None:
    path = tmp_path / "trace.csv"
    _clean_trace(path, 100)
    assert read_trace_fast(path, START, DURATION) is None
    assert len(read_trace(path, START, DURATION)[0]) == 100


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        ("9:61:00,billing", "line 12002"),  # not a clock time
        ("45s,billing", None),  # a unit: valid, but only the careful reader knows units
        ("99999,billing", "outside the day"),
        ("1,billing", "in order"),
        ("1,billing,extra", None),  # a ragged row: the careful reader's business
    ],
)
def test_anything_unusual_in_a_long_trace_goes_to_the_careful_reader(
    tmp_path: Path, bad_row: str, expected: str | None
) -> None:
    path = tmp_path / "trace.csv"
    _clean_trace(path, SMALL + 5_000)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[12_001] = bad_row  # file line 12002 (the header is line 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert read_trace_fast(path, START, DURATION) is None
    if expected is None:
        return
    with pytest.raises(ScenarioError, match=expected):
        read_trace(path, START, DURATION)
