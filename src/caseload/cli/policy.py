"""``caseload policy show [--team TEAM]`` and ``caseload policy set NAME VALUE [--team TEAM]``.

Policy lives in the store so every supervisor on it works to the same rules;
each change is validated (``domain.policy.parse_setting``) and logged with the
actor, the old value and the new one. ``--team`` overrides a setting for one team
(``domain.team_policy``); ``set NAME --team TEAM --clear`` removes the override.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from caseload.cli.common import ActorOption, open_store, parse_text_arg, resolve_actor
from caseload.cli.output import FormatOption, OutputFormat, WideOption, info, render

policy_app = typer.Typer(
    help="Policy settings: the limits and modes every allocation is checked against.",
    no_args_is_help=True,
)

POLICY_COLUMNS = ("name", "value", "default", "meaning")
TEAM_POLICY_COLUMNS = ("name", "value", "source", "force", "default", "meaning")

TeamOption = Annotated[
    str | None,
    typer.Option(
        "--team",
        "-t",
        metavar="TEAM",
        help="One team's policy: the force's settings with that team's overrides.",
    ),
]


@policy_app.command("show")
def show(
    ctx: typer.Context,
    team: TeamOption = None,
    fmt: FormatOption = OutputFormat.table,
    wide: WideOption = False,
) -> None:
    """Show every policy setting: its value, its default and what it means.

    With --team, the value that applies to that team and where it comes from
    (force default, force setting or team override).
    """
    from caseload.domain.policy import DEFAULTS, DESCRIPTIONS
    from caseload.store.reference import load_policy, resolve_team

    if team is not None:
        from caseload.domain.team_policy import source_of
        from caseload.store.team_policy import load_policies, stored_force_names

        with open_store(ctx).read() as conn:
            team_id, team_name = resolve_team(conn, team)
            policies = load_policies(conn)
            stored = stored_force_names(conn)
        force, applies = policies.force.as_dict(), policies.of(team_id).as_dict()
        defaults = DEFAULTS.as_dict()
        team_rows = [
            {
                "name": name,
                "value": value,
                "source": source_of(name, policies, team_id, stored),
                "force": force[name],
                "default": defaults[name],
                "meaning": DESCRIPTIONS.get(name, ""),
            }
            for name, value in applies.items()
        ]
        render(
            team_rows,
            TEAM_POLICY_COLUMNS,
            fmt,
            title=f"Policy for {team_name}",
            row_style=lambda row: "bold" if row["source"] == "team override" else None,
            wide=wide,
        )
        return
    with open_store(ctx).read() as conn:
        from caseload.store.team_policy import load_policies

        current = load_policy(conn).as_dict()
        overrides = load_policies(conn).overrides
        teams_overriding = sorted(
            name for tid, name in _team_names(conn).items() if overrides.get(tid)
        )
    defaults = DEFAULTS.as_dict()
    rows = [
        {
            "name": name,
            "value": value,
            "default": defaults[name],
            "meaning": DESCRIPTIONS.get(name, ""),
        }
        for name, value in current.items()
    ]
    render(
        rows,
        POLICY_COLUMNS,
        fmt,
        title="Policy",
        row_style=lambda row: "bold" if row["value"] != row["default"] else None,
        wide=wide,
    )
    if teams_overriding:
        info(
            "Teams with their own values: "
            + ", ".join(teams_overriding)
            + " (see 'caseload policy show --team TEAM')."
        )


def _team_names(conn: Any) -> dict[int, str]:
    from caseload.store.reference import teams_query

    return {int(tid): str(name) for tid, name in conn.execute(teams_query())}


@policy_app.command("set")
def set_(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The setting, e.g. inexperienced_limit.")
    ],
    value: Annotated[
        str | None,
        typer.Argument(metavar="[VALUE]", help="Its new value, e.g. 25 or block."),
    ] = None,
    team: Annotated[
        str | None,
        typer.Option(
            "--team",
            "-t",
            metavar="TEAM",
            help="Override the setting for this team only (its officers and crimes).",
        ),
    ] = None,
    clear: Annotated[
        bool,
        typer.Option(
            "--clear",
            help="With --team: remove the team's override (the force's value applies again).",
        ),
    ] = False,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason", "-r", metavar="TEXT", parser=parse_text_arg, help="Why (recorded)."
        ),
    ] = None,
    actor: ActorOption = None,
) -> None:
    """Change one policy setting (validated; logged with the old and new values).

    With --team TEAM the value applies to that team only; --clear (with --team, no
    VALUE) removes the team's override. The weights (weight_pip1..4) are force-wide.
    """
    from caseload.domain.inputs import PolicyChange, validated
    from caseload.errors import InputError
    from caseload.store.log import decision_time
    from caseload.store.reference import current_setting, set_policy

    if clear and team is None:
        raise InputError("--clear removes one team's override: name the team with --team.")
    if clear and value is not None:
        raise InputError("Give either a VALUE or --clear, not both.")
    if not clear and value is None:
        raise InputError("Give the setting's new VALUE (or --team TEAM --clear).")
    if team is not None:
        _set_for_team(ctx, name, value, team=team, reason=reason or "", actor=actor)
        return
    assert value is not None
    data = validated(PolicyChange, name=name, value=value, reason=reason or "")
    key = data.name
    with open_store(ctx).write() as conn:
        if current_setting(conn, key) == data.value:
            info(f"{key} is already {data.value}; nothing changed.")
            return
        old, new = set_policy(conn, data, actor=resolve_actor(actor), at=decision_time(conn))
    info(f"{key}: {old} -> {new} (recorded).")


def _set_for_team(
    ctx: typer.Context,
    name: str,
    value: str | None,
    *,
    team: str,
    reason: str,
    actor: str | None,
) -> None:
    """``policy set NAME VALUE --team TEAM`` and ``policy set NAME --team TEAM --clear``."""
    from caseload.domain.inputs import PolicyChange, validated
    from caseload.domain.policy import NAMES
    from caseload.domain.team_policy import FORCE_WIDE
    from caseload.errors import InputError
    from caseload.store.log import decision_time
    from caseload.store.reference import resolve_team
    from caseload.store.team_policy import clear_team_setting, set_team_setting

    key = name.strip().lower()
    if value is None:
        if key not in NAMES:
            raise InputError(
                f"'{name.strip()}' is not a policy setting (see 'caseload policy show'); "
                "nothing was changed."
            )
    else:
        data = validated(PolicyChange, name=name, value=value, reason=reason)
    if key in FORCE_WIDE:
        raise InputError(
            f"{key} is force-wide (the weighted load is one measure across the force): "
            "set it without --team; nothing was changed."
        )
    with open_store(ctx).write() as conn:
        team_id, team_name = resolve_team(conn, team)
        at, who = decision_time(conn), resolve_actor(actor)
        if value is None:
            cleared = clear_team_setting(
                conn, key, team_id=team_id, team=team_name, actor=who, at=at, reason=reason
            )
            if cleared is None:
                info(f"{team_name} has no override of {key}; nothing changed.")
                return
            info(
                f"{key} for {team_name}: {cleared[0]} -> {cleared[1]} "
                "(the force's value; override removed, recorded)."
            )
            return
        changed = set_team_setting(conn, data, team_id=team_id, team=team_name, actor=who, at=at)
    if changed is None:
        info(f"{key} for {team_name} is already {data.value}; nothing changed.")
        return
    info(f"{key} for {team_name}: {changed[0]} -> {changed[1]} (team override, recorded).")


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.add_typer(policy_app, name="policy")
