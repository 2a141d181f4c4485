"""Engine speed: callsim against the usual SimPy model and Ciw, on M/M/10+M, in the same process.

    python bench/bench_engine.py [--calls 240000] [--repeat 3]

Prints calls per second (best of `repeat`) and the ratio to the plain SimPy reference; callsim's goal is at
least 2x with its full event log. Each model's abandonment and P(wait) are printed next to Erlang A's, so a
fast but wrong model shows. Also times a five-department day with an IVR, misroutes and transfers.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.models import AGENTS, ciw_model, mm10m, plain_simpy, transfers
from sim.analysis.erlang import erlang_a_figures
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table
from sim.engine.day import simulate


def best_of(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The shortest wall time of `repeat` runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=240_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    theory = erlang_a_figures(2 / 60, 240.0, 180.0, AGENTS, 20.0)
    scenario = mm10m(args.calls)
    rows: list[tuple[str, float, float, float, float]] = []

    seconds, result = best_of(args.repeat, lambda: simulate(scenario))
    kpis = summary(result)
    rows.append(("callsim (event log)", result.calls_offered, seconds, kpis["abandon_rate"], kpis["p_wait"]))
    seconds, calls = best_of(args.repeat, lambda: calls_table(simulate(scenario)))
    rows.append(("callsim + calls table", len(calls), seconds, kpis["abandon_rate"], kpis["p_wait"]))
    seconds, reference = best_of(args.repeat, lambda: plain_simpy(result.calls_offered))
    rows.append(
        (
            "plain SimPy (Resource)",
            reference["calls"],
            seconds,
            reference["abandon_rate"],
            reference["p_wait"],
        )
    )
    seconds, ciw = best_of(1, lambda: ciw_model(result.calls_offered))
    if ciw is not None:
        rows.append(("Ciw", ciw["calls"], seconds, ciw["abandon_rate"], ciw["p_wait"]))

    reference_rate = rows[2][1] / rows[2][2]
    print(f"M/M/{AGENTS}+M, 2 calls/min, handle 4 min, patience 3 min; best of {args.repeat}")
    print(f"Erlang A: abandonment {theory.abandon_rate:.4f}, P(wait) {theory.p_wait:.4f}")
    print(
        f"{'model':26s} {'calls':>9s} {'seconds':>8s} {'calls/s':>9s} {'ratio':>6s} {'abandon':>8s} {'P(wait)':>8s}"
    )
    for name, count, secs, abandon, waited in rows:
        rate = count / secs
        print(
            f"{name:26s} {count:9.0f} {secs:8.2f} {rate:9,.0f} {rate / reference_rate:6.2f} {abandon:8.4f} {waited:8.4f}"
        )
    print("goal: callsim >= 2x the plain SimPy reference")

    day = transfers(args.calls // 4)
    seconds, result = best_of(args.repeat, lambda: simulate(day))
    kpis = summary(result)
    print(
        f"\nfive departments, IVR, misroutes, cold transfers: {result.calls_offered:,} calls, "
        f"{result.calls_offered / seconds:,.0f} calls/s ({kpis['transfers_per_call']:.2f} transfers per call); "
        "goal: 50,000 calls/s on one core"
    )


if __name__ == "__main__":
    main()
