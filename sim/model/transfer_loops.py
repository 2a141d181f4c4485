"""Whether callers can leave a transfer network: loops they never leave, or leave only after an absurd number
of visits, are refused at the first department of the loop.

Written over plain names and probabilities (a `TransferNetwork`), not the `Scenario`, so the scenario's own
cross-field checks (`sim.model.scenario`) can call it without an import circle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from sim.model.durations import shorten

MAX_VISITS = 1000
"""The most departments callers may visit on average in an explicit transfer network."""
_LOOP_TOLERANCE = 1e-9


@dataclass(frozen=True)
class TransferNetwork:
    """What decides where a caller goes next: departments (in scenario order), their transfer blocks, the
    reasons each resolves, the reasons callers have, which departments' agents misroute (accuracy below 1),
    whether the IVR misroutes, and whether `max_transfers` bounds reason-based transfers."""

    departments: tuple[str, ...]
    explicit: Mapping[str, Mapping[str, float]]
    resolves: Mapping[str, tuple[str, ...]]
    reasons: tuple[str, ...]
    misroutes: Mapping[str, bool]
    sloppy_ivr: bool
    bounded: bool


def loop_problems(network: TransferNetwork) -> Iterator[tuple[str, str]]:
    """Transfers that keep callers forever, or nearly, as (YAML path, message): refused at the first
    department of the loop.

    A department with a `transfer` block sends callers on with those probabilities whatever their reason
    (`max_transfers` does not stop it); one without sends a caller it cannot help on towards the first
    department that resolves the reason (or, if its routing accuracy is below 1, any department that does
    not), until `max_transfers`. A caller can leave where a transfer block sums to below 1, where a
    department without one resolves their reason, and anywhere once `max_transfers` is set."""
    departments = network.departments
    explicit = network.explicit
    if not explicit:
        return
    # Transfer blocks alone: departments that only send callers to one another.
    exits = {name for name, transfer in explicit.items() if sum(transfer.values()) < 1 - _LOOP_TOLERANCE}
    edges = {name: [t for t, p in transfer.items() if p > 0] for name, transfer in explicit.items()}
    free = _can_reach(edges, exits | (set(departments) - explicit.keys()))
    trapped = [name for name in explicit if name not in free]
    if trapped:
        yield (
            f"departments.{trapped[0]}.transfer",
            f"a loop callers can never leave: {', '.join(trapped)} send every caller on among themselves "
            "(their transfer probabilities sum to 1)",
        )
        return
    # Transfer blocks together with the reason-based transfers of the other departments.
    if not network.bounded:
        anywhere = "\0any department that cannot resolve the reason"  # one node, not an edge to each
        for reason in network.reasons:
            resolvers = [name for name in departments if reason in network.resolves[name]]
            if not resolvers:
                continue  # refused elsewhere: no department resolves this reason
            others = [name for name in departments if name not in resolvers]
            graph = {**edges, anywhere: others}
            for name in others:
                if name not in explicit:
                    graph[name] = [resolvers[0], anywhere] if network.misroutes[name] else [resolvers[0]]
            reached = _reachable([resolvers[0], *(others if network.sloppy_ivr else ())], graph)
            free = _can_reach(graph, exits | {name for name in resolvers if name not in explicit})
            stuck = [name for name in departments if name in reached and name not in free]
            if stuck:
                first = next((name for name in stuck if name in explicit), stuck[0])
                yield (
                    f"departments.{first}.transfer",
                    f"callers about {shorten(reason)} can never leave: {', '.join(stuck)} send them on "
                    "among themselves (set max_transfers, or transfer probabilities that let them go)",
                )
                return
            expected = _visits_before_leaving(network, resolvers[0], reason)
            looping = [name for name in explicit if name in reached]  # a long loop runs through a block
            longest = max(looping, key=expected.__getitem__, default=None)
            if longest is not None and expected[longest] > MAX_VISITS:
                yield (
                    f"departments.{longest}.transfer",
                    f"callers about {shorten(reason)} sent here visit about {expected[longest]:.3g} departments "
                    f"before they leave; at most {MAX_VISITS} (transfer probabilities this close to 1 make a "
                    "near-endless loop; set max_transfers, or probabilities that let them go)",
                )
                return
    # Transfer blocks that let callers go, but so rarely that they would wander almost forever.
    visits = _visits_in_blocks(explicit, lambda target: (0.0, None))  # counted in the blocks only
    worst = max(visits, key=visits.__getitem__)
    if visits[worst] > MAX_VISITS:
        yield (
            f"departments.{worst}.transfer",
            f"callers sent here visit about {visits[worst]:.3g} departments before they leave; at most "
            f"{MAX_VISITS} (transfer probabilities this close to 1 make a near-endless loop)",
        )


def _visits_before_leaving(network: TransferNetwork, right: str, reason: str) -> dict[str, float]:
    """Per department with a transfer block, the departments a caller about `reason` sent there visits
    before it leaves, in the long run: a department without a block lets them go if it resolves the reason
    and otherwise sends them to the right one. Misroutes are left out: they only reach departments not yet
    visited, so they add at most one visit per department, not a loop."""
    explicit = network.explicit

    def after(target: str) -> tuple[float, str | None]:
        if reason in network.resolves[target]:
            return 1.0, None  # served there, and gone
        if right in explicit:
            return 1.0, right  # there, then on to the right department, which has a block
        return 2.0, None  # there, then the right department, and gone

    return _visits_in_blocks(explicit, after)


def _visits_in_blocks(
    explicit: Mapping[str, Mapping[str, float]], after: Callable[[str], tuple[float, str | None]]
) -> dict[str, float]:
    """Per department with a transfer block, the departments a caller sent there visits before it leaves
    (expected visits v solve (I - P) v = c). For a target without a block, `after(target)` gives the
    departments visited from there on and the block the caller then goes on to, if any."""
    import numpy as np  # here: only scenarios with transfer blocks need it, and `validate` starts faster

    names = list(explicit)
    index = {name: row for row, name in enumerate(names)}
    matrix = np.eye(len(names))
    constant = np.ones(len(names))
    for name, transfer in explicit.items():
        row = index[name]
        for target, probability in transfer.items():
            if target in index:
                matrix[row, index[target]] -= probability
                continue
            visited, onward = after(target)
            constant[row] += visited * probability
            if onward is not None:
                matrix[row, index[onward]] -= probability
    try:
        visits = np.abs(np.linalg.solve(matrix, constant))
    except np.linalg.LinAlgError:
        visits = np.full(len(names), np.inf)
    visits[~np.isfinite(visits)] = np.inf
    return dict(zip(names, visits.tolist(), strict=True))


def _reachable(starts: Iterable[str], graph: Mapping[str, Sequence[str]]) -> set[str]:
    """Every node a caller starting at `starts` can get to along `graph`."""
    seen = set(starts)
    todo = list(seen)
    while todo:
        for target in graph.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _can_reach(graph: Mapping[str, Sequence[str]], goals: set[str]) -> set[str]:
    """Every node from which some path along `graph` leads to one of `goals`."""
    backwards: dict[str, list[str]] = {}
    for source, targets in graph.items():
        for target in targets:
            backwards.setdefault(target, []).append(source)
    return _reachable(goals, backwards)
