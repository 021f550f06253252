"""What a Ctrl-C leaves saved, so the message printed on exit 130 is true.

Every commit of a write transaction (``store.connection.Store.write``,
``store.executor.SqliteStore.write``) goes through ``committed``: SIGINT is held back
while the commit runs and is counted, so an interrupt lands either before it (the
transaction rolls back: nothing of it was saved) or after it was counted. A command
says in ``note`` what to report either way; ``message`` picks the sentence by whether
a commit happened since the note.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_commits = 0
_DEFAULT = {
    "unsaved": "nothing was changed",
    "saved": "the change was saved before the interrupt; only what it printed after was cut short",
}
_note: dict[str, Any] = {"since": 0, **_DEFAULT}


def reset() -> None:
    """Back to the default note: a command starts (the tests run many in one process)."""
    _note.update(since=_commits, **_DEFAULT)


@contextmanager
def sigint_held() -> Iterator[None]:
    """SIGINT is delivered only when the block ends (where the platform allows it)."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:
        yield
        return
    previous = mask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, previous)


def hold_sigint() -> None:
    """From now on SIGINT stays pending, never delivered (the process is about to exit)."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is not None:
        mask(signal.SIG_BLOCK, {signal.SIGINT})
    else:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def committed(commit: Callable[[], Any]) -> None:
    """Run ``commit`` with SIGINT held back, and count it."""
    global _commits
    with sigint_held():
        commit()
        _commits += 1


def commits() -> int:
    return _commits


def note(*, unsaved: str, saved: str) -> None:
    """What an interrupt from now on reports: ``unsaved`` if nothing commits before it,
    else ``saved``. Each is a clause after "Interrupted; "."""
    _note.update(since=_commits, unsaved=unsaved, saved=saved)


def message() -> str:
    clause = _note["saved"] if _commits > _note["since"] else _note["unsaved"]
    return f"Interrupted; {clause}."


def checkpoint(name: str) -> None:
    """For tests: with ``CASELOAD_TEST_SIGINT_AT=name`` this process sends itself SIGINT
    here, as a Ctrl-C at that moment would (``tests/test_interrupts.py``)."""
    if os.environ.get("CASELOAD_TEST_SIGINT_AT") == name:
        os.kill(os.getpid(), signal.SIGINT)
