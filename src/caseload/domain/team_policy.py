"""Per-team policy: the force's settings, with some overridden for one team.

``policy set NAME VALUE --team TEAM`` stores one team's value of a setting; the
team's officers and crimes are then judged by it everywhere (allocation rules,
suggestions, plans, the audit). ``Policies`` holds the force's policy and each
overriding team's whole policy (the force's values with the team's overrides laid
over them), so a rule asks for the policy of the team it judges:

* an officer's rules (``inexperienced_limit``, ``inexperienced_months``,
  ``limit_mode``, ``accreditation_mode``): the officer's team;
* a crime's duties (``unallocated_days``, ``review_days``, ``victim_update_days``,
  the notification deadlines, ``reassign_churn``): the crime's team;
* a team's plan (``rebalance_threshold``): that team.

The weights of the weighted load are force-wide (one measure of load, so officers
of different teams compare): they cannot be overridden for a team.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from caseload.domain.policy import WEIGHT_SETTINGS, Policy, parse_setting

FORCE_WIDE: tuple[str, ...] = (*WEIGHT_SETTINGS, "weight_high_risk")

# Where the value that applies comes from (``policy show --team``).
FORCE_DEFAULT = "force default"
FORCE_SETTING = "force setting"
TEAM_OVERRIDE = "team override"


@dataclass(frozen=True)
class Policies:
    """The force's policy and the teams' overrides of it."""

    force: Policy
    overrides: Mapping[int, Mapping[str, int | str]] = field(default_factory=dict)
    teams: Mapping[int, Policy] = field(init=False)

    def __post_init__(self) -> None:
        teams = {
            team_id: replace(self.force, **values)  # type: ignore[arg-type]
            for team_id, values in self.overrides.items()
            if values
        }
        object.__setattr__(self, "teams", teams)

    def of(self, team_id: int | None) -> Policy:
        """The policy a team works to (the force's for a team with no override)."""
        if team_id is None:
            return self.force
        return self.teams.get(team_id, self.force)

    def widest(self, name: str) -> int:
        """The largest value of a number setting across the force and every team (how far
        ahead a query must look for all of them, e.g. ``absence_notice_days``)."""
        return max(int(getattr(p, name)) for p in (self.force, *self.teams.values()))

    def differing(self, name: str) -> dict[int, int | str]:
        """Team id -> the team's value of ``name``, for each team whose value differs from
        the force's (what a query needs beside the force's value)."""
        force = getattr(self.force, name)
        return {
            team_id: getattr(policy, name)
            for team_id, policy in sorted(self.teams.items())
            if getattr(policy, name) != force
        }

    def values_of(self, name: str) -> list[int | str]:
        """Every value of ``name`` in force: the force's, then the teams' (distinct)."""
        found = [getattr(self.force, name)]
        for value in self.differing(name).values():
            if value not in found:
                found.append(value)
        return found

    def key(self) -> str:
        """A stable text of everything here (a plan's fingerprint covers it)."""
        teams = sorted((t, sorted(v.items())) for t, v in self.overrides.items() if v)
        return repr((sorted(self.force.as_dict().items()), teams))


def as_policies(policy: Policy | Policies) -> Policies:
    """A plain Policy is the force's, with no team overrides."""
    return policy if isinstance(policy, Policies) else Policies(policy)


def parse_team_setting(name: str, text: str) -> int | str:
    """Validate a value typed for one team's setting (``parse_setting``, and not one of
    the force-wide settings)."""
    value = parse_setting(name, text)
    key = name.strip().lower()
    if key in FORCE_WIDE:
        raise ValueError(
            f"{key} is force-wide (the weighted load is one measure across the force); "
            "set it without --team"
        )
    return value


def policies_from_rows(force: Policy, rows: Iterable[Sequence[Any]]) -> Policies:
    """The policies from the force's policy and the store's (team id, name, value text)
    override rows. A row caseload cannot use is a store problem (exit 4)."""
    from caseload.errors import StoreError

    overrides: dict[int, dict[str, int | str]] = {}
    for team_id, name, text in rows:
        try:
            value = parse_team_setting(str(name), str(text))
        except ValueError as exc:
            raise StoreError(
                f"The store's policy setting {name} for team id {team_id} holds '{text}', "
                f"which caseload cannot use ({exc}); set it again with 'caseload policy set "
                f"{name} VALUE --team TEAM' or remove it with --clear."
            ) from None
        overrides.setdefault(int(team_id), {})[str(name)] = value
    return Policies(force, overrides)


def source_of(name: str, policies: Policies, team_id: int, stored: Collection[str]) -> str:
    """Where the value of ``name`` that applies to the team comes from: the team's
    override, a force setting stored in the store, or the force's default."""
    if name in policies.overrides.get(team_id, {}):
        return TEAM_OVERRIDE
    return FORCE_SETTING if name in stored else FORCE_DEFAULT
