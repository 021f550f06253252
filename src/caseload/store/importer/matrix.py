"""Allocation matrix files (``import matrix``, ``matrix import``): the rows through
``store.reference.set_matrix``."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Connection

from caseload.domain.csvschema import MATRIX
from caseload.store.importer.framework import Counts, KindWriter, Row
from caseload.store.reference import set_matrix


class MatrixWriter(KindWriter):
    spec = MATRIX

    def write_batch(self, conn: Connection, rows: Sequence[Row], counts: Counts) -> None:
        added, changed = set_matrix(
            conn,
            [
                (values["crime_type"], values["required_level"], values.get("risk"))
                for _, values in rows
            ],
            actor=self.options.actor,
            at=self.options.at,
        )
        counts.new += added
        counts.updated += changed
        counts.unchanged += len(rows) - added - changed
