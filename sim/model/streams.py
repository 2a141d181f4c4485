"""Where randomness comes from: named, independent numpy streams derived from one seed.

Each stream is keyed by `(seed, replication, name)`, so adding a stream never shifts another, and two
scenario variants run with the same seed and replication see the same callers (common random numbers).
"""

from __future__ import annotations

import hashlib

import numpy as np


def _name_key(name: str) -> int:
    """A stable 64-bit integer for a stream name (Python's `hash` is salted per process)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


class Streams:
    """Factory of named `numpy.random.Generator`s for one replication of one seed."""

    def __init__(self, seed: int, replication: int = 0, day: int = 0) -> None:
        if seed < 0 or replication < 0 or day < 0:
            raise ValueError("seed, replication and day must be >= 0")
        self.seed = seed
        self.replication = replication
        self.day = day
        """The day of a week (`sim.model.week`): day 0 has a single day's streams, day d > 0 its own."""

    def generator(self, name: str) -> np.random.Generator:
        """The stream called `name`; asking twice gives two generators with the same sequence."""
        key: tuple[int, ...] = (self.replication, _name_key(name))
        if self.day:  # a later day of a week: streams of its own
            key = (*key, self.day)
        sequence = np.random.SeedSequence(entropy=self.seed, spawn_key=key)
        return np.random.Generator(np.random.PCG64(sequence))
