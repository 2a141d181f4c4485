"""The continuous-time Markov chain of a small blended desk (`tests/test_blended.py`): A agents serving a voice
and a chat department, each agent holding a call, or up to S chats slowed by `slowdown[n-1]` with n in
hand; Poisson arrivals, exponential work and patience (each queue truncated at `size`).

A state is (agents on a call, agents with 0, 1, ..., S chats) and the two queue lengths. The rules are the
engine's (`sim.engine.blend`), written out here independently:
- a voice call goes to an agent with nothing in hand, else waits;
- a chat goes to the agent with the fewest chats in hand (nothing in hand first), never to one with chats
  while a voice call waits and voice is ranked first (it drains), else waits;
- an agent coming free takes by channel priority: voice first, a waiting call, else up to S waiting chats;
  chat first, up to S waiting chats, else a waiting call;
- an agent whose slot frees takes a waiting chat unless (voice first) a call waits;
- when the voice queue empties (a call taken, a caller giving up), agents with chats and a free slot take
  waiting chats one at a time, the fewest in hand first.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sparse
import scipy.sparse.linalg as sparse_linalg

Config = tuple[int, ...]
"""(on a call, with 0 chats, with 1 chat, ..., with S chats): agents in each state."""


@dataclass(frozen=True)
class Desk:
    agents: int
    slots: int
    slowdown: tuple[float, ...]
    voice_rate: float  # arrivals per second
    chat_rate: float
    voice_service: float  # 1 / mean handle time
    chat_service: float  # 1 / mean chat work when alone
    voice_patience: float  # 1 / mean patience
    chat_patience: float
    voice_first: bool
    size: int = 30
    drains: bool = True  # False: agents with chats take more while a call waits (not the engine's rule)

    def blocked(self, voice: int) -> bool:
        """Whether agents with chats in hand take no further chat (voice first, and a call waits)."""
        return self.voice_first and self.drains and voice > 0


def _configs(desk: Desk) -> list[Config]:
    kinds = desk.slots + 2
    return [
        config
        for config in itertools.product(range(desk.agents + 1), repeat=kinds)
        if sum(config) == desk.agents
    ]


def _move(config: Config, source: int, target: int) -> Config:
    """One agent from state index `source` to `target` (0: on a call, 1 + k: k chats)."""
    changed = list(config)
    changed[source] -= 1
    changed[target] += 1
    return tuple(changed)


def _distribute(desk: Desk, config: Config, voice: int, chats: int) -> tuple[Config, int]:
    """Waiting chats to agents with chats and a free slot, least loaded first, while no call blocks them."""
    while chats and not desk.blocked(voice):
        ready = [k for k in range(1, desk.slots) if config[1 + k]]
        if not ready:
            break
        config = _move(config, 1 + ready[0], 2 + ready[0])
        chats -= 1
    return config, chats


def _come_free(desk: Desk, config: Config, voice: int, chats: int) -> tuple[Config, int, int]:
    """An agent just counted among those with nothing in hand takes its next work."""
    take_voice = voice and (desk.voice_first or not chats)
    if take_voice:
        config = _move(config, 1, 0)
        voice -= 1
        if desk.voice_first and not voice:
            config, chats = _distribute(desk, config, voice, chats)
        return config, voice, chats
    if chats:
        taken = min(desk.slots, chats)
        config = _move(config, 1, 1 + taken)
        chats -= taken
    return config, voice, chats


def _transitions(desk: Desk, config: Config, voice: int, chats: int) -> list[tuple[float, Config, int, int]]:
    """(rate, next state) out of a state."""
    out: list[tuple[float, Config, int, int]] = []
    blocked = desk.blocked(voice)
    # a voice arrival
    if config[1]:
        out.append((desk.voice_rate, _move(config, 1, 0), voice, chats))
    elif voice < desk.size:
        out.append((desk.voice_rate, config, voice + 1, chats))
    # a chat arrival
    if config[1]:
        out.append((desk.chat_rate, _move(config, 1, 2), voice, chats))
    else:
        ready = [k for k in range(1, desk.slots) if config[1 + k]] if not blocked else []
        if ready:
            out.append((desk.chat_rate, _move(config, 1 + ready[0], 2 + ready[0]), voice, chats))
        elif chats < desk.size:
            out.append((desk.chat_rate, config, voice, chats + 1))
    # a call ends
    if config[0]:
        freed = _move(config, 0, 1)
        out.append((config[0] * desk.voice_service, *_come_free(desk, freed, voice, chats)))
    # a chat ends at an agent with k in hand
    for k in range(1, desk.slots + 1):
        if not config[1 + k]:
            continue
        rate = config[1 + k] * k * desk.chat_service / desk.slowdown[k - 1]
        after = _move(config, 1 + k, k)
        if k == 1:
            out.append((rate, *_come_free(desk, after, voice, chats)))
        elif chats and not blocked:
            out.append((rate, _move(after, k, 1 + k), voice, chats - 1))
        else:
            out.append((rate, after, voice, chats))
    # giving up
    if voice:
        left = voice - 1
        after, waiting = config, chats
        if desk.voice_first and not left:
            after, waiting = _distribute(desk, config, left, chats)
        out.append((voice * desk.voice_patience, after, left, waiting))
    if chats:
        out.append((chats * desk.chat_patience, config, voice, chats - 1))
    return out


@dataclass(frozen=True)
class Chain:
    desk: Desk
    states: list[tuple[Config, int, int]]
    generator: sparse.csr_matrix

    def stationary(self) -> np.ndarray:
        """pi with pi Q = 0 and sum 1: the balance equations of every state but the first, solved with the
        first state's weight fixed at 1 (a sparse LU), then normalised."""
        balance = self.generator.T.tocsc()
        rest = sparse_linalg.spsolve(balance[1:, 1:].tocsc(), -balance[1:, 0].toarray().ravel())
        p = np.concatenate(([1.0], rest))
        return p / p.sum()

    def figures(self, p: np.ndarray) -> dict[str, float]:
        """Per channel: abandonment (givers-up per second / arrivals per second), mean wait (Little's law on
        each queue) and the probability of waiting (PASTA: an arrival finding nobody to take it); the group's
        occupancy (agents with anything in hand), chat occupancy (with a chat) and slot use (chats over
        slots), as shares of the agents."""
        desk = self.desk
        voice = np.array([state[1] for state in self.states], dtype=float)
        chats = np.array([state[2] for state in self.states], dtype=float)
        empty = np.array([state[0][1] > 0 for state in self.states])
        ready = np.array(
            [any(state[0][1 + k] for k in range(1, desk.slots)) for state in self.states], dtype=bool
        )
        blocked = (voice > 0) & desk.voice_first & desk.drains
        chat_waits = ~empty & (~ready | blocked)
        configs = np.array([state[0] for state in self.states], dtype=float)
        chats_in_hand = configs[:, 2:] @ np.arange(1, desk.slots + 1)
        with_chats = configs[:, 2:].sum(axis=1)
        return {
            "floor.occupancy": float((p * (configs[:, 0] + with_chats)).sum()) / desk.agents,
            "floor.chat_occupancy": float((p * with_chats).sum()) / desk.agents,
            "floor.slot_use": float((p * chats_in_hand).sum()) / (desk.agents * desk.slots),
            "voice.abandon_rate": float((p * voice).sum()) * desk.voice_patience / desk.voice_rate,
            "chat.abandon_rate": float((p * chats).sum()) * desk.chat_patience / desk.chat_rate,
            "voice.mean_wait": float((p * voice).sum()) / desk.voice_rate,
            "chat.mean_wait": float((p * chats).sum()) / desk.chat_rate,
            "voice.p_wait": float(p[~empty].sum()),
            "chat.p_wait": float(p[chat_waits].sum()),
        }

    def edge_mass(self, p: np.ndarray) -> float:
        """The probability of a queue at its truncation (what the truncation could lose)."""
        return float(sum(pi for pi, state in zip(p, self.states, strict=True) if self.desk.size in state[1:]))


def chain(desk: Desk) -> Chain:
    """The generator over every reachable-or-not state (unreachable ones get probability 0)."""
    states = [
        (config, voice, chats)
        for config in _configs(desk)
        for voice in range(desk.size + 1)
        for chats in range(desk.size + 1)
    ]
    index = {state: i for i, state in enumerate(states)}
    rows: list[int] = []
    cols: list[int] = []
    rates: list[float] = []
    for i, (config, voice, chats) in enumerate(states):
        for rate, target_config, target_voice, target_chats in _transitions(desk, config, voice, chats):
            j = index[(target_config, target_voice, target_chats)]
            if j != i:
                rows.append(i)
                cols.append(j)
                rates.append(rate)
    q = sparse.coo_matrix((rates, (rows, cols)), shape=(len(states), len(states))).tocsr()
    q = q - sparse.diags(np.asarray(q.sum(axis=1)).ravel())
    return Chain(desk, states, q.tocsr())
