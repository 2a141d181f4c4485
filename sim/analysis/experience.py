"""How the caller will remember the call: a modelled experience score built on the peak-end rule.

People judge an experience by its worst moment (the peak) and by how it ended, not by its average. This is a
model, not a survey result; its parameters live in the scenario's `experience` block:

    badness of a wait  = min(1, wait / wait_tolerance)          (each queue visit)
    badness of a hold  = min(1, hold time / hold_tolerance)     (each hold)
    a broken hold promise = overrun_badness; a misroute = misroute_badness; a busy signal = busy_badness
    peak = the worst of these (0 if none)
    end  = end_badness of how the call ended: first_agent, later_agent, callback, self_service, unresolved
    score = 10 * (1 - peak_weight * peak - (1 - peak_weight) * end)        (0 worst, 10 best)
"""

from __future__ import annotations

import numpy as np

from sim.model.scenario import Experience

FORMULA = __doc__ or ""


def experience_scores(
    experience: Experience,
    blocked: np.ndarray,
    answered: np.ndarray,
    self_served: np.ndarray,
    worst_wait: np.ndarray,
    worst_hold: np.ndarray,
    overran: np.ndarray,
    misrouted: np.ndarray,
    agents_touched: np.ndarray,
    via_callback: np.ndarray,
) -> np.ndarray:
    """The score of each call (see the module docstring for the formula); how each call ended as boolean
    arrays (its outcome `blocked`, `answered`, `self_service`), not outcome names compared call by call."""
    # The worst of the badnesses, taken one after another into one array: the order `np.maximum.reduce` of
    # the five stacked takes them in, without building the stack.
    peak = np.minimum(1.0, np.nan_to_num(worst_wait) / experience.wait_tolerance)
    np.maximum(peak, np.minimum(1.0, np.nan_to_num(worst_hold) / experience.hold_tolerance), out=peak)
    for flagged, badness in (
        (overran, experience.overrun_badness),
        (misrouted, experience.misroute_badness),
        (blocked, experience.busy_badness),
    ):
        np.maximum(peak, np.where(flagged, badness, 0.0), out=peak)
    ends = experience.end_badness
    # How the call ended, the first that holds of: self-served, unresolved, via a callback, the first agent
    # (else a later one): each set in turn, from the last to the first, so that the first wins.
    end = np.where(agents_touched <= 1, float(ends.first_agent), float(ends.later_agent))
    end[via_callback] = ends.callback
    end[~answered] = ends.unresolved
    end[self_served] = ends.self_service
    weight = experience.peak_weight
    return 10.0 * (1.0 - weight * peak - (1.0 - weight) * end)
