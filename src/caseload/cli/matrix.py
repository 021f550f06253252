"""``caseload matrix ...``: the allocation matrix, crime type to required level."""

from __future__ import annotations

from typing import Annotated

import typer

from caseload.cli.common import (
    ActorOption,
    open_store,
    parse_grade_arg,
    parse_level_arg,
    resolve_actor,
)
from caseload.cli.output import FormatOption, OutputFormat, WideOption, info, render

matrix_app = typer.Typer(
    help="The allocation matrix: which accreditation each crime type requires.",
    no_args_is_help=True,
)


@matrix_app.command("list")
def list_(
    ctx: typer.Context, fmt: FormatOption = OutputFormat.table, wide: WideOption = False
) -> None:
    """List crime types and the accreditation each requires (risk rows: at that grade or above)."""
    from caseload.store.reference import list_matrix

    with open_store(ctx).read() as conn:
        rows = list_matrix(conn)
    render(
        rows, ["crime_type", "risk", "required_level"], fmt, title="Allocation matrix", wide=wide
    )


@matrix_app.command("set")
def set_(
    ctx: typer.Context,
    crime_type: Annotated[
        str, typer.Argument(metavar="TYPE", help="The crime type, as police.uk names it.")
    ],
    level: Annotated[
        str,
        typer.Argument(
            metavar="LEVEL",
            parser=parse_level_arg,
            help="The required level: none, PIP1, PIP2, PIP3 or PIP4.",
        ),
    ],
    risk: Annotated[
        str | None,
        typer.Option(
            "--risk",
            metavar="GRADE",
            parser=parse_grade_arg,
            help="Only for crimes of this type graded this risk (medium or high) or above; "
            "standard is the type's own row.",
        ),
    ] = None,
    actor: ActorOption = None,
) -> None:
    """Set the accreditation a crime type requires (logged). Existing crimes keep theirs.

    With --risk, a crime of the type needs the highest level among its own and the rows
    of its risk grade and below: 'crime risk' applies them when a crime's grade changes.
    """
    from caseload.domain.inputs import MatrixChange, validated
    from caseload.domain.values import clean_text
    from caseload.errors import InputError
    from caseload.store.log import decision_time
    from caseload.store.reference import set_matrix

    try:  # the message as the command always gave it (TYPE has no option parser)
        clean_text(crime_type, "the crime type", max_length=100)
    except ValueError as exc:
        raise InputError(str(exc).capitalize() + ".") from None
    data = validated(MatrixChange, crime_type=crime_type, required_level=level)
    name = data.crime_type
    with open_store(ctx).write() as conn:
        # set_matrix is the matrix import's too: a set of entries, Core statements
        added, _ = set_matrix(
            conn,
            [(name, data.required_level, risk)],
            actor=resolve_actor(actor),
            at=decision_time(conn),
        )
    graded = risk not in (None, "standard")
    what = f"{name} at {risk} risk or above" if graded else name
    new = (" (new row)." if graded else " (new crime type).") if added else "."
    info(f"{what} now requires {level}{new}")


@matrix_app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="A CSV file with crime_type, required_level and optionally risk; '-' reads stdin.",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file without writing anything.")
    ] = False,
    ignore_unknown: Annotated[
        bool, typer.Option("--ignore-unknown", help="Skip columns caseload does not know.")
    ] = False,
    actor: ActorOption = None,
) -> None:
    """Import the matrix from CSV (same as 'caseload import matrix'); each change is logged."""
    from caseload.cli.importing import run_import

    run_import(ctx, "matrix", file, dry_run=dry_run, ignore_unknown=ignore_unknown, actor=actor)


def register(app: typer.Typer) -> None:
    app.add_typer(matrix_app, name="matrix")
