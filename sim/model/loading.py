"""Turning a YAML file (plus `--set a.b=c` overrides) into a validated `Scenario`, or a clear refusal.

Every fault is reported as `yaml.path: what was expected`, all at once, before anything runs.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.model.dists import DIST_NAMES, check_csv_file
from sim.model.durations import clip, parse_clock, parse_duration, printable, shorten
from sim.model.scenario import (
    CONSISTENCY,
    MAX_POOLS,
    Problem,
    Scenario,
    reason_mix_problems,
    trace_reason_problems,
)
from sim.model.traces import (
    OWN_COLUMNS,
    TraceRows,
    any_given,
    call_duration,
    read_trace_fast,
    read_trace_rows_fast,
)
from sim.model.week import kept_apart

MAX_SCENARIO_BYTES = 5_000_000
MAX_DEPTH = 50
"""The deepest nesting of mappings and lists a scenario may have (a real one needs about 6)."""
MAX_KEY_LENGTH = 100
"""The longest key: names of departments, reasons and groups are names, not paragraphs (and paths stay
readable in messages)."""


class ScenarioError(ValueError):
    """A scenario was refused; `problems` lists every fault found."""

    def __init__(self, problems: Sequence[Problem], source: str = "") -> None:
        self.problems = tuple(problems)
        self.source = source
        head = f"{printable(source)}: " if source else ""  # a file name may hold a newline
        super().__init__(head + "; ".join(str(p) for p in self.problems))


def read_yaml(path: Path) -> Any:
    """The parsed YAML of a scenario file, refusing what is not a small UTF-8 YAML document."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:  # a bounded read: /dev/zero or a pipe reports size 0
            raw = handle.read(MAX_SCENARIO_BYTES + 1)
        text = raw.decode("utf-8") if max(size, len(raw)) <= MAX_SCENARIO_BYTES else None
    except FileNotFoundError:
        raise ScenarioError([Problem("", "file not found")], str(path)) from None
    except IsADirectoryError:
        raise ScenarioError([Problem("", "is a directory, not a scenario file")], str(path)) from None
    except UnicodeDecodeError:
        raise ScenarioError([Problem("", "not a UTF-8 text file")], str(path)) from None
    except OSError as error:
        raise ScenarioError([Problem("", f"cannot read: {error.strerror or error}")], str(path)) from None
    except ValueError:  # a NUL byte in the name
        raise ScenarioError([Problem("", "not a usable file name")], clip(str(path))) from None
    if text is None:
        message = f"file has more than {MAX_SCENARIO_BYTES} bytes; a scenario is at most {MAX_SCENARIO_BYTES}"
        raise ScenarioError([Problem("", message)], str(path))
    return parse_yaml_text(text, str(path))


_ALIASES = "YAML aliases (*name) are not allowed in scenarios"
_TOO_DEEP = f"nested too deeply (at most {MAX_DEPTH} levels)"


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without aliases, which a scenario never needs and a 'YAML bomb' abuses, nested at most
    MAX_DEPTH deep (pure Python: used where libyaml is missing, and for text libyaml cannot take)."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, _ALIASES, self.peek_event().start_mark)
        if self.depth > MAX_DEPTH:
            raise yaml.composer.ComposerError(None, None, _TOO_DEEP, self.peek_event().start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_FastLoader: Any = None
if yaml.__with_libyaml__:

    class _FastLoader(yaml.CSafeLoader):  # type: ignore[no-redef]
        """The same YAML read by libyaml, some ten times faster: a 5 MB scenario takes seconds, not a
        minute. Aliases and depth are checked on its event stream first (`_check_events`)."""


def _check_events(text: str) -> None:
    """Refuse aliases and deep nesting from libyaml's events, before anything is built."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, _ALIASES, mark)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, _TOO_DEEP, mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _mapping_without_duplicates(loader: Any, node: yaml.MappingNode, deep: bool = False) -> Any:
    """A YAML mapping, refusing a key given twice (YAML would silently keep the last one)."""
    seen: set[str] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, str):
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {shorten(key)} appears twice in the same mapping", key_node.start_mark
                )
            seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_INT_TAG, _FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_INT = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
"""YAML 1.1's int and float, as PyYAML reads them, less the base-60 forms (`10:00` = 600, `1:30.5` = 90.5):
a plain `10:00` stays the text the user wrote, so a clock field reads 10 o'clock, not 600 seconds (00:10),
and a duration field refuses it with a hint (`parse_duration`). YAML 1.2 dropped base 60 for this reason."""


def _without_base_60(loader: Any) -> None:
    """Give `loader` its own implicit resolvers: PyYAML's, with int and float replaced by `_INT`/`_FLOAT`."""
    loader.yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    loader.add_implicit_resolver(_INT_TAG, _INT, list("-+0123456789"))
    loader.add_implicit_resolver(_FLOAT_TAG, _FLOAT, list("-+0123456789."))


for _loader in (_NoAliasLoader, _FastLoader):
    if _loader is not None:
        _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)
        _without_base_60(_loader)


