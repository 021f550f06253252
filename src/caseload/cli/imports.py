"""``caseload import officers|crimes|matrix|history|reviews|events|victim-updates|
victim-referrals|absences FILE``.

Thin: each command hands its file to ``cli.importing.run_import`` (check it whole,
write it in one transaction, report). The framework (streaming, all-or-nothing,
re-import by key) is ``store.importer``; the columns are ``domain.csvschema``.
``caseload import police-uk`` is ``cli.police_uk``, joined to this group in ``cli.app``.
"""

from __future__ import annotations

import typer

from caseload.cli.common import ActorOption
from caseload.cli.importing import (
    DelimiterOption,
    DryRunOption,
    FileArg,
    IgnoreUnknownOption,
    OverrideOption,
    ReasonOption,
    run_import,
)

import_app = typer.Typer(
    help=(
        "Bulk load from CSV: officers, crimes, matrix, history, reviews, events, "
        "victim-updates, victim-referrals or absences (one command each; 'caseload import "
        "KIND --help' gives its columns). "
        "All or nothing: a file with any bad row writes nothing and lists every problem."
    ),
    no_args_is_help=True,
)


def _command(kind: str, what: str) -> None:
    def command(
        ctx: typer.Context,
        file: FileArg,
        dry_run: DryRunOption = False,
        ignore_unknown: IgnoreUnknownOption = False,
        actor: ActorOption = None,
        reason: ReasonOption = "import",
        delimiter: DelimiterOption = None,
    ) -> None:
        run_import(
            ctx,
            kind,
            file,
            dry_run=dry_run,
            ignore_unknown=ignore_unknown,
            actor=actor,
            reason=reason,
            delimiter=delimiter,
        )

    command.__doc__ = what
    import_app.command(kind)(command)


_command(
    "officers",
    "Import officers (collar, name, team, accreditation, investigator_since; optional rank, "
    "status, capacity, trainee, supervisor). Existing collars are updated.",
)
_command(
    "matrix",
    "Import the allocation matrix (crime_type, required_level). Existing crimes keep theirs.",
)


_command(
    "reviews",
    "Import supervisory reviews (reference, on, note; optional next_due, actor, and quality: "
    "pass, advice or fail). A review already recorded for that crime and day is left alone.",
)
_command(
    "events",
    "Import key investigative events (reference, kind, on; optional actor). Kinds: "
    "arrested, interviewed, released, bailed, charged, nfa, not-investigated, "
    "bail-conditions-changed, out-of-court-disposal.",
)
_command(
    "victim-updates",
    "Import victim updates (reference, on, note; optional actor). An update already "
    "recorded for that crime and day is left alone.",
)
_command(
    "absences",
    "Import absences (collar, kind, from, reason; optional to, percent). Kinds: leave, sick, "
    "abstracted, training, court, other, and reduced (a capacity reduction: percent of normal "
    "duties). A blank 'to' is open-ended. An absence already booked is left alone; one "
    "overlapping another of the officer's is an error.",
)
_command(
    "victim-referrals",
    "Import Right 4 referrals to victim support services (reference, on; optional "
    "declined (yes: the victim declined), actor). A referral already recorded for that "
    "crime and day is left alone.",
)


def _command_with_override(kind: str, what: str) -> None:
    """A kind whose rows allocate (holders, current holdings): it takes ``--override``."""

    def command(
        ctx: typer.Context,
        file: FileArg,
        dry_run: DryRunOption = False,
        ignore_unknown: IgnoreUnknownOption = False,
        actor: ActorOption = None,
        reason: ReasonOption = "import",
        override: OverrideOption = None,
        delimiter: DelimiterOption = None,
    ) -> None:
        run_import(
            ctx,
            kind,
            file,
            dry_run=dry_run,
            ignore_unknown=ignore_unknown,
            actor=actor,
            reason=reason,
            override=override,
            delimiter=delimiter,
        )

    command.__doc__ = what
    import_app.command(kind)(command)


_command_with_override(
    "crimes",
    "Import crimes (reference, crime_type, reported_on, team; optional required_level, "
    "holder, victim_enhanced, victim_category, finalised_on, outcome, allocated_on, risk). "
    "Existing references are updated; holders of live crimes are allocated under the "
    "allocation rules.",
)
_command_with_override(
    "history",
    "Import allocation history intervals (reference, holder, from, actor; optional to, "
    "reason); a blank 'to' is the current holding. History is added to, never rewritten: a "
    "row for an interval already held must match it, past intervals must not overlap, and a "
    "current holding is an allocation under the allocation rules. The file's actor is "
    "recorded as a detail; the decision log's actor is whoever runs the import.",
)


def register(app: typer.Typer) -> None:
    """Add ``caseload import ...`` to the root app."""
    app.add_typer(import_app, name="import")
