"""Words a story is told in: ordinals, durations as a trainer says them, plurals (`sim.output.story` and
`sim.output.story_channels` both speak them)."""

from __future__ import annotations

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def ordinal(number: int) -> str:
    """`fourth` for 4; `11th` past ten."""
    if 1 <= number <= len(_ORDINALS):
        return _ORDINALS[number - 1]
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def spoken(seconds: float) -> str:
    """`35s`, `2m 10s`, `1h 05m`: a duration as a trainer would say it."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {rest:02d}s" if rest else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def plural(count: int, word: str) -> str:
    """`1 agent`, `3 agents`."""
    return f"{count} {word}{'' if count == 1 else 's'}"
