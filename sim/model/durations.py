"""How long and when: durations like `4m` and clock labels like `09:30`, all in seconds inside."""

from __future__ import annotations

import math
import re

_UNITS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "hr": 3600.0, "d": 86400.0}
# Unambiguous (digits[.digits] or .digits), so a long run of digits cannot make the match take quadratic time.
_DURATION = re.compile(r"^\s*(-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*([a-z]*)\s*$")
MAX_SECONDS = 1e9
"""The longest duration anything in a scenario may last (about 31 years): far beyond any real day, and small
enough that sums and draws of durations stay ordinary floats."""
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?\s*$")


def parse_duration(value: object) -> float:
    """Seconds from a number (already seconds) or a string such as `45s`, `4m`, `1.5h`, `250ms`."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30, '45s', '4m' or '1.5h', got a boolean")
    if isinstance(value, int | float):
        # an integer too large for a float (YAML reads 10**400 exactly) is refused below, not an OverflowError
        big = isinstance(value, int) and abs(value) > MAX_SECONDS
        seconds = (math.inf if value > 0 else -math.inf) if big else float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value.lower())
        if not match and _CLOCK_LIKE.match(value):
            raise ValueError(_colon_hint(value))
        if not match:
            raise ValueError(f"expected a duration such as 30, '45s', '4m' or '1.5h', got {shorten(value)}")
        number, unit = match.groups()
        if unit not in ("", *_UNITS):
            raise ValueError(f"unknown time unit {shorten(unit)} in {shorten(value)}; use ms, s, m, h or d")
        seconds = float(number) * _UNITS.get(unit, 1.0)
    else:
        raise ValueError(f"expected a duration such as 30, '45s', '4m' or '1.5h', got {type(value).__name__}")
    if not math.isfinite(seconds) and not isinstance(value, int):
        raise ValueError(f"a duration must be finite, got {shorten(value)}")
    if abs(seconds) > MAX_SECONDS:
        raise ValueError(
            f"a duration must be at most {MAX_SECONDS:g} seconds (about 31 years) long, got {shorten(value)}"
        )
    return seconds


_CLOCK_LIKE = re.compile(r"^\s*(\d{1,6}):(\d{2})(?::(\d{2}(?:\.\d+)?))?\s*$")


def _colon_hint(text: str) -> str:
    """Why `1:30` is refused as a duration, with the unit-suffixed forms it could mean: `H:MM` or `M:SS`
    are equally plausible (YAML 1.1 itself would have read 90), so the user says which."""
    match = _CLOCK_LIKE.match(text)
    assert match is not None
    first, second, third = int(match.group(1)), int(match.group(2)), match.group(3)
    if third is not None:
        seconds = first * 3600 + second * 60 + float(third)
        return f"{shorten(text)} is not a duration; if it means hours:minutes:seconds, write '{seconds:g}s'"
    return (
        f"{shorten(text)} is not a duration (hours:minutes or minutes:seconds?); write it with a unit: "
        f"'{first * 60 + second}m' or '{first * 60 + second}s'"
    )


def parse_clock(value: object) -> float:
    """Seconds after midnight from `HH:MM` or `HH:MM:SS` (a bare number is taken as seconds)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not (0 <= value <= MAX_SECONDS):  # also NaN, infinities and integers too large for a float
            raise ValueError(
                f"a clock time in seconds must be between 0 and {MAX_SECONDS:g}, got {shorten(value)}"
            )
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a clock time such as '08:00', got {type(value).__name__}")
    match = _CLOCK.match(value)
    if not match:
        raise ValueError(f"expected a clock time such as '08:00' or '08:00:30', got {shorten(value)}")
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


def shorten(value: object) -> str:
    """`repr(value)`, cut to a readable length (a 400-digit integer is not worth printing whole)."""
    return clip(repr(value), 40)


_ESCAPES = {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}
_CONTROLS = [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]
_PRINTABLE = str.maketrans(
    {code: _ESCAPES.get(code, f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in _CONTROLS}
)


def printable(text: str) -> str:
    """`text` with control characters written as escapes (`\\n`, `\\t`, `\\x1b`, `\\u2028`): a name the
    user chose (a file, a folder, a department) then cannot split a one-line message, or send a terminal
    escape sequence, wherever a message quotes it."""
    return text.translate(_PRINTABLE)


def clip(text: str, limit: int = 120) -> str:
    """`text` cut to at most `limit` characters, marked with '...' where it was cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def not_boolean(value: object) -> object:
    """Refuse YAML's true/false where a number belongs (Python would quietly read them as 1 and 0)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got a boolean ({str(value).lower()})")
    return value
