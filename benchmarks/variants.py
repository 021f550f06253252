"""``caseload`` with one of its speed tricks taken out, for A/B runs (``run.py --ab``).

    python benchmarks/variants.py VARIANT [caseload arguments ...]

Runs ``caseload.cli.app.main`` as the installed ``caseload`` script does, after undoing
the trick named by VARIANT (``as-is`` undoes nothing: the control, through the same
launcher). The product carries no switch for this: each variant patches the running
process from outside, so what is measured is the product's code with that one trick gone.
Variants may be joined with ``+`` (``no-gc-pause+no-exit-freeze``).
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from typing import Any

_real_freeze = gc.freeze


def _freeze_unless_from(function: str) -> Callable[[], None]:
    """gc.freeze as it is, except when called by caseload's ``function``."""

    def freeze() -> None:
        caller = sys._getframe(1).f_code
        if caller.co_name == function and "caseload" in caller.co_filename:
            return
        _real_freeze()

    return freeze


def _no_gc_pause() -> None:
    from caseload.cli import common

    common.pause_gc_for_start_up = lambda: None


def _no_exit_freeze() -> None:
    gc.freeze = _freeze_unless_from("main")


def _no_open_freeze() -> None:
    gc.freeze = _freeze_unless_from("_freeze_start_up")


def _no_freeze() -> None:
    gc.freeze = lambda: None


def _no_lean() -> None:
    from caseload.cli import app

    app._lean = lambda *command: app.app


def _no_lean_groups() -> None:
    """The group being run (``crime`` in ``crime show``) built whole, as before."""
    from caseload.cli import app

    app._lean_group = lambda info, rest: info


def _no_line_export() -> None:
    from caseload.store import export

    export.crime_lines = lambda conn, query: None


def _no_raw_rows() -> None:
    """Neither of the raw cursor paths: every export and CSV row through SQLAlchemy's rows."""
    from caseload.store import export

    export.crime_lines = lambda conn, query: None
    export.row_batches = lambda conn, query: None


def _no_copy_in() -> None:
    """Imports on PostgreSQL through executemany INSERTs, as before COPY FROM STDIN."""
    from caseload.store import bulk

    bulk.copies_into = lambda conn, table: False


def _no_quick_executor() -> None:
    os.environ["CASELOAD_DIRECT"] = "0"  # the documented setting


#: Applied after ``caseload.cli.app`` is imported, before ``main`` runs.
VARIANTS: dict[str, Callable[[], None]] = {
    "as-is": lambda: None,
    "no-gc-pause": _no_gc_pause,
    "no-exit-freeze": _no_exit_freeze,
    "no-open-freeze": _no_open_freeze,
    "no-freeze": _no_freeze,
    "no-lean": _no_lean,
    "no-lean-groups": _no_lean_groups,
    "no-line-export": _no_line_export,
    "no-raw-rows": _no_raw_rows,
    "no-quick-executor": _no_quick_executor,
    "no-copy-in": _no_copy_in,
}


def _no_metavar_patch() -> Callable[[], None]:
    """Typer's own ``make_metavar`` again, after ``cli.app`` patched it at import."""
    from typer.core import TyperArgument

    typer_own = TyperArgument.make_metavar

    def undo() -> None:
        TyperArgument.make_metavar = typer_own  # type: ignore[method-assign]

    return undo


#: Run before ``caseload.cli.app`` is imported (the patch it makes at import); what they
#: return is called after the import.
BEFORE_IMPORT: dict[str, Callable[[], Any]] = {"no-metavar-patch": _no_metavar_patch}


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(f"usage: variants.py VARIANT [ARGS...]; VARIANT one of {', '.join(VARIANTS)}")
    names = sys.argv.pop(1).split("+")
    unknown = [n for n in names if n not in VARIANTS and n not in BEFORE_IMPORT]
    if unknown:
        sys.exit(f"unknown variant {unknown[0]}; one of {', '.join([*VARIANTS, *BEFORE_IMPORT])}")
    after = [BEFORE_IMPORT[n]() for n in names if n in BEFORE_IMPORT]
    from caseload.cli.app import main as caseload_main

    for undo in after:
        if callable(undo):
            undo()
    for name in names:
        if name in VARIANTS:
            VARIANTS[name]()
    sys.argv[0] = "caseload"
    caseload_main()


if __name__ == "__main__":
    main()
