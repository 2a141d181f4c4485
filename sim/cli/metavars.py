"""How `--help` names what an option takes: `TEXT`, `INTEGER`, `PATH`, `PATH=VALUE`, `KPI=HALFWIDTH`, and
nothing for an on/off flag, where typer would write its Python types (`<bool>`, `<list[str]>`,
`<int range>`). The commands and the app are built from the classes here (`sim/cli/app.py`), so every
option of every command gets a readable name, including options added later, unless it names its own
(`typer.Option(metavar=...)`). Only typer is imported (tests/test_startup.py).
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from typer._click import Context
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

PAIRS = {
    "--set": "PATH=VALUE",
    "--set-a": "PATH=VALUE",
    "--set-b": "PATH=VALUE",
    "--grid": "PATH=VALUES",
    "--until-ci": "KPI=HALFWIDTH",
    "--target": "KPI=VALUE",
    "--max": "KPI=VALUE",
    "--columns": "COLUMN=NAME",
    "--outcomes": "CODE=OUTCOME",
    "--plot": "KPI",
}
"""Options whose values have a shape worth naming (repeatable `--set PATH=VALUE`)."""

TYPES: dict[Any, str] = {int: "INTEGER", float: "NUMBER", str: "TEXT", Path: "PATH"}
"""The metavar of an option or argument of each Python type (bool: none, see `metavar`)."""


def _plain(annotation: Any) -> Any:
    """`X` from `X | None` (or `Optional[X]`)."""
    if get_origin(annotation) in (Union, types.UnionType):
        kept = [argument for argument in get_args(annotation) if argument is not type(None)]
        return kept[0] if len(kept) == 1 else annotation
    return annotation


def metavar(param: TyperOption | TyperArgument) -> str | None:
    """The name `--help` shows for what `param` takes: "" for a flag (it takes nothing), its shape for the
    options in `PAIRS` (when a text), else its type's name (`TYPES`); an argument is named by itself
    (`SCENARIO`; typer adds `...` for several). None: typer's own (choices, which it lists)."""
    annotation = _plain(param.type_descriptor.annotation)
    many = get_origin(annotation) is list
    item = _plain(get_args(annotation)[0]) if many and get_args(annotation) else annotation
    if isinstance(param, TyperArgument):
        return (param.name or "value").upper()
    if item is bool or param.is_flag:
        return ""
    shape = next((PAIRS[name] for name in param.opts if name in PAIRS), None)
    if shape is not None and item is str:
        return shape
    return TYPES.get(item)


def type_name(param: TyperArgument) -> str | None:
    """An argument's type as `--help` writes it: `PATH` for one path or several (`TYPES`)."""
    annotation = _plain(param.type_descriptor.annotation)
    if get_origin(annotation) is list and get_args(annotation):
        annotation = _plain(get_args(annotation)[0])
    return TYPES.get(annotation)


class ReadableArgument(TyperArgument):
    """An argument whose `--help` type column is `PATH`, not `<path>` or `<list[Path]>`."""

    def display_type_rich(self, ctx: Context) -> str | None:
        return type_name(self) or super().display_type_rich(ctx)


def _name(params: list[Any]) -> None:
    for param in params:
        if isinstance(param, TyperOption | TyperArgument) and param.metavar is None:
            param.metavar = metavar(param)
        if type(param) is TyperArgument:
            param.__class__ = ReadableArgument  # the same object, its type column in words


def _flag(option: TyperOption | None) -> TyperOption | None:
    """`--help` (a flag made by typer itself) shown without a metavar."""
    if option is not None and option.metavar is None:
        option.metavar = ""
    return option


class ReadableCommand(TyperCommand):
    """A command whose `--help` names what each option takes in words (`metavar`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name(self.params)

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        return _flag(super().get_help_option(ctx))


class ReadableGroup(TyperGroup):
    """The app: `callsim --help` with `--version` and `--help` shown as flags, no `<bool>`; and every
    command registered without `cls=ReadableCommand` made one, so a new command's help reads the same."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name(self.params)
        for command in self.commands.values():
            if type(command) is TyperCommand:
                command.__class__ = ReadableCommand  # the same object, its help in words
                _name(command.params)

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        return _flag(super().get_help_option(ctx))
