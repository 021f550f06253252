"""``caseload policy show`` and ``caseload policy set NAME VALUE``.

Policy lives in the store so every supervisor on it works to the same rules;
each change is validated (``domain.policy.parse_setting``) and logged with the
actor, the old value and the new one.
"""

from __future__ import annotations

from typing import Annotated

import typer

from caseload.cli.common import ActorOption, open_store, parse_text_arg, resolve_actor
from caseload.cli.output import FormatOption, OutputFormat, WideOption, info, render

policy_app = typer.Typer(
    help="Policy settings: the limits and modes every allocation is checked against.",
    no_args_is_help=True,
)

POLICY_COLUMNS = ("name", "value", "default", "meaning")


@policy_app.command("show")
def show(
    ctx: typer.Context, fmt: FormatOption = OutputFormat.table, wide: WideOption = False
) -> None:
    """Show every policy setting: its value, its default and what it means."""
    from caseload.domain.policy import DEFAULTS, DESCRIPTIONS
    from caseload.store.reference import load_policy

    with open_store(ctx).read() as conn:
        current = load_policy(conn).as_dict()
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


@policy_app.command("set")
def set_(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The setting, e.g. inexperienced_limit.")
    ],
    value: Annotated[str, typer.Argument(metavar="VALUE", help="Its new value, e.g. 25 or block.")],
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason", "-r", metavar="TEXT", parser=parse_text_arg, help="Why (recorded)."
        ),
    ] = None,
    actor: ActorOption = None,
) -> None:
    """Change one policy setting (validated; logged with the old and new values)."""
    from caseload.domain.policy import parse_setting
    from caseload.errors import InputError
    from caseload.store.log import decision_time
    from caseload.store.reference import current_setting, set_policy

    key = name.strip().lower()
    try:
        wanted = parse_setting(key, value)
    except ValueError as exc:
        raise InputError(f"{exc}; nothing was changed.") from None
    with open_store(ctx).write() as conn:
        if current_setting(conn, key) == wanted:
            info(f"{key} is already {wanted}; nothing changed.")
            return
        old, new = set_policy(
            conn,
            key,
            value,
            actor=resolve_actor(actor),
            at=decision_time(conn),
            reason=reason or "",
        )
    info(f"{key}: {old} -> {new} (recorded).")


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.add_typer(policy_app, name="policy")
