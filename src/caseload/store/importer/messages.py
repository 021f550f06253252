"""What an import says on stderr: the summary line, the rows passed over as repeats, the
new teams (and look-alikes of existing ones), the crimes that took the default level."""

from __future__ import annotations

from collections.abc import Sequence

from caseload.domain.csvschema import SPECS, Spec
from caseload.store.importer.framework import Counts
from caseload.store.importer.source import Source


def repeat_warnings(sources: Sequence[Source], spec: Spec) -> list[str]:
    """Warnings for the rows passed over as repeats, counted, with the first example."""
    found: list[str] = []
    where = (lambda s: f"{s.label} ") if len(sources) > 1 else (lambda s: "")
    repeats = sum(s.repeats for s in sources)
    if repeats:
        first = next(s for s in sources if s.repeat_example)
        line, earlier = first.repeat_example or (0, 0)
        found.append(
            f"{repeats:,} row{'s' if repeats != 1 else ''} repeat{'s' if repeats == 1 else ''} "
            f"an earlier row exactly and {'was' if repeats == 1 else 'were'} imported once "
            f"(first: {where(first)}line {line} repeats line {earlier})"
        )
    conflicts = sum(s.conflicts for s in sources)
    if conflicts:
        first = next(s for s in sources if s.conflict_example)
        line, earlier = first.conflict_example or (0, 0)
        found.append(
            f"{conflicts:,} row{'s' if conflicts != 1 else ''} "
            f"repeat{'s' if conflicts == 1 else ''} a {spec.key_label} with other cells; "
            f"the first row of each {spec.key_label} "
            f"was kept (first: {where(first)}line {line} repeats line {earlier})"
        )
    return found


def teams_message(counts: Counts) -> tuple[str | None, list[str]]:
    """``2 new teams: Bexley CID, Lewisham CDI.``, and a warning per near miss."""
    if not counts.new_teams:
        return None, []
    n = len(counts.new_teams)
    warnings = [
        f"the new team '{new}' is close to the existing team '{existing}'; if it is a typo, "
        "correct the file and import it again, or see 'caseload team rename'"
        for new, existing in counts.near_teams.items()
    ]
    return f"{n} new team{'' if n == 1 else 's'}: {', '.join(counts.new_teams)}.", warnings


def defaults_message(counts: Counts, *, top: int = 5) -> str | None:
    """``120 crimes took the default level PIP1 (type not in the allocation matrix):
    Burglary 80, Drugs 30, and 2 other types 10.``"""
    if not counts.defaulted:
        return None
    from caseload.domain.levels import DEFAULT_REQUIRED_LEVEL

    total = sum(n for _, n in counts.defaulted)
    parts = [f"{kind} {n:,}" for kind, n in counts.defaulted[:top]]
    others = counts.defaulted[top:]
    if others:
        n_types = len(others)
        parts.append(
            f"and {n_types:,} other type{'' if n_types == 1 else 's'} {sum(n for _, n in others):,}"
        )
    return (
        f"{total:,} new crime{'' if total == 1 else 's'} took the default level "
        f"{DEFAULT_REQUIRED_LEVEL} (type not in the allocation matrix): {', '.join(parts)}. "
        "See 'caseload crime list --defaulted'; set levels with 'caseload matrix set'."
    )


def summary(kind: str, counts: Counts, *, dry_run: bool = False) -> str:
    """``Imported 1,000 crimes: 950 new, 50 updated, 0 unchanged.`` and, when there were
    any, ``; skipped 2 blank rows.`` (and what else was passed over, with why)."""
    spec = SPECS[kind]
    noun = spec.noun if counts.rows == 1 else spec.plural
    verb = "Checked" if dry_run else "Imported"
    text = (
        f"{verb} {counts.rows:,} {noun}: {counts.new:,} new, {counts.updated:,} updated, "
        f"{counts.unchanged:,} unchanged"
    )
    passed = [f"{n:,} {why}" for why, n in counts.skipped.items() if n]
    if counts.blank:
        passed.append(f"{counts.blank:,} blank row{'s' if counts.blank != 1 else ''}")
    text += f"; skipped {', '.join(passed)}." if passed else "."
    if dry_run:
        text += " Nothing was written (dry run)."
    return text
