"""The call-log format: its columns, its outcomes, and how an ACD export's own names map onto them.

A call log has one row per call (see the README's "Call logs"). `LogFormat` says how to read one that
uses other names: which of the file's columns holds each log column, which of its outcome codes means which
outcome, how its date-times are written, what to do with bad rows and when the centre is open. It is read
from a small YAML file (`log_format.yaml`) and/or `--columns`/`--outcomes` texts, and validated into a
frozen object, like a scenario: a `LogFormat` that exists is valid.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from sim.model.durations import parse_clock, printable, shorten

INSTANT_COLUMNS = ("arrived_at", "queued_at", "answered_at", "ended_at")
"""Instants of a call: a date-time (`2026-03-02 08:14:05`, `2026-03-02T08:14:05.250`), a clock time
(`08:14:05`, on the row's date) or seconds after the row's midnight (`29645`)."""
DURATION_COLUMNS = ("hold_time", "wrap_time")
"""Durations in seconds (a number, fractions allowed)."""
COUNT_COLUMNS = ("transfers",)
"""Whole numbers >= 0."""
TEXT_COLUMNS = ("call_type", "department", "agent", "caller_id", "call_id")
"""Names, kept as written."""
REQUIRED_COLUMNS = ("arrived_at", "outcome", "answered_at", "ended_at")
"""Columns every log must have (a cell may still be empty where the outcome allows it)."""
LOG_COLUMNS = (
    "date",
    "arrived_at",
    "call_type",
    "queued_at",
    "answered_at",
    "ended_at",
    "outcome",
    "agent",
    "department",
    "wrap_time",
    "hold_time",
    "transfers",
    "caller_id",
    "call_id",
)
"""Every column the format knows, in the order the exporter writes them (`date` is optional and only
needed when the instants are clock times or seconds)."""

LOG_OUTCOMES = (
    "answered",
    "abandoned",
    "blocked",
    "self_service",
    "abandoned_on_hold",
    "dropped",
    "callback_failed",
    "message",
    "in_system",
)
"""How a call ended (the first four are what most ACDs record):

- `answered`: an agent answered it and the conversation ended normally (`answered_at`, `ended_at` given);
- `abandoned`: the caller hung up waiting for an agent, queued or ringing (`ended_at` is the hang-up;
  `answered_at` is empty unless an earlier agent had answered and transferred the call);
- `blocked`: busy signal, no line or a full queue: never queued, never answered;
- `self_service`: resolved in the phone menu (IVR), never queued, never answered;
- `abandoned_on_hold`: answered, then hung up while the agent had them on hold;
- `dropped`: answered, then hung up unresolved after too many transfers;
- `callback_failed`: took a callback that never reached them;
- `message`: left a message at a full queue;
- `in_system`: still in the centre when the log was cut (`ended_at` empty).
"""
NEVER_ANSWERED = ("blocked", "self_service", "message")
"""Outcomes whose `answered_at` must be empty."""
MUST_END = ("answered", "abandoned", "abandoned_on_hold", "dropped")
"""Outcomes whose `ended_at` must be given."""

_OUTCOME_CODE = Annotated[str, Field(min_length=1, max_length=200)]
_FILE_COLUMN = Annotated[str, Field(min_length=1, max_length=200)]


class LogFormatError(ValueError):
    """A log format was refused; `problems` holds one `path: what was expected` text per fault."""

    def __init__(self, problems: Iterable[str], source: str = "") -> None:
        self.problems = tuple(printable(problem) for problem in problems)
        self.source = source
        head = f"{printable(source)}: " if source else ""
        super().__init__(head + "; ".join(self.problems))


class OpeningHours(BaseModel):
    """When the centre takes calls, every day: `open` to `close` (clock times; a close before the open is
    after midnight). Arrivals outside are reported, not dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    open: Annotated[float, BeforeValidator(parse_clock)]
    close: Annotated[float, BeforeValidator(parse_clock)]

    def outside(self, seconds_of_day: Any) -> Any:
        """Whether each arrival (seconds after its day's midnight, an array) falls outside the hours."""
        at = seconds_of_day % 86400.0
        opened, closed = self.open % 86400.0, self.close % 86400.0
        if opened < closed:
            return (at < opened) | (at >= closed)
        return (at < opened) & (at >= closed)  # open past midnight (or round the clock when equal)


class LogFormat(BaseModel):
    """How to read a call log: `columns` maps a log column to the file's column holding it
    (`{arrived_at: CallStart}`; unmapped log columns are looked for under their own names), `outcomes` maps
    the file's outcome codes to log outcomes (`{ABAND: abandoned}`; a code equal to a log outcome, in any
    case, needs no entry), `separator` is the CSV's field separator, `datetime_format`/`date_format` are `strftime` patterns for date-times and the
    `date` column (default: ISO 8601), `on_bad_rows` says whether a bad row refuses the whole log or is
    skipped and counted, and `opening_hours` (optional) has arrivals outside them reported."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    columns: dict[str, _FILE_COLUMN] = Field(default_factory=dict, max_length=len(LOG_COLUMNS))
    outcomes: dict[_OUTCOME_CODE, str] = Field(default_factory=dict, max_length=10_000)
    datetime_format: str | None = Field(default=None, min_length=2, max_length=100)
    date_format: str | None = Field(default=None, min_length=2, max_length=100)
    separator: str = Field(default=",", min_length=1, max_length=1)
    """The CSV's field separator (`;` in many European exports, `\t` for tab-separated files)."""
    on_bad_rows: Literal["refuse", "skip"] = "refuse"
    opening_hours: OpeningHours | None = None

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, columns: dict[str, str]) -> dict[str, str]:
        unknown = [name for name in columns if name not in LOG_COLUMNS]
        if unknown:
            raise ValueError(
                f"{shorten(unknown[0])} is not a log column; expected one of {', '.join(LOG_COLUMNS)}"
            )
        taken: dict[str, str] = {}
        for name, source in columns.items():
            if source.strip() in taken:
                raise ValueError(
                    f"{name} and {taken[source.strip()]} both read the file's column {shorten(source)}"
                )
            taken[source.strip()] = name
        return {name: source.strip() for name, source in columns.items()}

    @field_validator("outcomes", mode="before")
    @classmethod
    def _codes_as_text(cls, outcomes: Any) -> Any:
        """Numeric ACD codes (`1: answered` in YAML) are codes as the file writes them: text."""
        if isinstance(outcomes, Mapping):
            return {
                str(code) if isinstance(code, int | float) else code: value
                for code, value in outcomes.items()
            }
        return outcomes

    @field_validator("outcomes")
    @classmethod
    def _known_outcomes(cls, outcomes: dict[str, str]) -> dict[str, str]:
        for code, outcome in outcomes.items():
            if outcome not in LOG_OUTCOMES:
                raise ValueError(
                    f"code {shorten(code)}: {shorten(outcome)} is not an outcome; "
                    f"expected one of {', '.join(LOG_OUTCOMES)}"
                )
        return {code.strip(): outcome for code, outcome in outcomes.items()}

    @field_validator("datetime_format", "date_format")
    @classmethod
    def _a_pattern(cls, pattern: str | None) -> str | None:
        if pattern is not None and not re.search(r"%[a-zA-Z]", pattern):
            raise ValueError(
                f"expected a strftime pattern such as '%d/%m/%Y %H:%M:%S', got {shorten(pattern)}"
            )
        return pattern

    def file_column(self, column: str) -> str:
        """The name of the file's column that holds log column `column`."""
        return self.columns.get(column, column)

    def outcome_of(self, code: str) -> str | None:
        """The log outcome a file's code stands for, or None if it is neither mapped nor an outcome."""
        if code in self.outcomes:
            return self.outcomes[code]
        lowered = code.strip().lower()
        return lowered if lowered in LOG_OUTCOMES else None


