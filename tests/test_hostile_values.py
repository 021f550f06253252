"""Hostile values (issue 14): generated free text (Rich markup, control characters,
terminal escapes, odd Unicode), huge and odd numbers and extreme dates, fed into every
command that takes free text, a number or a date.

Each run ends in exit 0 or 2 (``audit`` may also say 1: findings), never a traceback;
after exit 2 the store is exactly as it was (a dump of every table compared); and after a
value was accepted (a policy setting, a date), the commands that use it still work. Free
text with control characters may be refused (exit 2) or stored and shown escaped: either
is fine here, a crash or a half-written store is not.

Bounded: ``CASELOAD_HOSTILE_VALUE_EXAMPLES`` examples per property on SQLite (default 90,
some 300 commands in all, about half a minute on one core) and a fifth of that on
PostgreSQL."""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import sa_url

TEAM = "Lewisham CID"
EXAMPLES = int(os.environ.get("CASELOAD_HOSTILE_VALUE_EXAMPLES", "90"))
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

# --- what is generated ----------------------------------------------------------------------

MARKUP = ["[bold]x[/bold]", "Bob [/bold] Smith", "[/]", "[link=http://x]y[/link]", "[red",
          "]]", "[[", "[b]unclosed", ":smile:", "\\[escaped]"]  # fmt: skip
CONTROL = ["DS X\x1b]0;pwned\x07", "\x1b[2J", "a\nkind: forged", "tab\there", "cr\rhere",
           "\x7f", "\x85next", "\u2028line", "\u202eevil", "\ufeffbom", "zero\u200bwidth",
           "\x1b[31mred\x1b[0m", "\x08\x08back"]  # fmt: skip
ODD = ["", " ", "-", "--", "'; DROP TABLE crime; --", "=1+1", "x" * 2500, "\U0001f46e officer",
       "\u0130stanbul", "Z\u0351\u0362a\u0337l\u0341g\u0338o"]  # fmt: skip

free_text = st.one_of(
    st.sampled_from(MARKUP + CONTROL + ODD),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40),
    st.lists(st.sampled_from(MARKUP + CONTROL + ["plain", " "]), max_size=4).map("".join),
)

numbers = st.one_of(
    st.sampled_from(["100000", "99999999999999999999", "600", "601", "3650", "3651"]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=-5, max_value=700).map(str),
    st.sampled_from(["99999999999999999999", "9223372036854775808", "-9223372036854775809",
                     "1e9", "1_000", "0x10", "+5", " 5 ", "5.0", "-0", "NaN", "inf",
                     "\u00b2", "\u0663", "\uff15", "\u2167", "", "none", "28d", "99999999y"]),
)  # fmt: skip

TODAY = date.today()


