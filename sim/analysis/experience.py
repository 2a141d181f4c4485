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
import pandas as pd

from sim.model.scenario import Experience

FORMULA = __doc__ or ""


def experience_scores(
    experience: Experience,
    outcome: pd.Series,
    worst_wait: np.ndarray,
    worst_hold: np.ndarray,
    overran: np.ndarray,
    misrouted: np.ndarray,
    agents_touched: np.ndarray,
    via_callback: np.ndarray,
) -> np.ndarray:
    """The score of each call (see the module docstring for the formula)."""
    peak = np.maximum.reduce(
        [
            np.minimum(1.0, np.nan_to_num(worst_wait) / experience.wait_tolerance),
            np.minimum(1.0, np.nan_to_num(worst_hold) / experience.hold_tolerance),
            np.where(overran, experience.overrun_badness, 0.0),
            np.where(misrouted, experience.misroute_badness, 0.0),
            np.where(outcome.to_numpy() == "blocked", experience.busy_badness, 0.0),
        ]
    )
    ends = experience.end_badness
    resolved = outcome.to_numpy() == "answered"
    end = np.where(
        outcome.to_numpy() == "self_service",
        ends.self_service,
        np.where(
            ~resolved,
            ends.unresolved,
            np.where(
                via_callback, ends.callback, np.where(agents_touched <= 1, ends.first_agent, ends.later_agent)
            ),
        ),
    )
    weight = experience.peak_weight
    return 10.0 * (1.0 - weight * peak - (1.0 - weight) * end)
