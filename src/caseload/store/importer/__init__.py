"""Bulk import: one streaming framework for every kind of CSV file.

A kind is a column spec (``domain.csvschema.Spec``) plus a writer (a subclass of
``framework.KindWriter``, one module per kind: ``officers``, ``crimes``, ``matrix``,
``history``, ``supervision``, ``absences``, ``police_uk``).
The framework (``source``, ``framework``, ``messages``) does the rest, the same way
for all:

1. ``open_source`` (in ``source``) opens the file (``-`` spools stdin to a temporary
   file so it can be read twice), refuses a missing, empty, binary or non-UTF-8 file,
   strips a byte-order mark and finds the delimiter in the header line (comma,
   semicolon or tab) unless one is given. Blank lines and rows of only commas
   (Excel's) are skipped and counted.
2. ``check`` streams the file once in a read transaction: header, every row's
   cells, the within-file key with a hash of the row's cells (kept in a temporary
   table: memory stays flat), and the writer's store checks per batch
   (``check_batch``: e.g. unknown holders). A row repeating an earlier one exactly
   is imported once (its line is noted in ``Source.skip``); the same key with
   other cells is a problem. Every problem is collected; any problem is an
   ``InputError`` (exit 2) counting the problems by kind, listing ``line N,
   column C: problem`` (the first 50), and nothing is written.
3. ``write`` streams the file (or several: ``import police-uk``) again inside ONE
   write transaction and hands the writer batches of ``BATCH`` rows
   (``write_batch``), then ``finish``. Rows are
   matched by key (collar, reference, ...): new rows are inserted, changed rows
   updated, unchanged rows left alone, so re-importing is safe. A dry run does
   the same and rolls back, so it also reports what would change and whether a
   block-mode rule would refuse it.

Holders named in a crime import go through ``store.allocation.allocate_many``,
the one allocation path, so the 25-crime and accreditation rules hold on
import too (a block-mode breach refuses the whole import, exit 3).
"""

from caseload.store.importer.absences import AbsenceWriter
from caseload.store.importer.crimes import CrimeWriter
from caseload.store.importer.framework import (
    WRITERS,
    Counts,
    KindWriter,
    Options,
    Problems,
    Row,
    check,
    import_file,
    plural,
    write,
)
from caseload.store.importer.history import HistoryWriter
from caseload.store.importer.matrix import MatrixWriter
from caseload.store.importer.messages import (
    defaults_message,
    repeat_warnings,
    summary,
    teams_message,
)
from caseload.store.importer.officers import OfficerWriter
from caseload.store.importer.police_uk import PoliceUkWriter
from caseload.store.importer.source import Source, open_source, parse_delimiter
from caseload.store.importer.supervision import (
    EventWriter,
    ReviewWriter,
    VictimReferralWriter,
    VictimUpdateWriter,
)

__all__ = [
    "WRITERS",
    "Counts",
    "CrimeWriter",
    "KindWriter",
    "Options",
    "Problems",
    "Row",
    "Source",
    "check",
    "defaults_message",
    "import_file",
    "open_source",
    "parse_delimiter",
    "plural",
    "repeat_warnings",
    "summary",
    "teams_message",
    "write",
]

WRITERS.update(
    (writer.spec.kind, writer)
    for writer in (
        OfficerWriter,
        CrimeWriter,
        MatrixWriter,
        HistoryWriter,
        ReviewWriter,
        EventWriter,
        VictimUpdateWriter,
        AbsenceWriter,
        VictimReferralWriter,
        PoliceUkWriter,
    )
)
