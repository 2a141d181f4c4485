"""The parameters of a sweep and the designs that combine them into points.

A parameter is a dotted scenario path with values: `departments.billing.agents=8:16` (an inclusive integer
range), `8:16:2` (stepped), `patience.mean=2m,3m,5m` (a list), `patience.mean=2m:5m` (a continuous range, for
a Latin hypercube; `2m:5m:30s` steps it for a grid), or a mapping `{"patience.mean": ["2m", "3m"]}` from the
Python API. Every value stays the text of a `--set` override, so each point is validated like a scenario.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from sim.model.durations import parse_duration
from sim.model.loading import ScenarioError, parse_yaml_text
from sim.model.streams import Streams

MAX_POINTS = 100_000


class SweepError(ValueError):
    """A sweep that cannot start: a malformed --grid, a bad design, or a folder holding another sweep."""


# --- parameters and designs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """One swept scenario path: its discrete values (override texts), or a continuous range (LHS only)."""

    key: str
    spec: str
    values: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    @property
    def continuous(self) -> bool:
        """A range sampled continuously (`2m:5m`, `0.5:0.9`): only a Latin hypercube can use it."""
        return self.low is not None


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """`text` split at `separator`s outside brackets, braces and quotes (`[1, 2],{a: 1}` is two items)."""
    items: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == separator and depth == 0:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return items


def _yaml_scalar(text: str) -> Any:
    """A value as `--set` reads it (YAML without base 60: `10:00` stays the clock time written, not 600),
    or the text itself where it is not YAML."""
    try:
        return parse_yaml_text(text)
    except ScenarioError:
        return text


def _as_number(text: str) -> int | float | None:
    """An int (YAML integer), a float (YAML float or a duration such as `2m`, in seconds), or None."""
    value = _yaml_scalar(text.strip())
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            return None
    return None


def _number_text(value: float) -> str:
    return repr(float(value))


def _check_key(key: str, text: str, has_values: bool = True) -> None:
    """Refuse (SweepError) a malformed dotted path, and the seed and name, which every point shares."""
    usage = "expected dotted.path=VALUES, e.g. departments.billing.agents=8:16 or patience.mean=2m,3m,5m"
    if not has_values or not key or not all(part.strip() for part in key.split(".")):
        raise SweepError(f"--grid {text!r}: {usage}")
    if key.split(".")[0] in ("seed", "name"):
        raise SweepError(
            f"--grid {text!r}: {key} cannot be swept (every point shares the seed: common random numbers)"
        )


def parse_parameter(text: str) -> Parameter:
    """`key=8:16`, `key=8:16:2` (inclusive integer ranges), `key=2m,3m,5m` (a list), `key=2m:5m` (continuous,
    Latin hypercube only; `2m:5m:30s` steps it for a grid), or a single value."""
    key, sep, spec = text.partition("=")
    key, spec = key.strip(), spec.strip()
    _check_key(key, text, bool(sep and spec))
    items = [item.strip() for item in split_top_level(spec)]
    if len(items) > 1:
        if not all(items):
            raise SweepError(f"--grid {text!r}: empty value in the list")
        return Parameter(key, spec, tuple(items))
    parts = spec.split(":")
    numbers = [_as_number(part) for part in parts] if len(parts) in (2, 3) else []
    if not numbers or any(n is None for n in numbers):
        return Parameter(key, spec, (spec,))
    low, high, *rest = (float(n) if not isinstance(n, int) else n for n in numbers if n is not None)
    if high < low:
        raise SweepError(f"--grid {text!r}: the range {spec} is empty (quote clock times: '\"08:00\"')")
    if all(isinstance(n, int) for n in numbers):
        step = int(rest[0]) if rest else 1
        if step <= 0:
            raise SweepError(f"--grid {text!r}: the step must be > 0")
        return Parameter(key, spec, tuple(str(v) for v in range(int(low), int(high) + 1, step)))
    if not rest:
        return Parameter(key, spec, (), float(low), float(high))
    step_size = float(rest[0])
    if step_size <= 0:
        raise SweepError(f"--grid {text!r}: the step must be > 0")
    count = math.floor((high - low) / step_size + 1e-9) + 1
    return Parameter(key, spec, tuple(_number_text(round(low + k * step_size, 9)) for k in range(count)))


def table_value(text: str) -> Any:
    """What a setting shows in the tables: numbers as numbers, durations in seconds, anything else as text."""
    number = _as_number(text)
    return text if number is None else number


def grid_design(parameters: Sequence[Parameter]) -> list[dict[str, str]]:
    """The full factorial: every combination of every parameter's values (the last varies fastest)."""
    continuous = [p.key for p in parameters if p.continuous]
    if continuous:
        raise SweepError(
            f"{', '.join(continuous)}: a continuous range needs a step in a grid (2m:5m:30s), "
            "or use --design lhs --samples N"
        )
    count = math.prod(len(p.values) for p in parameters)
    if count > MAX_POINTS:
        raise SweepError(f"the grid has {count:,} points; at most {MAX_POINTS:,}")
    return [
        {p.key: value for p, value in zip(parameters, combination, strict=True)}
        for combination in itertools.product(*(p.values for p in parameters))
    ]


