"""What theory says: Erlang B, C and A (M/M/c+M) figures and staffing, from exact birth-death chains.

Used as oracles in the tests, as starting points for the staffing search, and by `callsim erlang`.
Rates are per second, times in seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import expm


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/M/c/c with offered load `load` erlangs (stable recursion)."""
    if servers < 0 or load < 0:
        raise ValueError("servers and load must be >= 0")
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c(servers: int, load: float) -> float:
    """Probability of waiting in M/M/c (1 when the load is at or above the number of agents)."""
    if load >= servers:
        return 1.0
    blocking = erlang_b(servers, load)
    return servers * blocking / (servers - load * (1 - blocking))


@dataclass(frozen=True)
class QueueFigures:
    """Steady-state figures of one queue; waits in seconds, rates as probabilities."""

    servers: int
    load: float
    p_wait: float
    asa: float
    mean_wait: float
    service_level: float
    abandon_rate: float
    occupancy: float


def erlang_c_figures(arrival_rate: float, mean_handle: float, servers: int, threshold: float) -> QueueFigures:
    """M/M/c: P(wait), ASA, service level within `threshold`, occupancy (no abandonment)."""
    load = arrival_rate * mean_handle
    if load >= servers:
        return QueueFigures(servers, load, 1.0, math.inf, math.inf, 0.0, 0.0, 1.0)
    p_wait = erlang_c(servers, load)
    drain_rate = (servers - load) / mean_handle
    asa = p_wait / drain_rate
    service_level = 1.0 - p_wait * math.exp(-drain_rate * threshold)
    return QueueFigures(servers, load, p_wait, asa, asa, service_level, 0.0, load / servers)


def stationary_mmc_m(
    arrival_rate: float, mean_handle: float, mean_patience: float, servers: int
) -> np.ndarray:
    """Stationary distribution of the number in system of M/M/c+M (birth-death, truncated where negligible)."""
    mu, theta = 1.0 / mean_handle, 1.0 / mean_patience
    log_p = [0.0]
    n = 0
    while True:
        n += 1
        death = mu * min(n, servers) + theta * max(n - servers, 0)
        log_p.append(log_p[-1] + math.log(arrival_rate) - math.log(death))
        if n > servers and log_p[-1] < max(log_p) - 40:
            break
    values = np.exp(np.array(log_p) - max(log_p))
    return values / values.sum()


def erlang_a_figures(
    arrival_rate: float, mean_handle: float, mean_patience: float, servers: int, threshold: float
) -> QueueFigures:
    """M/M/c+M (Erlang A): P(wait), abandonment, ASA of answered calls, service level, occupancy.

    A caller finding k others queued is served after a sum of exponential phases with rates
    c*mu + j*theta (j = k..0) if its own exponential patience outlasts them; multiplying by the patience
    survival turns each phase into rate c*mu + (j+1)*theta with weight (c*mu + j*theta)/(c*mu + (j+1)*theta).
    """
    if math.isinf(mean_patience):
        return erlang_c_figures(arrival_rate, mean_handle, servers, threshold)
    p = stationary_mmc_m(arrival_rate, mean_handle, mean_patience, servers)
    mu, theta = 1.0 / mean_handle, 1.0 / mean_patience
    c = servers
    states = np.arange(len(p))
    queued = np.maximum(states - c, 0)
    p_wait = float(p[states >= c].sum())
    abandon_rate = float(theta * (queued * p).sum() / arrival_rate)
    mean_wait = float((queued * p).sum() / arrival_rate)
    positions = int(max(len(p) - c, 1))
    phase = c * mu + np.arange(positions) * theta  # rate with j others ahead, before patience
    shifted = phase + theta
    survive = np.cumprod(phase / shifted)  # P(served | k ahead) for k = 0..positions-1
    mean_if_served = survive * np.cumsum(1.0 / shifted)  # E[V; served]
    generator = np.zeros((positions + 1, positions + 1))  # state 0 = answered, state k+1 = k ahead
    for k in range(positions):
        generator[k + 1, k + 1] = -shifted[k]
        generator[k + 1, k] = shifted[k]
    absorbed = expm(generator * threshold)[1:, 0]
    arriving_queued = p[c : c + positions] if len(p) > c else np.zeros(0)
    weights = np.zeros(positions)
    weights[: len(arriving_queued)] = arriving_queued
    p_immediate = float(p[:c].sum())
    served = p_immediate + float((weights * survive).sum())
    answered_in_time = p_immediate + float((weights * survive * absorbed).sum())
    asa = float((weights * mean_if_served).sum()) / served
    busy = float((np.minimum(states, c) * p).sum())
    return QueueFigures(
        servers, arrival_rate * mean_handle, p_wait, asa, mean_wait, answered_in_time, abandon_rate, busy / c
    )


def staff_erlang_c(
    arrival_rate: float, mean_handle: float, threshold: float, target: float, max_agents: int = 10_000
) -> int:
    """Fewest agents for which M/M/c meets the service-level target."""
    servers = max(1, math.floor(arrival_rate * mean_handle) + 1)
    while servers <= max_agents:
        if erlang_c_figures(arrival_rate, mean_handle, servers, threshold).service_level >= target:
            return servers
        servers += 1
    raise ValueError(f"no staffing up to {max_agents:,} agents meets the target")


def staff_erlang_a(
    arrival_rate: float,
    mean_handle: float,
    mean_patience: float,
    threshold: float,
    target: float,
    max_abandon: float = 1.0,
    max_agents: int = 10_000,
) -> int:
    """Fewest agents for which M/M/c+M meets the service-level target and the abandonment ceiling."""
    if arrival_rate <= 0:
        return 0
    servers = 1
    while servers <= max_agents:
        figures = erlang_a_figures(arrival_rate, mean_handle, mean_patience, servers, threshold)
        if figures.service_level >= target and figures.abandon_rate <= max_abandon:
            return servers
        servers += 1
    raise ValueError(f"no staffing up to {max_agents:,} agents meets the targets")
