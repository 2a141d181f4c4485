"""How long and when: durations like `4m` and clock labels like `09:30`, all in seconds inside."""

from __future__ import annotations

import math
import re

_UNITS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "hr": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(-?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-z]*)\s*$")
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?\s*$")


def parse_duration(value: object) -> float:
    """Seconds from a number (already seconds) or a string such as `45s`, `4m`, `1.5h`, `250ms`."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30, '45s', '4m' or '1.5h', got a boolean")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value.lower())
        if not match:
            raise ValueError(f"expected a duration such as 30, '45s', '4m' or '1.5h', got {value!r}")
        number, unit = match.groups()
        if unit not in ("", *_UNITS):
            raise ValueError(f"unknown time unit {unit!r} in {value!r}; use ms, s, m, h or d")
        seconds = float(number) * _UNITS.get(unit, 1.0)
    else:
        raise ValueError(f"expected a duration such as 30, '45s', '4m' or '1.5h', got {type(value).__name__}")
    if not math.isfinite(seconds):
        raise ValueError(f"a duration must be finite, got {value!r}")
    return seconds


def parse_clock(value: object) -> float:
    """Seconds after midnight from `HH:MM` or `HH:MM:SS` (a bare number is taken as seconds)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"a clock time must be finite and >= 0, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a clock time such as '08:00', got {type(value).__name__}")
    match = _CLOCK.match(value)
    if not match:
        raise ValueError(f"expected a clock time such as '08:00' or '08:00:30', got {value!r}")
    hours, minutes, seconds = int(match.group(1)), int(match.group(2)), float(match.group(3) or 0)
    if hours > 47 or minutes > 59 or seconds >= 60:
        raise ValueError(f"not a valid clock time: {value!r}")
    return hours * 3600.0 + minutes * 60.0 + seconds


def format_clock(seconds_of_day: float, with_seconds: bool = False) -> str:
    """`09:30` (or `09:30:05`) from seconds after midnight; hours run past 24 for the next day."""
    whole = round(seconds_of_day) if with_seconds else int(seconds_of_day // 60 * 60)
    hours, rest = divmod(whole, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}" if with_seconds else f"{hours:02d}:{minutes:02d}"


def format_duration(seconds: float) -> str:
    """A short human duration: `45s`, `4m`, `1.5h`, choosing the largest unit that stays exact-ish."""
    if seconds >= 3600 and seconds % 360 == 0:
        return f"{seconds / 3600:g}h"
    if seconds >= 60 and seconds % 6 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


def not_boolean(value: object) -> object:
    """Refuse YAML's true/false where a number belongs (Python would quietly read them as 1 and 0)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got a boolean ({str(value).lower()})")
    return value