def lhs_design(parameters: Sequence[Parameter], samples: int, seed: int) -> list[dict[str, str]]:
    """A Latin hypercube of `samples` points: each parameter's range cut into `samples` equal strata, each
    stratum used once, strata paired at random (from the seed's `sweep.lhs` stream). Continuous ranges are
    sampled within their stratum; lists and integer ranges take the value whose share holds the sample."""
    if not 1 <= samples <= MAX_POINTS:
        raise SweepError(f"--samples must be between 1 and {MAX_POINTS:,}")
    rng = Streams(seed, 0).generator("sweep.lhs")
    points: list[dict[str, str]] = [{} for _ in range(samples)]
    for parameter in parameters:
        u = (rng.permutation(samples) + rng.random(samples)) / samples
        for point, share in zip(points, u, strict=True):
            if parameter.continuous:
                assert parameter.low is not None and parameter.high is not None
                value = parameter.low + share * (parameter.high - parameter.low)
                point[parameter.key] = f"{value:.6f}"
            else:
                point[parameter.key] = parameter.values[
                    min(int(share * len(parameter.values)), len(parameter.values) - 1)
                ]
    return points


def override_text(value: Any) -> str:
    """A Python value as the text of a `--set` override (read back as YAML to the same value): `2m` stays
    `2m`, `8` is `8`, `0.5` is `0.5`, `True` is `true`, a list or mapping is YAML flow style."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if value is None:
        return "null"
    if hasattr(value, "item") and callable(value.item):  # a numpy scalar
        return override_text(value.item())
    text: str = yaml.safe_dump(value, default_flow_style=True, sort_keys=False)
    return text.strip().removesuffix("...").strip()


def parameters_from(grid: Sequence[str] | Mapping[str, Any]) -> tuple[Parameter, ...]:
    """The parameters of `--grid` texts (`key=SPEC`), or of a mapping from the Python API: a text value is
    a SPEC (`"8:16"`, `"2m,3m"`, `"2m:5m"`), a list (tuple, range, array) is the values themselves, and any
    other value is the only one."""
    if isinstance(grid, str):
        raise SweepError(f"grid {grid!r}: give a list of dotted.path=VALUES texts or a mapping")
    if not isinstance(grid, Mapping):
        return tuple(parse_parameter(text) for text in grid)
    parameters = []
    for key, spec in grid.items():
        if isinstance(spec, str):
            parameters.append(parse_parameter(f"{key}={spec}"))
            continue
        items = list(spec) if isinstance(spec, list | tuple | range) or hasattr(spec, "tolist") else [spec]
        values = tuple(override_text(item) for item in items)
        key = str(key).strip()
        _check_key(key, f"{key}={','.join(values)}", bool(values))
        parameters.append(Parameter(key, ",".join(values), values))
    return tuple(parameters)