def _pairs(texts: Iterable[str], option: str) -> dict[str, str]:
    """`NAME=VALUE` texts (each may hold several, comma-separated) as a mapping; refused if malformed."""
    pairs: dict[str, str] = {}
    for text in texts:
        for item in text.split(","):
            key, sep, value = item.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise LogFormatError(
                    [f"{option} {shorten(item)}: expected NAME=VALUE, e.g. arrived_at=CallStart"]
                )
            pairs[key.strip()] = value.strip()
    return pairs


def load_log_format(
    path: str | Path | None = None,
    columns: Iterable[str] = (),
    outcomes: Iterable[str] = (),
    on_bad_rows: str | None = None,
) -> LogFormat:
    """A validated `LogFormat` from a YAML file (optional) and command-line texts, which win over the file:
    `columns` like `arrived_at=CallStart,answered_at=AnswerTime`, `outcomes` like `ABAND=abandoned`.
    Raises `LogFormatError` naming each fault's path in the YAML."""
    data: dict[str, Any] = {}
    source = ""
    if path is not None:
        from sim.model.loading import ScenarioError, read_yaml

        source = str(path)
        try:
            read = read_yaml(Path(path))
        except ScenarioError as error:
            raise LogFormatError([str(problem) for problem in error.problems], source) from None
        if read is not None and not isinstance(read, dict):
            raise LogFormatError(
                [f"expected a mapping (columns:, outcomes:, ...), got {type(read).__name__}"], source
            )
        data = dict(read or {})
    extra_columns = _pairs(columns, "--columns")
    extra_outcomes = _pairs(outcomes, "--outcomes")
    if extra_columns:
        data["columns"] = {**_mapping(data.get("columns")), **extra_columns}
    if extra_outcomes:
        data["outcomes"] = {**_mapping(data.get("outcomes")), **extra_outcomes}
    if on_bad_rows is not None:
        data["on_bad_rows"] = on_bad_rows
    return log_format_from(data, source)


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def log_format_from(data: Mapping[str, Any], source: str = "") -> LogFormat:
    """A validated `LogFormat` from a mapping as YAML reads it, or a `LogFormatError` listing each fault."""
    try:
        return LogFormat.model_validate(dict(data))
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False):
            where = ".".join(str(step) for step in item["loc"])
            message = str(item.get("msg", item["type"])).removeprefix("Value error, ")
            if item["type"] == "extra_forbidden":
                message = "unknown key"
            elif item["type"] == "literal_error":
                message = f"expected one of {item.get('ctx', {}).get('expected', '')}, got {shorten(item.get('input'))}"
            problems.append(f"{where}: {message}" if where else message)
        raise LogFormatError(problems, source) from None
