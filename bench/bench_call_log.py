"""Reading a call log: `read_call_log` against `pandas.read_csv` of the same file, in the same process.

The log is a simulated busy day exported by `callsim run --log`'s exporter and repeated on consecutive
dates up to the size asked (default: a month of 33,000 calls, 100,000 rows and a million rows). The
reference is what any reader pays at least (`pandas.read_csv`, its default inference, no dates parsed),
and `pandas.read_csv` parsing the four instant columns as dates (what a careful hand-written script does).
Best of N, interleaved; printed as ratios. Not a timed test: the test suite counts work instead
(`tests/test_call_log.py::test_reading_does_no_python_work_per_valid_row`).

    python bench/bench_call_log.py [--rows 33000 100000 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
INSTANTS = ["arrived_at", "queued_at", "answered_at", "ended_at"]


def make_log(rows: int, path: Path) -> None:
    """`rows` calls of the busy day, repeated on consecutive dates, as the exporter writes them."""
    import sim

    day = sim.simulate(ROOT / "scenarios" / "busy-day.yaml", seed=1).call_log()
    copies = []
    for number in range(rows // len(day) + 1):
        shifted = day.copy()
        for column in INSTANTS:
            shifted[column] = shifted[column] + pd.Timedelta(days=number)
        copies.append(shifted)
    pd.concat(copies, ignore_index=True).iloc[:rows].to_csv(path, index=False)


def best(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[33_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each reader; the best is kept")
    args = parser.parse_args()
    from sim.model.call_log import read_call_log

    print(f"{'rows':>10} {'read_call_log':>14} {'pandas':>8} {'ratio':>6} {'pandas+dates':>13} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:
            path = Path(folder) / f"calls-{rows}.csv"
            make_log(rows, path)
            read_call_log(path)  # warm: imports, the file in the page cache
            ours = best(lambda: read_call_log(path), args.repeat)  # noqa: B023 (run at once)
            plain = best(lambda: pd.read_csv(path), args.repeat)  # noqa: B023
            dated = best(lambda: pd.read_csv(path, parse_dates=INSTANTS), args.repeat)  # noqa: B023
            print(
                f"{rows:>10,} {ours:>13.3f}s {plain:>7.3f}s {ours / plain:>5.1f}x {dated:>12.3f}s {ours / dated:>5.1f}x"
            )


if __name__ == "__main__":
    main()
