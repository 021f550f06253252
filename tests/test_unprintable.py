"""Stored text is shown as text: markup brackets literally on a terminal, control
characters and terminal escapes refused on the way in (exit 2, one sentence naming
what was refused) and escaped on the way out, so no value can drive the terminal or
forge a line of ``history -f plain``."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from caseload.domain.values import UNPRINTABLE, clean_text, escape_unprintable
from tests.helpers.cli import Runner, caseload_exe
from tests.helpers.force import Force, add_teams, at, days_ago, refs
from tests.helpers.store import drop_guards

NAME = "Bob [/bold] Smith"
TEAM = "Team [red]X"


@pytest.fixture
def force(store: Runner, db_url: str) -> Iterator[Force]:
    built = Force(db_url)
    yield built
    built.close()


@pytest.fixture
def bracketed(store: Runner, force: Force) -> Runner:
    """A team whose names and reasons hold markup; one officer on leave so that
    ``rebalance`` has moves to show."""
    add_teams(store, TEAM)
    for collar, name in (("RR1", NAME), ("RR2", "Al [bold]"), ("RR3", "[link=x]Cy[/link]")):
        result = store(
            "officer", "add", collar, "--name", name, "--team", TEAM, "-a", "PIP2",
            "--since", "2015-01-01",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    force.crimes(refs("CR", 4), reported=days_ago(40), team=TEAM, crime_type="Burglary [/]")
    force.assign(refs("CR", 4), "RR1", at(days_ago(39)))
    assert store("officer", "status", "RR1", "leave", "--reason", "[/] leave").exit_code == 0
    return store


def _as_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich renders as on a terminal (wide, so names are not wrapped)."""
    import caseload.cli.output as output

    monkeypatch.setattr(output, "use_rich", lambda stream=None: True)
    monkeypatch.setenv("COLUMNS", "400")


