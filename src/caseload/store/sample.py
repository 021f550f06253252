"""The synthetic sample force: ``caseload init --sample`` loads ``sample_data/`` through import.

The CSV files are fixed (``sample_data/generate.py`` writes them, seeded) and dated
relative to the anchor day in ``sample_data/anchor.txt``. Loading moves every date
and time forward by (today - anchor), so the force always looks current: crimes
were reported over the last year, the unallocated ones have waited days, and who
counts as inexperienced is the same on whatever day it is loaded. The shifted
copies go through the ordinary import (matrix, officers, crimes, history), so the
sample exercises the same checks and allocation rules as any user's file.
"""

from __future__ import annotations

import csv
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from caseload.errors import InputError, StoreError
from caseload.store.connection import Store

# Load order matters: holders must exist before crimes, crimes before their history.
FILES = (
    ("matrix", "matrix.csv", ()),
    ("officers", "officers.csv", ("investigator_since",)),
    ("crimes", "crimes.csv", ("reported_on", "finalised_on", "allocated_on")),
    ("history", "history.csv", ("from", "to")),
    ("reviews", "reviews.csv", ("on", "next_due")),
    ("events", "events.csv", ("on",)),
    ("victim-updates", "victim-updates.csv", ("on",)),
    ("absences", "absences.csv", ("from", "to")),
    ("victim-referrals", "victim-referrals.csv", ("on",)),
)
REASON = "sample data"
# The history file records one crime's current holding as the old system had it: a PIP2
# crime with a PIP1 constable (so the audit shows accreditation-mismatch). A current
# holding is an allocation under the rules, so it is loaded with a recorded override.
HISTORY_OVERRIDE = "sample data: the old system's holdings, loaded as they were"


def sample_dir() -> Path:
    """The sample files: inside the installed package, else the repository's own folder."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "sample_data", here.parent.parent / "sample_data"):
        if (candidate / "anchor.txt").is_file():
            return candidate
    raise StoreError("caseload's sample data is missing from this installation.")


def anchor(folder: Path | None = None) -> date:
    return date.fromisoformat((folder or sample_dir()).joinpath("anchor.txt").read_text().strip())


def _shift(text: str, days: timedelta) -> str:
    if not text:
        return text
    if len(text) > 10:
        return (datetime.fromisoformat(text) + days).isoformat(sep=" ", timespec="minutes")
    return (date.fromisoformat(text) + days).isoformat()


def shifted_copy(source: Path, target: Path, columns: tuple[str, ...], days: timedelta) -> None:
    """Copy a sample CSV, moving the given date/time columns by ``days``."""
    with (
        source.open(encoding="utf-8", newline="") as inp,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        reader = csv.DictReader(inp)
        writer = csv.DictWriter(out, fieldnames=list(reader.fieldnames or []))
        writer.writeheader()
        for row in reader:
            for column in columns:
                row[column] = _shift(row[column], days)
            writer.writerow(row)


def _referrals_since(store: Store, folder: Path, days: timedelta) -> None:
    """The sample's store "began recording referrals" on the day in referrals-since.txt
    (moved like every other date), so its recent crimes are checked for Right 4."""
    from sqlalchemy import update

    from caseload.store.models import duty_start_table as d
    from caseload.store.victims import REFERRAL_DUTY

    since = date.fromisoformat(folder.joinpath("referrals-since.txt").read_text().strip())
    with store.write() as conn:
        conn.execute(update(d).where(d.c.duty == REFERRAL_DUTY).values(start_on=since + days))


def load_sample(store: Store, *, actor: str, today: date | None = None) -> str | None:
    """Load the sample force into an empty store; returns a one-line summary, or None
    when the store holds the sample already (so the README's first line runs twice)."""
    from sqlalchemy import func, select

    from caseload.store.crimes import counts
    from caseload.store.importer import Options, import_file, open_source
    from caseload.store.models import log_table, officer_table

    with store.read() as conn:
        officers = conn.execute(select(func.count()).select_from(officer_table)).scalar_one()
        loaded = conn.execute(
            select(func.count())
            .select_from(log_table)
            .where(log_table.c.kind == "import", log_table.c.reason == REASON)
        ).scalar_one()
    if officers and loaded:
        return None
    if officers:
        raise InputError(
            f"The store at {store.location} already holds officers; the sample loads only "
            "into a new, empty store (use another --db)."
        )
    folder = sample_dir()
    days = (today or date.today()) - anchor(folder)
    options = Options(actor=actor, reason=REASON)
    history = Options(actor=actor, reason=REASON, override=HISTORY_OVERRIDE)
    warned = 0
    with tempfile.TemporaryDirectory(prefix="caseload-sample-") as tmp:
        for kind, name, columns in FILES:
            copy = Path(tmp) / name
            shifted_copy(folder / name, copy, columns, days)
            with open_source(str(copy)) as source:
                chosen = history if kind == "history" else options
                result = import_file(store, source, kind, options=chosen)
            warned += result.warned
    _referrals_since(store, folder, days)
    with store.read() as conn:
        totals = counts(conn)
    text = (
        f"Loaded the sample force: {totals['teams']} teams, {totals['officers']} officers, "
        f"{totals['crimes']:,} crimes ({totals['live']:,} live, {totals['unallocated']} "
        f"unallocated), {totals['allocations']:,} allocation intervals."
    )
    if warned:
        text += (
            f" {warned} allocations raised warnings, as the sample is shaped to "
            "(see 'caseload audit')."
        )
    return text
