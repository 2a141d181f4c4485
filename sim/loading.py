"""Turning a YAML file (plus `--set a.b=c` overrides) into a validated `Scenario`, or a clear refusal.

Every fault is reported as `yaml.path: what was expected`, all at once, before anything runs.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from sim.dists import DIST_NAMES
from sim.durations import parse_clock, parse_duration
from sim.scenario import Scenario

MAX_SCENARIO_BYTES = 5_000_000
_REASON_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Problem:
    """One fault in a scenario: where (a dotted YAML path) and what was expected."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ScenarioError(ValueError):
    """A scenario was refused; `problems` lists every fault found."""

    def __init__(self, problems: Sequence[Problem], source: str = "") -> None:
        self.problems = tuple(problems)
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + "; ".join(str(p) for p in self.problems))


def read_yaml(path: Path) -> Any:
    """The parsed YAML of a scenario file, refusing what is not a small UTF-8 YAML document."""
    try:
        size = path.stat().st_size
        if size > MAX_SCENARIO_BYTES:
            message = f"file is {size} bytes; a scenario is at most {MAX_SCENARIO_BYTES}"
            raise ScenarioError([Problem("", message)], str(path))
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem("", "file not found")], str(path)) from None
    except IsADirectoryError:
        raise ScenarioError([Problem("", "is a directory, not a scenario file")], str(path)) from None
    except UnicodeDecodeError:
        raise ScenarioError([Problem("", "not a UTF-8 text file")], str(path)) from None
    except OSError as error:
        raise ScenarioError([Problem("", f"cannot read: {error.strerror}")], str(path)) from None
    return parse_yaml_text(text, str(path))


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without anchors and aliases, which a scenario never needs and a 'YAML bomb' abuses."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in scenarios", event.start_mark
            )
        return super().compose_node(parent, index)


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    """A YAML mapping, refusing a key given twice (YAML would silently keep the last one)."""
    seen: set[str] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, str):
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in the same mapping", key_node.start_mark
                )
            seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_NoAliasLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def parse_yaml_text(text: str, source: str = "") -> Any:
    """Parsed YAML, or a ScenarioError saying where the syntax broke."""
    try:
        return yaml.load(text, Loader=_NoAliasLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ScenarioError([Problem("", f"not valid YAML{where}: {problem}")], source) from None
    except RecursionError:
        raise ScenarioError([Problem("", "YAML nested too deeply")], source) from None


def apply_overrides(data: Any, overrides: Iterable[str]) -> Any:
    """`data` with each `dotted.path=value` set (the value parsed as YAML: `12`, `4m`, `[1, 2]`)."""
    if not isinstance(data, dict):
        return data
    result = _deep_copy(data)
    for override in overrides:
        path, sep, raw = override.partition("=")
        keys = [key.strip() for key in path.split(".")]
        if not sep or not all(keys):
            raise ScenarioError([Problem("", f"--set {override!r}: expected dotted.path=value")])
        try:
            value = parse_yaml_text(raw, f"--set {override}") if raw.strip() else None
        except ScenarioError as error:
            reason = error.problems[0].message.removeprefix("not valid YAML")
            raise ScenarioError(
                [Problem(path.strip(), f"--set value {raw!r} is not valid YAML{reason}")]
            ) from None
        node = result
        for depth, key in enumerate(keys[:-1]):
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            if not isinstance(child, dict):
                where = ".".join(keys[: depth + 1])
                raise ScenarioError([Problem(where, f"--set {path}: {where} is a value, not a mapping")])
            node = child
        node[keys[-1]] = value
    return result


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    return value


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """The validated scenario in a YAML file, with `--set` overrides applied first."""
    path = Path(path)
    data = read_yaml(path)
    try:
        return scenario_from_dict(data, base_dir=path.parent, overrides=overrides)
    except ScenarioError as error:
        raise ScenarioError(error.problems, error.source or str(path)) from None


def scenario_from_dict(data: Any, base_dir: Path | str = ".", overrides: Iterable[str] = ()) -> Scenario:
    """The validated scenario for already-parsed YAML (a mapping)."""
    if data is None:
        raise ScenarioError([Problem("", "the file is empty; expected a mapping with name, duration, ...")])
    if not isinstance(data, dict):
        raise ScenarioError([Problem("", f"expected a mapping at the top level, got {_kind(data)}")])
    data = apply_overrides(data, overrides)
    bad_keys = [
        Problem(f"{_dotted(loc[:-1])}.{loc[-1]!r}".lstrip("."), "keys must be text")
        for loc in _non_string_keys(data, ())
    ]
    if bad_keys:
        raise ScenarioError(bad_keys)
    base = Path(base_dir)
    try:
        scenario = Scenario.model_validate(data, context={"base_dir": base})
    except ValidationError as error:
        found = _problems_from(error, data)
        raise ScenarioError(_unique([*found, *_raw_reason_problems(data)])) from None
    except RecursionError:
        raise ScenarioError([Problem("", "nested too deeply")]) from None
    scenario = _with_trace(scenario, base)
    problems = list(consistency_problems(scenario))
    if problems:
        raise ScenarioError(problems)
    return scenario


def _non_string_keys(node: Any, loc: tuple[Any, ...]) -> Iterable[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                yield (*loc, key)
            else:
                yield from _non_string_keys(value, (*loc, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _non_string_keys(value, (*loc, index))


def resolved_dict(scenario: Scenario) -> dict[str, Any]:
    """The scenario with every default filled in, in seconds: loadable again to the same `Scenario`."""
    return scenario.model_dump(mode="json", exclude_none=True)


# --- error messages ---------------------------------------------------------------------------------------


def _problems_from(error: ValidationError, data: Any) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        loc = _yaml_loc(item["loc"], data)
        problems.append(Problem(_dotted(loc), _message(item)))
    return _unique(problems)


def _yaml_loc(loc: Sequence[Any], data: Any) -> list[Any]:
    """Pydantic's location with union-tag and validator steps removed, so it matches the YAML."""
    node, kept = data, []
    for step in loc:
        if node is not None and not isinstance(node, dict | list):
            break  # the YAML holds a scalar here; deeper steps are the validator's, not the user's
        if (isinstance(node, dict) and step in node) or (
            isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)
        ):
            node = node[step]
            kept.append(step)
        elif isinstance(step, str) and (step in DIST_NAMES or step.startswith(("function-", "tagged-union"))):
            continue
        else:
            kept.append(step)
            node = None
    return kept


def _dotted(loc: Sequence[Any]) -> str:
    parts: list[str] = []
    for step in loc:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        else:
            parts.append(("." if parts else "") + str(step))
    return "".join(parts)


def _message(item: Mapping[str, Any]) -> str:
    kind, ctx, given = item["type"], item.get("ctx") or {}, item.get("input")
    simple = {
        "greater_than": lambda: f"must be > {ctx.get('gt'):g}",
        "greater_than_equal": lambda: f"must be >= {ctx.get('ge'):g}",
        "less_than": lambda: f"must be < {ctx.get('lt'):g}",
        "less_than_equal": lambda: f"must be <= {ctx.get('le'):g}",
        "missing": lambda: "is required",
        "finite_number": lambda: "must be a finite number",
        "too_short": lambda: f"needs at least {ctx.get('min_length')} item(s)",
        "too_long": lambda: f"has too many items (at most {ctx.get('max_length')})",
        "string_too_short": lambda: "must not be empty",
        "string_too_long": lambda: f"must be at most {ctx.get('max_length')} characters",
        "string_pattern_mismatch": lambda: (
            "use letters, digits, '-', '_' or '.', starting with a letter or digit"
        ),
        "int_parsing": lambda: f"expected a whole number, got {given!r}",
        "int_from_float": lambda: f"expected a whole number, got {given!r}",
        "int_type": lambda: f"expected a whole number, got {_kind(given)}",
        "float_parsing": lambda: f"expected a number, got {given!r}",
        "float_type": lambda: f"expected a number, got {_kind(given)}",
        "bool_type": lambda: f"expected true or false, got {_kind(given)}",
        "string_type": lambda: f"expected text, got {_kind(given)}",
        "dict_type": lambda: f"expected a mapping, got {_kind(given)}",
        "model_type": lambda: f"expected a mapping, got {_kind(given)}",
        "model_attributes_type": lambda: f"expected a mapping, got {_kind(given)}",
        "tuple_type": lambda: f"expected a list, got {_kind(given)}",
        "list_type": lambda: f"expected a list, got {_kind(given)}",
        "extra_forbidden": lambda: "unknown key",
        "union_tag_invalid": lambda: (
            f"unknown distribution {ctx.get('tag')!r}; expected one of {', '.join(DIST_NAMES)}"
        ),
        "union_tag_not_found": lambda: f"a distribution needs dist: one of {', '.join(DIST_NAMES)}",
    }
    if kind in simple:
        return simple[kind]()
    message = str(item.get("msg", kind))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    return f"{type(value).__name__} {value!r}"


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    seen: dict[tuple[str, str], Problem] = {}
    for problem in problems:
        seen.setdefault((problem.path, problem.message), problem)
    return list(seen.values())


# --- cross-field checks -----------------------------------------------------------------------------------


def consistency_problems(scenario: Scenario) -> Iterable[Problem]:
    """Faults no single field shows: unknown reasons and departments, list lengths, sums."""
    departments = scenario.departments
    groups = scenario.agent_groups
    intervals = scenario.interval_count
    resolvable = {reason for name in departments for reason in scenario.resolves(name)}
    for name in groups:
        if name in departments:
            yield Problem(f"agent_groups.{name}", "an agent group cannot share a department's name")

    arrivals = scenario.arrivals
    if arrivals.reasons is None:
        if len(departments) > 1:
            yield Problem("arrivals.reasons", "required with several departments (reason: probability, ...)")
        else:
            (only,) = departments
            if only not in resolvable:
                yield Problem(
                    f"departments.{only}.resolves",
                    f"callers call about {only!r} (no arrivals.reasons given), which no department resolves",
                )
    else:
        yield from reason_mix_problems(arrivals.reasons, resolvable)
    reasons = set(scenario.reason_mix())
    for reason in arrivals.priority:
        if reason not in reasons:
            yield Problem(
                f"arrivals.priority.{reason}", f"not a reason callers have ({', '.join(sorted(reasons))})"
            )
    if arrivals.per_interval is not None and len(arrivals.per_interval) != intervals:
        yield Problem(
            "arrivals.per_interval",
            f"needs {intervals} values (one per {scenario.interval:g}s interval), got {len(arrivals.per_interval)}",
        )
    for index, reason in enumerate(arrivals.trace_reasons or ()):
        if reason and reason not in reasons:
            yield Problem(
                "arrivals.trace", f"data row {index + 1}: reason {reason!r} is not in arrivals.reasons"
            )
            break
    if scenario.warmup >= scenario.duration:
        yield Problem("warmup", f"must be shorter than duration ({scenario.duration:g}s)")

    served = {name for name, group in groups.items() for name in group.skills}
    for name, department in departments.items():
        if department.agents is None and name not in served:
            yield Problem(f"departments.{name}.agents", "required (or an agent group with this skill)")
        if department.agents is not None:
            yield from _staffing_problems(f"departments.{name}.agents", department.agents, intervals)
        if department.overflow is not None:
            for index, target in enumerate(department.overflow.to):
                if target not in groups and target not in departments:
                    yield Problem(
                        f"departments.{name}.overflow.to[{index}]",
                        f"{target!r} is neither an agent group nor a department",
                    )
                elif target == name:
                    yield Problem(f"departments.{name}.overflow.to[{index}]", "cannot overflow to itself")
    yield from _transfer_problems(scenario, reasons)
    for name, group in groups.items():
        yield from _staffing_problems(f"agent_groups.{name}.agents", group.agents, intervals)
        for skill in (*group.skills, *group.speed):
            if skill not in departments:
                where = "skills" if skill in group.skills else "speed"
                yield Problem(f"agent_groups.{name}.{where}.{skill}", "no such department")


def reason_mix_problems(mix: Mapping[str, float], resolvable: set[str] | None) -> Iterable[Problem]:
    """The reason mix sums to 1 and (when known) every reason has a department that resolves it."""
    if not mix:
        yield Problem("arrivals.reasons", "needs at least one reason")
        return
    total = sum(mix.values())
    if abs(total - 1.0) > _REASON_TOLERANCE:
        yield Problem("arrivals.reasons", f"probabilities must sum to 1, they sum to {total:.6g}")
    if resolvable is not None:
        for reason in mix:
            if reason not in resolvable:
                yield Problem(f"arrivals.reasons.{reason}", "no department resolves this reason")


def _raw_reason_problems(data: Mapping[str, Any]) -> Iterable[Problem]:
    """The reason-mix checks on the raw YAML, for when other fields are invalid and no `Scenario` exists."""
    arrivals = data.get("arrivals")
    mix = arrivals.get("reasons") if isinstance(arrivals, dict) else None
    if not isinstance(mix, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in mix.values()
    ):
        return
    departments = data.get("departments")
    resolvable: set[str] | None = None
    if (
        isinstance(departments, dict)
        and departments
        and all(isinstance(d, dict) for d in departments.values())
    ):
        resolvable = set()
        for name, department in departments.items():
            listed = department.get("resolves")
            named = isinstance(listed, list) and all(isinstance(r, str) for r in listed)
            resolvable |= set(listed) if named else {name}
    yield from reason_mix_problems({str(k): float(v) for k, v in mix.items()}, resolvable)


def _transfer_problems(scenario: Scenario, reasons: set[str]) -> Iterable[Problem]:
    """Transfer targets exist, probabilities sum to at most 1, and every caller can eventually leave."""
    names = list(scenario.departments)
    matrix = np.zeros((len(names), len(names)))
    for row, (name, department) in enumerate(scenario.departments.items()):
        if department.transfer is None:
            continue
        for target, probability in department.transfer.items():
            if target not in scenario.departments:
                yield Problem(f"departments.{name}.transfer.{target}", "no such department")
            else:
                matrix[row, names.index(target)] = probability
        total = sum(department.transfer.values())
        if total > 1 + _REASON_TOLERANCE:
            yield Problem(
                f"departments.{name}.transfer",
                f"probabilities must sum to at most 1, they sum to {total:.6g}",
            )
    if matrix.any() and max(abs(np.linalg.eigvals(matrix))) >= 1 - 1e-9:
        yield Problem("departments", "transfer probabilities form a loop that callers can never leave")
    if scenario.ivr is not None:
        for reason in scenario.ivr.self_service:
            if reason not in reasons:
                yield Problem(
                    f"ivr.self_service.{reason}", f"not a reason callers have ({', '.join(sorted(reasons))})"
                )


def _staffing_problems(path: str, staffing: Any, intervals: int) -> Iterable[Problem]:
    if staffing.per_interval is not None and len(staffing.per_interval) != intervals:
        yield Problem(
            f"{path}.per_interval",
            f"needs {intervals} counts (one per interval), got {len(staffing.per_interval)}",
        )


def _with_trace(scenario: Scenario, base_dir: Path) -> Scenario:
    """Replace `arrivals.trace: FILE` by the arrival times and reasons it holds (seconds after start)."""
    arrivals = scenario.arrivals
    if arrivals.trace is None:
        return scenario
    times, reasons = read_trace(base_dir / arrivals.trace, scenario.start, scenario.duration)
    new_arrivals = arrivals.model_copy(
        update={"trace": None, "trace_times": times, "trace_reasons": reasons if any(reasons) else None}
    )
    return scenario.model_copy(update={"arrivals": new_arrivals})


def read_trace(path: Path, start: float, duration: float) -> tuple[tuple[float, ...], tuple[str, ...]]:
    """Arrival times (seconds after start) and reasons from a CSV with columns `at` and optional `reason`.

    `at` is a clock time (`09:14:05`) or seconds after the scenario start.
    """
    where = "arrivals.trace"
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise ScenarioError([Problem(where, f"file not found: {path}")]) from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise ScenarioError([Problem(where, f"{path.name} is not a readable CSV ({error})")]) from None
    if not rows or "at" not in rows[0]:
        raise ScenarioError(
            [Problem(where, f"{path.name} needs a header with an 'at' column (and optionally 'reason')")]
        )
    times, reasons = [], []
    for number, row in enumerate(rows, start=2):
        text = (row.get("at") or "").strip()
        try:
            at = parse_clock(text) - start if ":" in text else parse_duration(text)
        except ValueError as error:
            raise ScenarioError([Problem(where, f"{path.name} line {number}: {error}")]) from None
        if not (math.isfinite(at) and 0 <= at < duration):
            raise ScenarioError([Problem(where, f"{path.name} line {number}: {text!r} is outside the day")])
        times.append(at)
        reasons.append((row.get("reason") or "").strip())
    if any(b < a for a, b in itertools.pairwise(times)):
        raise ScenarioError([Problem(where, f"{path.name}: arrival times must be in order")])
    return tuple(times), tuple(reasons)
