"""How much randomness: distribution specs in real units (mean and cv, not log-space) and their samplers.

A spec is what the scenario says (`{dist: lognormal, mean: 4m, cv: 0.8}`); a sampler draws from it through
one named stream, in blocks, so drawing one value costs a step of an iterator in C rather than a numpy call.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.model.durations import clip, not_boolean, parse_duration, shorten

if TYPE_CHECKING:  # numpy is imported where samples are drawn: reading and checking a scenario needs none
    import numpy as np

Duration = Annotated[float, BeforeValidator(parse_duration)]
"""Seconds; YAML may say 30, '45s', '4m' or '1.5h'."""
PositiveDuration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]
NonNegativeDuration = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]

_BLOCK = 2048
_CV_RANGE = (1e-6, 100.0)
"""A cv outside this range is a typo, and would overflow the samplers (gamma's shape is 1 / cv^2)."""
MAX_CSV_BYTES = 100_000_000
"""The largest CSV file a scenario may read (a trace of a few million calls)."""


Scale = Annotated[float, BeforeValidator(not_boolean), Field(ge=0, le=1000, allow_inf_nan=False)]
"""A multiplier of a distribution's draws in one interval (`scale_by_interval`)."""


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mean_by_interval: tuple[NonNegativeDuration, ...] | None = Field(default=None, min_length=1)
    """Through the day: the mean in each interval; a draw is scaled by mean_i / the spec's mean."""
    scale_by_interval: tuple[Scale, ...] | None = Field(default=None, min_length=1)
    """Through the day: a multiplier of the draws in each interval."""

    @model_validator(mode="after")
    def _one_curve(self) -> _Spec:
        if self.mean_by_interval is not None and self.scale_by_interval is not None:
            raise ValueError("give at most one of mean_by_interval or scale_by_interval")
        return self

    def interval_factors(self) -> tuple[float, ...] | None:
        """The multiplier of the draws in each interval of the day (None: the same all day). The spec's
        mean must be > 0 for `mean_by_interval` (the scenario's checks refuse it otherwise)."""
        if self.scale_by_interval is not None:
            return self.scale_by_interval
        if self.mean_by_interval is not None:
            mean = self.mean_value()
            return tuple(value / mean if mean > 0 else 0.0 for value in self.mean_by_interval)
        return None

    def mean_value(self) -> float:
        """The distribution's mean in seconds."""
        raise NotImplementedError

    def cv_value(self) -> float:
        """The coefficient of variation (sd / mean); 0 for a fixed value."""
        raise NotImplementedError

    def draw_block(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """`size` independent draws."""
        raise NotImplementedError


class Fixed(_Spec):
    """Always the same value."""

    dist: Literal["fixed"] = "fixed"
    value: NonNegativeDuration

    def mean_value(self) -> float:
        return self.value

    def cv_value(self) -> float:
        return 0.0

    def draw_block(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        return np.full(size, self.value)


class Exponential(_Spec):
    """Memoryless, cv = 1: the textbook service and patience time."""

    dist: Literal["exponential"]
    mean: PositiveDuration

    def mean_value(self) -> float:
        return self.mean

    def cv_value(self) -> float:
        return 1.0

    def draw_block(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.mean * rng.standard_exponential(size)


class _MeanSpread(_Spec):
    """Mean plus exactly one of cv or sd, both in real units."""

    mean: PositiveDuration
    cv: Annotated[float, BeforeValidator(not_boolean)] | None = Field(default=None, gt=0, allow_inf_nan=False)
    sd: Duration | None = None

    @model_validator(mode="after")
    def _one_spread(self) -> _MeanSpread:
        if (self.cv is None) == (self.sd is None):
            raise ValueError("give exactly one of cv (sd / mean) or sd")
        if self.sd is not None and not self.sd > 0:
            raise ValueError("sd must be > 0")
        low, high = _CV_RANGE
        if not low <= self.cv_value() <= high:
            raise ValueError(
                f"cv (sd / mean) must be between {low:g} and {high:g}, got {self.cv_value():.3g}"
            )
        return self

    def cv_value(self) -> float:
        return self.cv if self.cv is not None else float(self.sd or 0.0) / self.mean

    def mean_value(self) -> float:
        return self.mean


class Lognormal(_MeanSpread):
    """Right-skewed with a long tail: the usual shape of real handle times."""

    dist: Literal["lognormal"]

    def draw_block(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p(self.cv_value() ** 2)
        mu = math.log(self.mean) - sigma2 / 2
        import numpy as np

        return np.exp(mu + math.sqrt(sigma2) * rng.standard_normal(size))


class Gamma(_MeanSpread):
    """Gamma with the given mean and cv (cv = 1 is exponential, cv < 1 is Erlang-like)."""

    dist: Literal["gamma"]

    def draw_block(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = 1.0 / self.cv_value() ** 2
        return rng.standard_gamma(shape, size) * (self.mean / shape)


class Uniform(_Spec):
    """Equally likely anywhere in [low, high]."""

    dist: Literal["uniform"]
    low: NonNegativeDuration
    high: NonNegativeDuration

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.high > self.low:
            raise ValueError("high must be > low")
        return self

    def mean_value(self) -> float:
        return (self.low + self.high) / 2

    def cv_value(self) -> float:
        return (self.high - self.low) / math.sqrt(12) / self.mean_value()

    def draw_block(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.low + (self.high - self.low) * rng.random(size)


class Triangular(_Spec):
    """Low, most likely and high: what a supervisor can estimate without data."""

    dist: Literal["triangular"]
    low: NonNegativeDuration
    mode: NonNegativeDuration
    high: NonNegativeDuration

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.high > self.low):
            raise ValueError("need low <= mode <= high and high > low")
        return self

    def mean_value(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def cv_value(self) -> float:
        a, c, b = self.low, self.mode, self.high
        variance = (a * a + b * b + c * c - a * b - a * c - b * c) / 18
        return math.sqrt(variance) / self.mean_value()

    def draw_block(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, size)


class Empirical(_Spec):
    """Resampled from observed values, given inline or as a one-column CSV next to the scenario."""

    dist: Literal["empirical"]
    values: tuple[Duration, ...] | None = None
    file: str | None = None

    @field_validator("values")
    @classmethod
    def _valid_values(cls, values: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if values is None:
            return None
        if not values:
            raise ValueError("needs at least one value (the list, or the file's first column, is empty)")
        if any(v < 0 for v in values):
            raise ValueError("values must be >= 0")
        if not sum(values) > 0:
            raise ValueError("values must not all be 0")
        return values

    @model_validator(mode="after")
    def _resolve_file(self, info: ValidationInfo) -> Empirical:
        if (self.values is None) == (self.file is None):
            raise ValueError("give exactly one of values (a list) or file (a CSV path)")
        if self.file is not None:
            base = (info.context or {}).get("base_dir", Path("."))
            values = read_value_column(Path(base) / self.file)
            object.__setattr__(self, "values", self._valid_values(values))
            object.__setattr__(self, "file", None)
        return self

    def mean_value(self) -> float:
        import numpy as np

        return float(np.mean(self.values or (0.0,)))

    def cv_value(self) -> float:
        import numpy as np

        return float(np.std(self.values or (0.0,))) / self.mean_value()

    def draw_block(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        return rng.choice(np.asarray(self.values, dtype=float), size)


def check_csv_file(path: Path) -> None:
    """Refuse (ValueError) what cannot be a CSV to read whole: a missing, special or oversized file."""
    try:
        if not path.is_file():
            raise ValueError(
                f"file not found: {clip(str(path))}"
                if not path.exists()
                else f"not a regular file: {clip(str(path))}"
            )
        size = path.stat().st_size
    except OSError as error:  # a name too long, a folder we may not look into, ...
        raise ValueError(f"cannot read {clip(str(path))}: {error.strerror or error}") from None
    if size > MAX_CSV_BYTES:
        raise ValueError(f"{clip(path.name)} is {size} bytes; a CSV file is at most {MAX_CSV_BYTES}")


@contextmanager
def csv_faults(path: Path) -> Iterator[None]:
    """Reading a CSV file inside: what the reading raises (not UTF-8, not a CSV, not readable) becomes a
    ValueError naming the file; the messages of the checks made inside pass as they are."""
    try:
        yield
    except UnicodeDecodeError:
        raise ValueError(f"{clip(str(path))} is not a UTF-8 text file") from None
    except csv.Error as error:
        raise ValueError(f"{clip(path.name)} is not a readable CSV ({error})") from None
    except OSError as error:
        raise ValueError(f"cannot read {clip(str(path))}: {error.strerror or error}") from None


def read_value_column(path: Path) -> tuple[float, ...]:
    """The first column of a CSV as durations; a non-numeric first row is taken as a header."""
    check_csv_file(path)
    with csv_faults(path), path.open(newline="", encoding="utf-8-sig") as handle:  # -sig: as spreadsheets save it
        rows = [row for row in csv.reader(handle) if row and row[0].strip()]
    values: list[float] = []
    for number, row in enumerate(rows, start=1):
        try:
            values.append(parse_duration(row[0].strip()))
        except ValueError:
            if number == 1:
                continue
            raise ValueError(f"{clip(path.name)} row {number}: {shorten(row[0])} is not a duration") from None
    return tuple(values)


def _bare_to_fixed(value: Any) -> Any:
    """A bare number or duration string means a fixed value."""
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return {"dist": "fixed", "value": value}
    return value


Dist = Annotated[
    Annotated[
        Fixed | Exponential | Lognormal | Gamma | Uniform | Triangular | Empirical,
        Field(discriminator="dist"),
    ],
    BeforeValidator(_bare_to_fixed),
]
"""A distribution spec; bare durations are fixed values."""

DIST_NAMES = ("fixed", "exponential", "lognormal", "gamma", "uniform", "triangular", "empirical")


class Sampler(partial[float]):
    """Draws one value at a time from a spec through its own stream, refilling in blocks of `_BLOCK`.

    Calling it is `next` on a chain of the blocks, all in C (a quarter of the cost of a Python `__call__`:
    the engine draws two or more values per call); a block is drawn only when the one before is used up.
    """

    __slots__ = ()

    def __new__(cls, spec: _Spec, rng: np.random.Generator) -> Sampler:
        return super().__new__(cls, next, chain.from_iterable(_blocks(spec.draw_block, rng)))


def _blocks(
    draw: Callable[[np.random.Generator, int], np.ndarray], rng: np.random.Generator
) -> Iterator[list[float]]:
    """A spec's draws through `rng`, block after block, each drawn when asked for."""
    while True:
        yield draw(rng, _BLOCK).tolist()