def parse_yaml_text(text: str, source: str = "") -> Any:
    """Parsed YAML, or a ScenarioError saying where the syntax broke."""
    try:
        if _encodable(text):
            _check_events(text)
            return yaml.load(text, Loader=_FastLoader)
        return yaml.load(text, Loader=_NoAliasLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ScenarioError([Problem("", f"not valid YAML{where}: {problem}")], source) from None
    except RecursionError:
        raise ScenarioError([Problem("", "not valid YAML: nested too deeply")], source) from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as error:
        # a tag whose text cannot be read as that type (`!!int x`, `!!int` of nothing, `!!bool maybe`, ...)
        problem = f"a tagged value cannot be read ({type(error).__name__}: {shorten(str(error))})"
        raise ScenarioError([Problem("", f"not valid YAML: {problem}")], source) from None


def _encodable(text: str) -> bool:
    """Whether libyaml can take the text: no lone surrogates (command-line bytes that were not UTF-8)."""
    if _FastLoader is None:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def apply_overrides(data: Any, overrides: Iterable[str]) -> Any:
    """`data` with each `dotted.path=value` set (the value parsed as YAML: `12`, `4m`, `[1, 2]`)."""
    if not isinstance(data, dict):
        return data
    result = _deep_copy(data)
    for override in overrides:
        path, sep, raw = override.partition("=")
        keys = [key.strip() for key in path.split(".")]
        if not sep or not all(keys):
            raise ScenarioError([Problem("", f"--set {shorten(override)}: expected dotted.path=value")])
        if len(keys) > MAX_DEPTH:
            message = f"--set {shorten(path)}: nested too deeply (at most {MAX_DEPTH} keys)"
            raise ScenarioError([Problem(clip(path.strip(), 60), message)])
        try:
            value = parse_yaml_text(raw, "--set") if raw.strip() else None
        except ScenarioError as error:
            reason = error.problems[0].message.removeprefix("not valid YAML")
            raise ScenarioError(
                [Problem(path.strip(), f"--set value {shorten(raw)} is not valid YAML{reason}")]
            ) from None
        where = _set_path(result, keys, value)
        if where is not None:
            raise ScenarioError([Problem(where, f"--set {path}: {where} is a value, not a mapping")])
    return result


def _set_path(data: dict[str, Any], keys: Sequence[str], value: Any) -> str | None:
    """Set `value` at the path `keys` in the raw scenario `data`, making mappings on the way, as `--set`
    does; the dotted path that ran into a value where a mapping was needed (None: set)."""
    node = data
    for depth, key in enumerate(keys[:-1]):
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        if not isinstance(child, dict):
            return ".".join(keys[: depth + 1])
        node = child
    node[keys[-1]] = value
    return None


def with_values(data: dict[str, Any], values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A copy of the raw scenario `data` with each dotted path of a day type's `set` given its (parsed)
    value, as `--set` does (`_set_path`); and the paths that ran into a value where a mapping was needed.
    Each day's scenario is this, validated (`week_day_types`)."""
    result = _deep_copy(data)
    bad: list[str] = []
    for dotted, value in values.items():
        where = _set_path(result, [key.strip() for key in dotted.split(".")], _deep_copy(value))
        if where is not None:
            bad.append(where)
    return result, bad


NAMED = {"departments": "department", "agent_groups": "agent group"}
"""Top-level mappings of named things, which `--set` may add to (or, by a typo, seem to)."""


def _names(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """The names in each named mapping of the raw scenario."""
    return {
        collection: [str(name) for name in data[collection]]
        for collection in NAMED
        if isinstance(data.get(collection), dict)
    }


def _typo_hints(
    problems: Sequence[Problem], before: Mapping[str, list[str]], after: Mapping[str, list[str]]
) -> list[Problem]:
    """For a department or group that only `--set` brought in and that is refused: say it is new, which
    is most often a typo of an existing name."""
    hints = []
    for collection, names in after.items():
        known = before.get(collection, [])
        for name in names:
            if name in known or not any(p.path.startswith(f"{collection}.{name}") for p in problems):
                continue
            listed = ", ".join(shorten(k) for k in known[:20]) or "none"
            hints.append(
                Problem(
                    f"{collection}.{clip(name, 60)}",
                    f"no {NAMED[collection]} {shorten(name)} in the scenario ({listed}): --set made a new "
                    "one, which is incomplete (a typo?)",
                )
            )
    return hints


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
    too_deep = _shape_problems(data, text_keys=False)  # before the overrides' copy, which recurses
    if too_deep:
        raise ScenarioError(too_deep)
    before = _names(data)
    data = apply_overrides(data, overrides)
    try:
        return _validated(data, base_dir)
    except ScenarioError as error:
        hints = _typo_hints(error.problems, before, _names(data))
        if not hints:
            raise
        raise ScenarioError([*hints, *error.problems], error.source) from None


def _validated(data: dict[str, Any], base_dir: Path | str) -> Scenario:
    """The scenario for parsed YAML with the overrides applied, or every fault found (ScenarioError)."""
    bad_shape = _shape_problems(data)
    if bad_shape:
        raise ScenarioError(bad_shape)
    too_many = [  # checked before validation, which would first build every one of them
        Problem(key, f"has too many items (at most {MAX_POOLS})")
        for key in ("departments", "agent_groups")
        if isinstance(data.get(key), dict) and len(data[key]) > MAX_POOLS
    ]
    if too_many:
        raise ScenarioError(too_many)
    base = Path(base_dir)
    try:
        scenario = Scenario.model_validate(data, context={"base_dir": base})
    except ValidationError as error:
        found = _problems_from(error, data)
        if any(item["type"] == CONSISTENCY for item in error.errors(include_url=False)):
            raise ScenarioError(found) from None  # the fields were valid; these are the cross-field faults
        # field faults: with them, the reason mix as the raw YAML gives it (no Scenario to check it on)
        raise ScenarioError(_unique([*found, *_raw_reason_problems(data)])) from None
    except RecursionError:
        raise ScenarioError([Problem("", "nested too deeply")]) from None
    scenario = _with_trace(scenario, base)
    problems = list(trace_reason_problems(scenario))  # the trace's reasons are known only now
    if problems:
        raise ScenarioError(problems)
    if scenario.week is not None:  # each day type's overrides, checked as a scenario of its own
        week_day_types(scenario, base)
    return scenario


def week_day_types(scenario: Scenario, base_dir: Path | str = ".") -> dict[str, Scenario]:
    """A week's day types as scenarios: the scenario without its `week` block and with the type's `set`
    applied (`sim.model.week`), or every fault of every type at `week.day_types.<type>.set.<path>`."""
    week = scenario.week
    assert week is not None
    base = resolved_dict(scenario)
    base.pop("week", None)
    types: dict[str, Scenario] = {}
    problems: list[Problem] = []
    for name, day_type in week.day_types.items():
        where = f"week.day_types.{name}.set"
        if not day_type.set:
            types[name] = scenario.model_copy(update={"week": None})
            continue
        data, bad_paths = with_values(base, day_type.set)
        if bad_paths:
            problems.extend(Problem(f"{where}.{path}", "is a value, not a mapping") for path in bad_paths)
            continue
        try:
            types[name] = scenario_from_dict(data, base_dir)
        except ScenarioError as error:
            problems.extend(
                Problem(f"{where}.{p.path}" if p.path else where, p.message) for p in error.problems
            )
            continue
        shared = (list(scenario.departments), list(scenario.reason_mix()), scenario.service_level)
        day = types[name]
        day_shared = (list(day.departments), list(day.reason_mix()), day.service_level)
        problems.extend(Problem(where, message) for message in kept_apart(shared, day_shared))
    if problems:
        raise ScenarioError(problems)
    return types


def _shape_problems(data: Any, text_keys: bool = True) -> list[Problem]:
    """Nesting deeper than MAX_DEPTH and (with `text_keys`) keys that are not text or are longer than
    MAX_KEY_LENGTH, in document order.

    Walked with a stack, not recursion, so no depth of input can overflow Python's stack."""
    problems = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        node, loc = stack.pop()
        if len(loc) > MAX_DEPTH and isinstance(node, dict | list):
            problems.append(Problem(_dotted(loc), f"nested too deeply (at most {MAX_DEPTH} levels)"))
            continue
        children: list[tuple[Any, tuple[Any, ...]]] = []
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and len(key) > MAX_KEY_LENGTH and text_keys:
                    where = f"{_dotted(loc)}.{key[:40]}…".lstrip(".")
                    problems.append(
                        Problem(where, f"a name of {len(key)} characters (at most {MAX_KEY_LENGTH})")
                    )
                elif isinstance(key, str):
                    children.append((value, (*loc, key)))
                elif text_keys:
                    problems.append(
                        Problem(f"{_dotted(loc)}.{shorten(key)}".lstrip("."), "keys must be text")
                    )
        elif isinstance(node, list):
            children = [(value, (*loc, index)) for index, value in enumerate(node)]
        stack.extend(reversed(children))
    return problems


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
        else:  # an empty key is shown as '' (else a fault at it would have no path at all)
            parts.append(("." if parts else "") + (str(step) if step != "" else "''"))
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
        "int_parsing": lambda: f"expected a whole number, got {shorten(given)}",
        "int_from_float": lambda: f"expected a whole number, got {shorten(given)}",
        "int_type": lambda: f"expected a whole number, got {_kind(given)}",
        "float_parsing": lambda: f"expected a number, got {shorten(given)}",
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
            f"unknown distribution {shorten(ctx.get('tag'))}; expected one of {', '.join(DIST_NAMES)}"
        ),
        "union_tag_not_found": lambda: f"a distribution needs dist: one of {', '.join(DIST_NAMES)}",
    }
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal") and _is_nan(given):
        return f"must be a number, got {shorten(given)}"  # NaN fails every comparison; saying '>= 0' would mislead
    if kind == "float_type" and isinstance(given, int) and not isinstance(given, bool):
        return f"is too large a number ({shorten(given)})"  # a YAML integer beyond any float
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
    return f"{type(value).__name__} {shorten(value)}"


def _is_nan(value: Any) -> bool:
    """NaN as YAML gives it (`.nan`) or as text pydantic reads as a number (`'nan'`)."""
    if isinstance(value, str):
        value = value.strip().lower().lstrip("+-")
        return value == "nan"
    return isinstance(value, float) and math.isnan(value)


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    seen: dict[tuple[str, str], Problem] = {}
    for problem in problems:
        seen.setdefault((problem.path, problem.message), problem)
    return list(seen.values())


# --- cross-field checks on raw YAML -------------------------------------------------------------------


def _raw_reason_problems(data: Mapping[str, Any]) -> Iterable[Problem]:
    """The reason-mix checks on the raw YAML, for when other fields are invalid and no `Scenario` exists."""
    arrivals = data.get("arrivals")
    mix = arrivals.get("reasons") if isinstance(arrivals, dict) else None
    if not isinstance(mix, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and -1e300 < v < 1e300 for v in mix.values()
    ):  # finite, and no integer too large to turn into a float
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


def _with_trace(scenario: Scenario, base_dir: Path) -> Scenario:
    """Replace `arrivals.trace: FILE` by the arrival times and reasons it holds (seconds after start)."""
    arrivals = scenario.arrivals
    if arrivals.trace is None:
        return scenario
    rows = read_trace_rows(base_dir / arrivals.trace, scenario.start, scenario.duration)
    new_arrivals = arrivals.model_copy(
        update={
            "trace": None,
            "trace_times": rows.times,
            "trace_reasons": rows.reasons if any(rows.reasons) else None,
            "trace_handle_times": any_given(rows.handle_times),
            "trace_patience": any_given(rows.patience),
        }
    )
    return scenario.model_copy(update={"arrivals": new_arrivals})


def read_trace(path: Path, start: float, duration: float) -> tuple[tuple[float, ...], tuple[str, ...]]:
    """Arrival times (seconds after start) and reasons from a CSV with columns `at` and optional `reason`.

    `at` is a clock time (`09:14:05`) or seconds after the scenario start.
    """
    rows = read_trace_rows(path, start, duration)
    return rows.times, rows.reasons


def read_trace_rows(path: Path, start: float, duration: float) -> TraceRows:
    """`read_trace`, with each call's own `handle_time` and `patience` when the CSV has those columns
    (durations; an empty cell is None: drawn as usual)."""
    where = "arrivals.trace"
    try:
        check_csv_file(path)
        fast = read_trace_fast(path, start, duration)  # a long, clean log in one vectorised pass
        if fast is not None:
            return TraceRows(*fast, None, None)
        fast_rows = read_trace_rows_fast(path, start, duration)  # the same, with calls' own times
        if fast_rows is not None:
            return fast_rows
        with path.open(newline="", encoding="utf-8-sig") as handle:  # -sig: as spreadsheets save it
            reader = csv.DictReader(handle)
            rows = list(reader)
            header = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as error:
        raise ScenarioError([Problem(where, f"{clip(path.name)} is not a readable CSV ({error})")]) from None
    except OSError as error:
        raise ScenarioError(
            [Problem(where, f"cannot read {clip(str(path))}: {error.strerror or error}")]
        ) from None
    except ValueError as error:  # from check_csv_file: missing, not a regular file, too large
        raise ScenarioError([Problem(where, str(error))]) from None
    if "at" not in header:
        raise ScenarioError(
            [
                Problem(
                    where, f"{clip(path.name)} needs a header with an 'at' column (and optionally 'reason')"
                )
            ]
        )
    times, reasons = [], []
    own: dict[str, list[float | None]] = {column: [] for column in OWN_COLUMNS if column in header}
    for number, row in enumerate(rows, start=2):
        text = (row.get("at") or "").strip()
        try:
            at = parse_clock(text) - start if ":" in text else parse_duration(text)
        except ValueError as error:
            raise ScenarioError([Problem(where, f"{clip(path.name)} line {number}: {error}")]) from None
        if not (math.isfinite(at) and 0 <= at < duration):
            raise ScenarioError(
                [Problem(where, f"{clip(path.name)} line {number}: {shorten(text)} is outside the day")]
            )
        times.append(at)
        reasons.append((row.get("reason") or "").strip())
        try:
            for column, values in own.items():
                values.append(call_duration(row.get(column), column))
        except ValueError as error:
            raise ScenarioError([Problem(where, f"{clip(path.name)} line {number}: {error}")]) from None
    if any(b < a for a, b in itertools.pairwise(times)):
        raise ScenarioError([Problem(where, f"{clip(path.name)}: arrival times must be in order")])
    given = [tuple(own[column]) if column in own else None for column in OWN_COLUMNS]
    return TraceRows(tuple(times), tuple(reasons), *given)


def one_day(
    scenario: Scenario,
    day: str | None,
    command: str,
    base_dir: Path | str = ".",
    how: str = "name it with --day",
) -> Scenario:
    """The one day a single-day command (`staff`, `schedule`, `trace`, `sweep`, `backtest`) works on: the
    scenario itself without a `week` block; with one, the day named `day` (a day of the week, any case, or a
    day type) as its day type's scenario (files it names are read from `base_dir`). Refused with a located
    problem when a week is given no day, a day is named without a week, or the name is neither a day nor a
    day type."""
    week = scenario.week
    if week is None:
        if day is not None:
            raise ScenarioError([Problem("week", f"--day {day}: the scenario describes one day, not a week")])
        return scenario
    days = ", ".join(f"{d.name} ({d.type})" for d in week.days)
    if day is None:
        raise ScenarioError(
            [Problem("week", f"describes a week ({days}); `{command}` works on one day: {how}")]
        )
    by_name = {d.name.lower(): d.type for d in week.days}
    chosen = by_name.get(day.lower(), day if day in week.day_types else None)
    if chosen is None:
        raise ScenarioError(
            [Problem("week", f"--day {day}: neither a day of the week ({days}) nor a day type")]
        )
    return week_day_types(scenario, base_dir)[chosen]
