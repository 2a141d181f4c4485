"""How the report shows a reader what was written for a program: the scenario with clock times as `08:00`
and durations as `4m` (the resolved `scenario.yaml` holds seconds, `start: 28800.0`), and docstrings whose
`code` is set as code rather than shown with its backticks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, BeforeValidator

from sim.model.durations import format_clock, format_duration, parse_clock, parse_duration
from sim.model.loading import resolved_dict
from sim.model.scenario import Scenario
from sim.output.report_format import Cell, esc

Kind = Literal["clock", "duration", ""]


def _kind_of(annotation: Any, metadata: Sequence[Any] = ()) -> Kind:
    """Whether a field (or the items of a list, tuple or mapping field) is a clock time or a duration, from
    the validator that reads it (`parse_clock`, `parse_duration`); "" for anything else."""
    for item in metadata:
        if isinstance(item, BeforeValidator):
            if item.func is parse_clock:
                return "clock"
            if item.func is parse_duration:
                return "duration"
    if get_origin(annotation) is Annotated:
        found = _kind_of(None, annotation.__metadata__)
        return found or _kind_of(get_args(annotation)[0])
    for argument in get_args(annotation):
        if isinstance(argument, type) and issubclass(argument, BaseModel):
            continue
        found = _kind_of(argument)
        if found:
            return found
    return ""


def _shown(value: Any, kind: Kind) -> Any:
    """A number of seconds as the scenario format writes it: `08:00` (with seconds when it has them) for a
    clock time, `4m` for a duration; anything else as it is."""
    if kind == "" or isinstance(value, bool) or not isinstance(value, int | float):
        return value
    seconds = float(value)
    if kind == "clock":
        text = format_clock(seconds, with_seconds=seconds % 60 != 0)
        return text if parse_clock(text) == seconds else value
    for text in (format_duration(seconds), f"{seconds:g}s", f"{seconds!r}s"):
        if parse_duration(text) == seconds:  # `8.3m` is 498.00000000000006 s: then `498s`
            return text
    return value


def _readable(node: Any, model: Any, kind: Kind = "") -> Any:
    """`node` (the resolved scenario's JSON form) with the clock times and durations of `model` (the same
    part of the typed scenario) written for people."""
    if isinstance(model, BaseModel) and isinstance(node, Mapping):
        fields = type(model).model_fields
        out = {}
        for key, value in node.items():
            field = fields.get(key)
            inner = _kind_of(field.annotation, field.metadata) if field is not None else ""
            out[key] = _readable(value, getattr(model, key, None), inner)
        return out
    if isinstance(node, Mapping):
        parts = model if isinstance(model, Mapping) else {}
        return {key: _readable(value, parts.get(key), kind) for key, value in node.items()}
    if isinstance(node, list):
        items = (
            list(model) if isinstance(model, list | tuple) and len(model) == len(node) else [None] * len(node)
        )
        return [_readable(value, item, kind) for value, item in zip(node, items, strict=True)]
    return _shown(node, kind)


def readable_scenario(scenario: Scenario) -> str:
    """The scenario as run (every default filled in) as YAML a person reads: clock times `08:00`, durations
    `45s`, `4m`, `1.5h`; the scenario format reads it back to the same scenario."""
    data = _readable(resolved_dict(scenario), scenario)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


_CODE = re.compile(r"`([^`\n]+)`")


def code_spans(text: str) -> str:
    """`text` escaped for HTML, each `backticked` span set as <code> (its backticks dropped)."""
    parts = _CODE.split(text)
    return "".join(
        f"<code>{esc(part)}</code>" if index % 2 else esc(part) for index, part in enumerate(parts)
    )


def headless_table(rows: Sequence[Sequence[Cell]], css: str = "") -> str:
    """An HTML table of already-escaped cells with no header row (facts read as `name: value` need none;
    an empty header would show as a blank bar)."""
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{cell[1]}">{cell[0]}</td>' if isinstance(cell, tuple) else f"<td>{cell}</td>"
            for cell in row
        )
        + "</tr>"
        for row in rows
    )
    klass = f' class="{css}"' if css else ""
    return f"<table{klass}><tbody>{body}</tbody></table>"