def _uk(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


EDGE_DATES = st.sampled_from(["0001-01-01", "0002-01-01", "1899-12-31", "2200-01-01",
                              "9999-12-31", "31/12/9999", "01/01/0001"])  # fmt: skip
dates = st.one_of(
    EDGE_DATES,
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(_uk),
    st.dates(min_value=date(1899, 12, 1), max_value=date(2200, 1, 31)).map(date.isoformat),
    st.sampled_from([
        "0001-01-01", "0002-01-01", "1900-01-01", "1899-12-31", "2199-12-31", "2200-01-01",
        "9999-12-31", "0000-00-00", "31/02/2026", "29/02/2100", "1/1/1", "2026-W01",
        "3 April 2025", "tomorrow", "+10000-01-01", "2026-13-01", "99999999999999999999",
        TODAY.isoformat(), (TODAY + timedelta(days=1)).isoformat(), _uk(TODAY),
    ]),
)  # fmt: skip

# --- where it goes: {} is the generated value -------------------------------------------------

TEXT_COMMANDS = [
    ["officer", "add", "ZZ9", "--name", "{}", "--team", TEAM, "-a", "PIP1",
     "--since", "2015-01-01"],
    ["officer", "update", "AB1", "--rank", "{}"],
    ["officer", "update", "AB1", "--name", "{}"],
    ["officer", "status", "AB1", "active", "--reason", "{}"],
    ["crime", "add", "CR/9", "--type", "{}", "--team", TEAM, "--reported", "2026-01-02"],
    ["crime", "add", "CR/8", "--type", "Burglary", "--team", "{}", "--reported", "2026-01-02"],
    ["crime", "finalise", "CR/2", "--outcome", "18", "--reason", "{}"],
    ["review", "CR/1", "-m", "{}"],
    ["victim-update", "CR/1", "-m", "{}"],
    ["assign", "CR/1", "AB1", "--reason", "{}"],
    ["assign", "CR/1", "AB1", "--reason", "moved", "--actor", "{}"],
    ["unassign", "CR/1", "--reason", "{}"],
    ["policy", "set", "review_days", "27", "--reason", "{}"],
    ["matrix", "set", "{}", "PIP2"],
    ["officer", "show", "{}"],
    ["crime", "show", "{}"],
    ["crime", "list", "--type", "{}"],
    ["workload", "--team", "{}"],
    ["history", "{}"],
]  # fmt: skip
NUMBER_COMMANDS = [
    ["policy", "set", "inexperienced_months", "{}"],
    ["policy", "set", "inexperienced_limit", "{}"],
    ["policy", "set", "review_days", "{}"],
    ["policy", "set", "unallocated_days", "{}"],
    ["policy", "set", "notify_working_days", "{}"],
    ["policy", "set", "weight_pip2", "{}"],
    ["officer", "add", "ZZ8", "--name", "Zed", "--team", TEAM, "-a", "PIP1",
     "--since", "2015-01-01", "--capacity", "{}"],
    ["officer", "update", "AB1", "--capacity", "{}"],
    ["history", "-n", "{}"],
    ["crime", "list", "--limit", "{}"],
    ["suggest", "CR/1", "--top", "{}"],
    ["audit", "trend", "--last", "{}"],
    ["verify", "--batch", "{}"],
    ["crime", "finalise", "CR/2", "--outcome", "{}"],
    ["victim-update", "CR/1", "-m", "told", "--every", "{}"],
    ["matrix", "set", "Burglary", "{}"],
]  # fmt: skip
DATE_COMMANDS = [
    ["crime", "add", "CR/7", "--type", "Burglary", "--team", TEAM, "--reported", "{}"],
    ["crime", "finalise", "CR/2", "--outcome", "18", "--on", "{}"],
    ["crime", "reopen", "CR/2", "--on", "{}", "--reason", "x"],
    ["officer", "add", "ZZ7", "--name", "Zed", "--team", TEAM, "-a", "PIP1", "--since", "{}"],
    ["officer", "update", "AB1", "--since", "{}"],
    ["review", "CR/1", "-m", "looked", "--on", "{}"],
    ["review", "CR/1", "-m", "looked", "--next", "{}"],
    ["event", "CR/1", "arrested", "--on", "{}"],
    ["victim-update", "CR/1", "-m", "told", "--on", "{}"],
    ["workload", "--as-of", "{}"],
    ["audit", "--as-of", "{}"],
    ["export", "crimes", "-o", "-", "--as-of", "{}"],
    ["export", "workload", "-o", "-", "--as-of", "{}"],
    ["crime", "list", "--reported-after", "{}"],
]  # fmt: skip
# After a value was accepted, these read it back: the policy and the dates they use.
FOLLOW_UPS = [["workload"], ["audit"], ["officer", "show", "AB1"], ["crime", "show", "CR/1"],
              ["export", "findings", "-o", "-"]]  # fmt: skip
MAY_FIND = {"audit"}  # exit 1 is "findings at or above --fail-on", not a failure


def dump(conn: Any) -> dict[str, list[str]]:
    """Every table of the store, every row, in a comparable form."""
    import sqlalchemy as sa

    tables = sorted(sa.inspect(conn).get_table_names())
    state = {t: sorted(map(repr, conn.execute(sa.text(f'SELECT * FROM "{t}"')))) for t in tables}
    conn.rollback()
    return state


@pytest.fixture
def feed(store, db_url, tmp_path):  # type: ignore[no-untyped-def]
    """A small store (officer AB1 holding CR/1; CR/2 live and unallocated); returns
    ``feed(commands, value)`` which runs one of the commands with the value and checks."""
    import sqlalchemy as sa

    officers = tmp_path / "o.csv"
    officers.write_text(
        "collar,name,team,accreditation,investigator_since\n"
        f"AB1,Ann Bee,{TEAM},PIP2,2015-01-01\nCD2,Cal Dee,{TEAM},PIP1,2016-03-01\n"
    )
    assert store("import", "officers", str(officers)).exit_code == 0
    for ref in ("CR/1", "CR/2"):
        added = store("crime", "add", ref, "--type", "Burglary", "--team", TEAM,
                      "--reported", "2026-01-05")  # fmt: skip
        assert added.exit_code == 0, added.output
    assert store("assign", "CR/1", "AB1", "--reason", "start").exit_code == 0
    engine = sa.create_engine(sa_url(db_url), poolclass=sa.pool.NullPool)
    conn = engine.connect()
    backend = "postgresql" if "://" in db_url else "sqlite"
    budget = {"left": EXAMPLES if backend == "sqlite" else max(EXAMPLES // 5, 10)}

    def check(args: list[str], result: Any, before: dict[str, list[str]] | None) -> None:
        allowed = {0, 2} | ({1} if args[0] in MAY_FIND else set())
        shown = (args, result.exit_code, result.output[-1500:])
        assert result.exit_code in allowed, shown
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            repr(result.exception),
        )
        assert "Traceback" not in result.output, shown
        if result.exit_code == 2:
            message = result.stderr.strip()
            assert "Error" in message and len(message) < 4000, shown
            if before is not None:
                assert dump(conn) == before, f"exit 2 changed the store: {args}"

    def _feed(template: list[str], value: str) -> None:
        if budget["left"] <= 0:
            return
        budget["left"] -= 1
        args = [value if part == "{}" else part for part in template]
        before = dump(conn)
        result = store(*args)
        check(args, result, before)
        if result.exit_code == 0 and args[0] in ("policy", "officer", "crime", "review"):
            for follow in FOLLOW_UPS:
                check(follow, store(*follow), None)

    yield _feed
    conn.close()
    engine.dispose()


@pytest.mark.slow
@given(command=st.sampled_from(TEXT_COMMANDS), value=free_text)
@BOUNDED
def test_free_text_everywhere(feed, command: list[str], value: str) -> None:  # type: ignore[no-untyped-def]
    feed(command, value)


@pytest.mark.slow
@given(command=st.sampled_from(NUMBER_COMMANDS), value=numbers)
@BOUNDED
def test_numbers_everywhere(feed, command: list[str], value: str) -> None:  # type: ignore[no-untyped-def]
    feed(command, value)


@pytest.mark.slow
@given(command=st.sampled_from(DATE_COMMANDS), value=dates)
@BOUNDED
def test_dates_everywhere(feed, command: list[str], value: str) -> None:  # type: ignore[no-untyped-def]
    feed(command, value)
