"""How a picture names a KPI: its label and unit as the KPI registry (`sim.analysis.kpis`) writes them, so that
an axis, a title or a legend never restates what the registry says (`service level (%)`, `average speed of
answer (s)`). Summary keys the registry does not describe (a share of the `agents_touched` distribution, a
group's calls handled by skill) keep their key as their name.
"""

from __future__ import annotations

from sim.analysis import kpis

SHOWN_UNITS = frozenset({"%", "s", "h"})
"""Registry units written after an axis label; counts, ratios and scores ("n", "x", "") need none."""
SHARE_GROUPS = frozenset({"agents_touched"})
"""Summary mappings outside the registry whose every value is a share (`agents_touched.2`)."""
SHARE_SETTINGS = frozenset({"service_level_target"})
"""Settings repeated in the summary (`kpis.SETTINGS`) that are shares."""


def unit(key: str) -> str:
    """The registry's unit of a summary key (dotted for nested figures, `by_department.NAME.KEY` per
    department); for a key it does not describe, "%" for a share and "" otherwise."""
    if kpis.known(key):
        return kpis.kpi(key).unit
    parts = key.split(".")
    if key in SHARE_SETTINGS or (len(parts) > 1 and parts[-2] in SHARE_GROUPS):
        return "%"
    return ""


def name(key: str) -> str:
    """The registry's label of a summary key, with the department or group it is of (`billing: ASA`); the
    key itself when the registry does not describe it."""
    if not kpis.known(key):
        return key
    label = kpis.kpi(key).label
    parts = key.split(".")
    if len(parts) == 3 and parts[0] in ("by_department", "by_group"):
        return f"{parts[1]}: {label}"
    return label


def with_unit(text: str, shown: str) -> str:
    """`text (unit)` for a unit worth writing, `text` alone otherwise."""
    return f"{text} ({shown})" if shown in SHOWN_UNITS else text


def axis_label(key: str) -> str:
    """An axis label for a KPI: the registry's label and unit, `service level (%)`."""
    return with_unit(name(key), unit(key))


def heading(key: str) -> str:
    """The registry's label starting with a capital, for a title: `Service level`."""
    text = name(key)
    return text[:1].upper() + text[1:]