@pytest.mark.parametrize(
    "command",
    [
        ["workload"],
        ["workload", "--chart"],
        ["officer", "list"],
        ["officer", "show", "RR2"],
        ["audit"],
        ["team", "list"],
        ["rebalance", "--team", TEAM],
        ["crime", "show", "CR001"],
        ["suggest", "CR001"],
        ["history"],
        ["crime", "list"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_markup_in_stored_text_is_shown_literally_on_a_terminal(
    bracketed: Runner, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    _as_on_a_terminal(monkeypatch)
    result = bracketed(*command)
    assert result.exit_code in (0, 1), result.output  # audit: 1 = findings
    assert "Traceback" not in result.output
    shown = result.stdout
    expected = {
        "officer": "Al [bold]",
        "crime": "Burglary [/]",
        "suggest": "Al [bold]",
        "history": "[/] leave",
    }
    assert expected.get(command[0], NAME if command[0] != "team" else TEAM) in shown or (
        command[0] == "crime" and "Burglary [/]" in shown
    )
    if command[0] in ("team", "audit", "rebalance"):
        assert TEAM in shown


def test_workload_under_a_real_terminal(bracketed: Runner, db_url: str) -> None:
    """The same through a pseudo-terminal, as a user runs it."""
    main, child = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(CASELOAD_DB=db_url, TERM="xterm", COLUMNS="300")
    process = subprocess.Popen(
        [*caseload_exe(), "workload"], stdout=child, stderr=child, env=env, close_fds=True
    )
    os.close(child)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert process.wait(timeout=60) == 0
    text = b"".join(chunks).decode("utf-8", "replace")
    assert "MarkupError" not in text and "Traceback" not in text
    assert NAME in text
    assert "\x1b[" in text  # Rich drew it in colour: it was a terminal


# --- refused on the way in ----------------------------------------------------------------

HOSTILE = {
    "ESC title": "DS X\x1b]0;pwned\x07",
    "clear screen": "\x1b[2J",
    "forged line": "fine\nkind: allocate",
    "8-bit CSI": "x\x9b2J",
    "bidi override": "abc\u202edcba",
    "tab": "a\tb",
    "line separator": "a\u2028b",
}


def _snapshot(sql) -> tuple:  # type: ignore[no-untyped-def]
    return (
        sql("SELECT id, hash FROM log_entry ORDER BY id"),
        sql("SELECT collar, name, status, team_id FROM officer ORDER BY collar"),
        sql("SELECT reference, finalised_on, holder_id FROM crime ORDER BY reference"),
        sql("SELECT name FROM team ORDER BY name"),
    )


def _commands(text: str) -> list[tuple[list[str], dict[str, str] | None]]:
    add = ["officer", "add", "ZZ9", "-a", "PIP1", "--since", "2015-01-01"]
    return [
        (["officer", "add", "ZZ9", "--name", "Zed", "--team", "T", "-a", "PIP1",
          "--since", "2015-01-01", "--actor", text], None),
        (["officer", "add", "ZZ9", "--name", "Zed", "--team", "T", "-a", "PIP1",
          "--since", "2015-01-01"], {"CASELOAD_ACTOR": text}),
        ([*add, "--name", text, "--team", "T"], None),
        ([*add, "--name", "Zed", "--team", text], None),
        (["officer", "status", "AB1", "leave", "--reason", text], None),
        (["officer", "update", "AB1", "--name", text], None),
        (["crime", "finalise", "CR001", "--outcome", "18", "--reason", text], None),
        (["crime", "add", "NEW1", "--type", text, "--team", "T", "--reported", "2026-01-01"],
         None),
        (["assign", "CR002", "AB1", "--reason", text], None),
        (["review", "CR002", "--note", text], None),
        (["victim-update", "CR002", "--note", text], None),
        (["matrix", "set", text, "PIP2"], None),
        (["policy", "set", "review_days", "20", "--reason", text], None),
    ]  # fmt: skip


@pytest.mark.parametrize("label", list(HOSTILE))
def test_control_characters_in_free_text_are_refused(
    store: Runner, force: Force, sql, label: str
) -> None:
    force.officer("AB1")
    force.crimes(refs("CR", 2), reported=days_ago(5))
    before = _snapshot(sql)
    for command, env in _commands(HOSTILE[label]):
        result = store(*command, env=env)
        assert result.exit_code == 2, (command, result.output)
        assert "control character" in result.stderr, (command, result.stderr)
        assert "Traceback" not in result.output
        assert "\x1b" not in result.stderr and "\x9b" not in result.stderr
    assert _snapshot(sql) == before


def test_reopen_reason_is_checked_too(store: Runner, force: Force, sql) -> None:  # type: ignore[no-untyped-def]
    force.crime("CR1", reported=days_ago(5))
    force.finalise("CR1", days_ago(1))
    before = _snapshot(sql)
    result = store("crime", "reopen", "CR1", "--reason", "back\x1b[2J")
    assert result.exit_code == 2
    assert "the reason contains a control character (U+001B, ESC at character 5)" in (result.stderr)
    assert _snapshot(sql) == before


@pytest.mark.parametrize("label", ["ESC title", "bidi override", "8-bit CSI"])
def test_import_files_are_held_to_the_same_rule(
    store: Runner, sql, tmp_path: Path, label: str
) -> None:
    before = _snapshot(sql)
    officers = tmp_path / "officers.csv"
    officers.write_text(
        "collar,name,team,accreditation,investigator_since\n"
        "AA1,Fine Name,Lewisham CID,PIP2,2015-01-01\n"
        f"AA2,{HOSTILE[label]},Lewisham CID,PIP2,2015-01-01\n",
        encoding="utf-8",
    )
    result = store("import", "officers", str(officers))
    assert result.exit_code == 2, result.output
    assert "line 3" in result.stderr and "control character" in result.stderr
    assert _snapshot(sql) == before


# --- escaped on the way out ---------------------------------------------------------------


def test_text_stored_before_the_rule_is_escaped_in_every_view(
    store: Runner, force: Force, sql, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text written by an older version (or straight into the database) still cannot
    drive the terminal or forge a line."""
    force.officer("AB1", name="Eve")
    force.crime("CR1", reported=days_ago(3))
    force.assign("CR1", "AB1", at(days_ago(2)))
    sql("UPDATE officer SET name = :n WHERE collar = 'AB1'", n="Eve\x1b]0;pwned\x07")
    drop_guards(sql, db_url)  # as the tables' owner can: the log is append-only to caseload
    sql(
        "UPDATE log_entry SET reason = :r WHERE id = (SELECT max(id) FROM log_entry)",
        r="moved\nkind: allocate\u202e",
    )
    for command in (["workload"], ["officer", "list"], ["officer", "show", "AB1"]):
        result = store(*command, "-f", "plain")
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
        assert "Eve\\x1b]0;pwned\\x07" in result.stdout
    history = store("history", "-f", "plain")
    assert history.exit_code == 0
    assert "moved\\nkind: allocate\\u202e" in history.stdout
    entries = len(sql("SELECT id FROM log_entry"))
    lines = history.stdout.splitlines()
    # one line per entry (each starts with its time), and no line forged between them
    assert sum(1 for line in lines if re.match(r"\d{4}-\d{2}-\d{2} ", line)) == entries
    assert not any(line.lstrip().startswith("kind:") for line in lines)
    _as_on_a_terminal(monkeypatch)
    rich = store("workload")
    assert "\x1b]0" not in rich.stdout and "\x07" not in rich.stdout
    assert "Eve\\x1b]0;pwned\\x07" in rich.stdout


def test_typed_text_quoted_in_an_error_is_escaped(store: Runner) -> None:
    result = store("audit", "--team", "x\x1b]0;pwned\x07")
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr
    assert "x\\x1b]0;pwned\\x07" in result.stderr
    result = store("officer", "show", "A\x1b[2JB")  # a parser's message quoting the value
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr
    assert "'A\\x1b[2JB' is not a collar number" in result.stderr


# --- the rule itself ----------------------------------------------------------------------


def test_the_rule_covers_every_control_and_separator_character() -> None:
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp", "Cs"):
            assert UNPRINTABLE.match(char), f"U+{code:04X} ({category})"
    for char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200e\u200f\ufeff":
        assert UNPRINTABLE.match(char), f"U+{ord(char):04X}"
    for fine in ("Zoë Brontë", "O'Brien-Smith", "李小龍", "محمد", "👩‍👩‍👧", "[/bold]", "a\u00a0b"):
        assert clean_text(fine, "the name") == fine.strip()


def test_escapes_read_as_one_line() -> None:
    assert escape_unprintable("a\nb\tc\x1b[2J\x9b\u202e") == "a\\nb\\tc\\x1b[2J\\x9b\\u202e"
    assert escape_unprintable("plain [/bold] text") == "plain [/bold] text"
    with pytest.raises(ValueError, match=r"the note contains a control character \(U\+000A"):
        clean_text("one\ntwo", "the note")
