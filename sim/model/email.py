"""Email and back-office work: contacts that do not wait on a line (issue 19, deliverable 2).

```yaml
departments:
  email:
    channel: email                  # default voice
    resolves: [email]
    handle_time: {dist: lognormal, mean: 6m, cv: 0.6}
    email:
      due: 24h                      # each email's due time: its arrival + due
      backlog: 40                   # emails waiting at the open, ages spread evenly over the previous `due`
      overdue_calls: {share: 0.3, delay: 1h, department: billing}
agent_groups:
  blended: {agents: 10, skills: {billing: 1, email: 2}}   # email only when no billing call waits
```

An email waits in its department's queue without giving up (nobody hangs up) and is answered at once by
the agent who takes it (no ring: the first response is the handling). An agent serving voice (or chat)
departments and email departments takes an email only when none of its other queues has anyone waiting,
whatever the preferences say (email skills always come last), and finishes it even if a call arrives
meanwhile (non-preemptive). A pool whose skills are all email departments is reserved for email.

Written over the scenario's plain fields (no import of `sim.model.scenario`, which calls `email_problems`
from its own cross-field checks), returning `(path, message)` pairs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from sim.model.dists import NonNegativeDuration, PositiveDuration
from sim.model.durations import not_boolean, shorten

MAX_BACKLOG = 1_000_000
"""The most emails a backlog at the open may hold."""

Share = Annotated[float, BeforeValidator(not_boolean), Field(ge=0, le=1, allow_inf_nan=False)]


class OverdueCalls(BaseModel):
    """Customers of overdue emails who call: with probability `share` (drawn once per email that passes its
    due time unhandled), a call to `department` `delay` after the due time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    share: Share
    delay: NonNegativeDuration = 0.0
    department: str


class EmailSettings(BaseModel):
    """An email department's due time, backlog at the open, and the calls overdue emails bring."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    due: PositiveDuration = 86400.0
    """Each email is due this long after it arrived."""
    backlog: (
        Annotated[int, BeforeValidator(not_boolean), Field(ge=0, le=MAX_BACKLOG)]
        | tuple[NonNegativeDuration, ...]
    ) = 0
    """Emails waiting at the open: a count (their ages spread evenly over the previous `due`: the k-th of
    n is (k - 0.5) / n x due old), or each one's age at the open."""
    overdue_calls: OverdueCalls | None = None

    def backlog_ages(self) -> tuple[float, ...]:
        """The ages at the open of the emails waiting then, in seconds, oldest first."""
        if isinstance(self.backlog, int):
            n = self.backlog
            return tuple(self.due * (n - k + 0.5) / n for k in range(1, n + 1))
        return tuple(sorted(self.backlog, reverse=True))


NO_EMAIL = EmailSettings()


def email_departments(scenario: Any) -> set[str]:
    """The departments whose contacts are emails."""
    return {name for name, department in scenario.departments.items() if department.channel == "email"}


def email_settings(scenario: Any) -> dict[str, EmailSettings]:
    """Per email department, its settings (the defaults where it sets none)."""
    return {
        name: scenario.departments[name].email or NO_EMAIL for name in sorted(email_departments(scenario))
    }


_NOT_FOR_EMAIL = {
    "hold": "email departments have no holds",
    "transfer": "email departments do not transfer",
    "transfer_mode": "email departments do not transfer",
    "listen_time": "email departments do not transfer",
    "routing_accuracy": "email departments do not transfer (no routing decision)",
    "transfer_time": "email departments do not transfer",
    "linked_handle_time": "email departments are never reached by a transfer",
    "overflow": "emails do not overflow (agents of other pools take them through agent_groups skills)",
    "chat": "a chat desk only on a chat department (channel: chat)",
    "queue_capacity": "emails are never turned away (no queue capacity)",
}


def email_problems(scenario: Any) -> Iterable[tuple[str, str]]:
    """Faults of email settings no single field shows: `email` where no email department is, what an email
    department cannot have, overflow into email agents, overdue calls to a department that is not voice,
    and the centre-wide features not modelled with emails yet."""
    emails = email_departments(scenario)
    departments = scenario.departments
    for name, department in departments.items():
        path = f"departments.{name}"
        if department.email is not None and name not in emails:
            yield f"{path}.email", "email settings only on an email department (channel: email)"
        if name not in emails:
            overflow = department.overflow
            for index, target in enumerate(overflow.to if overflow is not None else ()):
                if _serves_email(scenario, target, emails):
                    yield (
                        f"{path}.overflow.to[{index}]",
                        f"calls do not overflow to agents serving email ({shorten(target)})",
                    )
            continue
        for field, message in _NOT_FOR_EMAIL.items():
            if getattr(department, field) is not None:
                yield f"{path}.{field}", message
        for source, other in departments.items():
            if name in (other.transfer or ()):
                yield (
                    f"departments.{source}.transfer.{name}",
                    "a caller cannot be transferred to an email department",
                )
        overdue = department.email.overdue_calls if department.email is not None else None
        if overdue is not None:
            target = departments.get(overdue.department)
            if target is None:
                yield (
                    f"{path}.email.overdue_calls.department",
                    f"no department {shorten(overdue.department)} (known: {', '.join(sorted(departments))})",
                )
            elif target.channel not in (None, "voice"):
                yield (
                    f"{path}.email.overdue_calls.department",
                    f"overdue emails' customers call a voice department ({shorten(overdue.department)} is "
                    f"{target.channel})",
                )
    if not emails:
        return
    if scenario.lines is not None:
        yield "lines", "trunk lines carry voice calls; not modelled yet with email departments"
    if scenario.ivr is not None:
        yield "ivr", "the phone menu is for voice calls; not modelled yet with email departments"
    if scenario.callback is not None:
        yield "callback", "callbacks are offered in every queue; not modelled yet with email departments"
    routing = getattr(scenario, "routing", None)
    if routing is not None and getattr(routing, "call_choice", None) not in (None, "preference"):
        yield (
            "routing.call_choice",
            "with email departments only the default call choice (email after every live queue) is modelled",
        )


def _serves_email(scenario: Any, pool: str, emails: set[str]) -> bool:
    """Whether a pool (a department's own agents, or a group) serves an email department."""
    if pool in scenario.departments:
        return pool in emails
    group = scenario.agent_groups.get(pool)
    return group is not None and bool(set(group.skills) & emails)
