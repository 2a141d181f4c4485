"""Which pools a cross-trained staffing search (`groups`) decides, and which departments it judges, in a
centre of several channels: voice and chat departments are judged interval by interval and their pools
(own agents, groups serving them) are decisions; an email department's own agents and a group serving only
email keep their staffing (an email is settled against its due time hours later: `channel_targets`)."""

from __future__ import annotations

from collections.abc import Mapping

from sim.model.email import email_departments
from sim.model.scenario import Scenario

__all__ = ["judged_departments", "kept_pools", "pools_of", "repair_servers"]


def pools_of(scenario: Scenario) -> tuple[list[str], list[str]]:
    """(voice and chat departments with agents of their own, agent groups serving a voice or chat
    department): the pools whose counts are decisions. Email departments' own agents and groups serving
    only email keep their staffing."""
    emails = email_departments(scenario)
    departments = [
        name
        for name, department in scenario.departments.items()
        if department.agents is not None and name not in emails
    ]
    groups = [
        name
        for name, group in scenario.agent_groups.items()
        if any(skill in scenario.departments and skill not in emails for skill in group.skills)
    ]
    return departments, groups


def kept_pools(scenario: Scenario) -> list[str]:
    """The pools that keep their staffing: email departments' own agents and groups serving only email."""
    departments, groups = pools_of(scenario)
    own = [name for name, department in scenario.departments.items() if department.agents is not None]
    return [name for name in [*own, *scenario.agent_groups] if name not in departments and name not in groups]


def judged_departments(scenario: Scenario) -> list[str]:
    """The departments judged interval by interval: every voice and chat department."""
    emails = email_departments(scenario)
    return [name for name in scenario.departments if name not in emails]


def repair_servers(scenario: Scenario, wage: Mapping[str, float]) -> dict[str, str]:
    """Per judged department, the pool that `repair` adds an agent to: its own agents, else the cheapest
    searched group serving it (the first declared on a tie); a department no searched pool serves has none."""
    departments, groups = pools_of(scenario)
    servers = {name: name for name in departments}
    for name in judged_departments(scenario):
        if name not in servers:
            serving = [group for group in groups if name in scenario.agent_groups[group].skills]
            if serving:
                servers[name] = min(serving, key=lambda group: (wage[group], groups.index(group)))
    return servers
