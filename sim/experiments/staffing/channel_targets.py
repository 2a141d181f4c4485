"""Staffing targets scoped to a channel (`--target chat.service_level=0.8`, `--max chat.abandon_rate=0.1`):
the departments of that channel are judged by them, each as its own targets (`Targets.departments`), the
plain targets (`--target service_level=0.8`) judging every other voice and chat department.

Email departments are not searched: the search judges each interval by the contacts that interval's agents
serve within seconds (`sim.experiments.staffing.searcher`), while an email is settled against a due time
hours later, often after the close and after later intervals' agents worked on it. Neither a first-response
service level nor a within-due share of emails can judge one interval's agents, so email departments keep
their own staffing, and email targets are refused with a message that says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sim.analysis.channels import department_channels
from sim.model.chat import Channel
from sim.model.email import email_departments
from sim.model.scenario import Scenario

CHANNELS: tuple[Channel, ...] = ("voice", "chat", "email")
"""The channels a target may be scoped to (`CHANNEL.KPI=value`)."""
SEARCHED: tuple[Channel, ...] = ("voice", "chat")
"""The channels whose departments the search staffs (email departments keep their staffing)."""

EMAIL_REFUSED = (
    "email departments are not staffed by the search: it judges each interval by the contacts that "
    "interval's agents serve, and an email is settled against its due time hours later (often after the "
    "close), so no interval's figure can judge its agents; email departments keep their own `agents` "
    "(compare email staffings with `callsim sweep` on email_within_due and email_backlog_at_close)"
)
EMAIL_SIZED = (
    "a day-level email goal (email.within_due, email.backlog_at_close) instead sizes the email-only pools "
    "after the interval plan: give it to `callsim staff` or `sim.api.staff_emails`"
)


class ChannelTargetError(ValueError):
    """A channel-scoped target that names no channel of the scenario, or one the search cannot judge."""


def scoped(key: str, text: str, option: str, scenario: Scenario) -> tuple[str | None, str]:
    """`("chat", "service_level")` for the key `chat.service_level` (`text` is the whole option value, for
    messages); `(None, key)` for a plain key. Raises for an unknown channel, a channel the scenario has no
    department of, and any email target."""
    channel, dot, kpi = key.partition(".")
    if not dot:
        return None, key
    if channel not in CHANNELS:
        raise ChannelTargetError(
            f"{option} {text!r}: {channel!r} is not a channel; scope a target with one of "
            f"{', '.join(CHANNELS)} (e.g. chat.service_level=0.8)"
        )
    present = list(dict.fromkeys(department_channels(scenario)))
    if channel not in present:
        raise ChannelTargetError(
            f"{option} {text!r}: this scenario has no {channel} department (its channels: {', '.join(present)})"
        )
    if channel == "email":  # day goals sizing the email-only pools: `email_sizing.split_email_targets`
        raise ChannelTargetError(f"{option} {text!r}: {EMAIL_REFUSED}; {EMAIL_SIZED}")
    return channel, kpi


def searched_departments(scenario: Scenario, names: Iterable[str]) -> list[str]:
    """`names` less the email departments (which keep their staffing: see the module)."""
    emails = email_departments(scenario)
    return [name for name in names if name not in emails]


def by_channel(
    scenario: Scenario,
    floors: Mapping[str, float],
    ceilings: Mapping[str, float],
    channel_floors: Mapping[str, Mapping[str, float]],
    channel_ceilings: Mapping[str, Mapping[str, float]],
) -> dict[str, tuple[dict[str, float], dict[str, float]]]:
    """Each voice and chat department's own floors and ceilings: the plain ones, with its channel's scoped
    ones in their place key by key (`chat.service_level=0.7` replaces `service_level=0.8` for chats)."""
    own: dict[str, tuple[dict[str, float], dict[str, float]]] = {}
    for name, channel in zip(scenario.departments, department_channels(scenario), strict=True):
        if channel in SEARCHED:
            own[name] = (
                {**floors, **channel_floors.get(channel, {})},
                {**ceilings, **channel_ceilings.get(channel, {})},
            )
    return own


def strictest(
    own: Mapping[str, tuple[Mapping[str, float], Mapping[str, float]]],
) -> tuple[dict[str, float], dict[str, float]]:
    """The highest floor and the lowest ceiling of each KPI over the departments' own targets: what judges
    the centre as a whole (as `goal_targets` makes them from per-department goals)."""
    floors: dict[str, float] = {}
    ceilings: dict[str, float] = {}
    for own_floors, own_ceilings in own.values():
        for key, value in own_floors.items():
            floors[key] = max(value, floors.get(key, value))
        for key, value in own_ceilings.items():
            ceilings[key] = min(value, ceilings.get(key, value))
    return floors, ceilings
