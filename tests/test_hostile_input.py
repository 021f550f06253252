"""Hostile input: ``caseload import`` and command arguments fed random and adversarial
data (hypothesis). Every run ends in exit 0 or exit 2 with a plain message, never a
traceback; after exit 2 the store is exactly as it was; text that looks like SQL or a
spreadsheet formula is stored verbatim."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.store import sa_url

TABLES = ("team", "officer", "crime", "allocation", "finalisation", "matrix_entry",
          "policy_setting")  # fmt: skip
EXAMPLES = int(os.environ.get("CASELOAD_HOSTILE_EXAMPLES", "100"))
PG_EXAMPLES = int(os.environ.get("CASELOAD_HOSTILE_PG_EXAMPLES", "20"))
TRIED: dict[str, int] = {}

HOSTILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

SQLISH = [
    "'; DROP TABLE crime; --",
    "Robert'); DELETE FROM officer WHERE ('1'='1",
    "x' OR '1'='1",
    '" OR ""="',
    "1; UPDATE policy_setting SET value='warn'",
    "%_\\",
]
FORMULAS = ["=1+1", "+SUM(A1:A9)", "-2+3", "@cmd", '=HYPERLINK("http://x")', "\t=1", "\r=1"]
COLUMNS = ["reference", "crime_type", "reported_on", "team", "required_level", "holder",
           "victim_enhanced", "finalised_on", "outcome"]  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _report_inputs_tried():  # type: ignore[no-untyped-def]
    yield
    print(f"\nhostile inputs tried: {TRIED}")


def snapshot(conn: Any) -> dict[str, Any]:
    """Everything a failed command might have touched (the store under test is small)."""
    from sqlalchemy import text

    state: dict[str, Any] = {
        t: sorted(map(repr, conn.execute(text(f"SELECT * FROM {t}")))) for t in TABLES
    }
    state["log"] = [
        tuple(r) for r in conn.execute(text("SELECT id, hash FROM log_entry ORDER BY id"))
    ]
    conn.rollback()
    return state


@pytest.fixture
def hostile(store, db_url, tmp_path):  # type: ignore[no-untyped-def]
    """A store with one officer and one crime; returns ``attempt(name, args, data=None)``
    which runs a command (a file argument written from ``data``) and checks the outcome.

    Property tests run EXAMPLES inputs on SQLite; on PostgreSQL (slower per command) the
    first PG_EXAMPLES of the same inputs (``attempt.enough()`` says when to stop)."""
    import sqlalchemy as sa

    engine = sa.create_engine(sa_url(db_url), poolclass=sa.pool.NullPool)
    conn = engine.connect()
    request_backend = "postgresql" if "://" in db_url else "sqlite"
    seen = {"n": 0}
    officers = tmp_path / "o.csv"
    officers.write_text(
        "collar,name,team,accreditation,investigator_since\n"
        "AB1,Ann Bee,Lewisham CID,PIP2,2015-01-01\n"
    )
    assert store("import", "officers", str(officers)).exit_code == 0
    assert store("crime", "add", "01/1/26", "--type", "Burglary", "--team", "Lewisham CID",
                 "--reported", "2026-01-05").exit_code == 0  # fmt: skip
    path = tmp_path / "hostile.csv"

    def attempt(name: str, args: list[str], data: bytes | None = None) -> Any:
        key = f"{name} [{request_backend}]"
        TRIED[key] = TRIED.get(key, 0) + 1
        if data is not None:
            path.write_bytes(data)
            args = [a.replace("{file}", str(path)) for a in args]
        before = snapshot(conn)
        result = store(*args)
        assert result.exit_code in (0, 2), (args, result.exit_code, result.output[-2000:])
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
        assert "Traceback" not in result.output
        if result.exit_code == 2:
            message = result.stderr.strip()
            assert message.startswith(("Error", "Usage")), message[:500]
            assert "Error" in message
            assert len(message) < 4000, f"an unreadable message of {len(message)} characters"
            assert snapshot(conn) == before, "exit 2 must leave the store unchanged"
        return result

    def enough() -> bool:
        seen["n"] += 1
        return request_backend == "postgresql" and seen["n"] > PG_EXAMPLES

    attempt.enough = enough  # type: ignore[attr-defined]
    yield attempt
    conn.close()
    engine.dispose()


# --- import: files ------------------------------------------------------------------------


@pytest.mark.slow
@given(data=st.binary(max_size=3000))
@HOSTILE
def test_import_random_bytes(hostile, data: bytes) -> None:  # type: ignore[no-untyped-def]
    if hostile.enough():
        return
    hostile("import random bytes", ["import", "crimes", "{file}"], data)


cell = st.one_of(
    st.text(max_size=40),
    st.sampled_from(SQLISH + FORMULAS + ["", " ", "\"", "\"\"", "a\nb", "a\r\nb", "\x00", "\ufeff",
                                         "2026-02-30", "31/12/2025", "PIP9", "yes", "-1",
                                         "99999999999999999999", "NaN", "AB1", "01/1/26"]),
)  # fmt: skip
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"]


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    header = draw(
        st.lists(
            st.one_of(st.sampled_from(COLUMNS), st.text(max_size=12)),
            min_size=0,
            max_size=12,
        )
    )
    if draw(st.booleans()):
        header = COLUMNS[:4] + header
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=len(header) + 2), max_size=8))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))

    def quote(value: str) -> str:
        if draw(st.booleans()) or any(c in value for c in ',"\r\n'):
            return '"' + value.replace('"', '""') + '"'
        return value

    text = newline.join(",".join(quote(v) for v in row) for row in [header, *rows]) + newline
    encoding = draw(st.sampled_from(ENCODINGS))
    return text.encode(encoding, errors="replace")


@pytest.mark.slow
@given(data=csv_files())
@HOSTILE
def test_import_adversarial_csv(hostile, data: bytes) -> None:  # type: ignore[no-untyped-def]
    if hostile.enough():
        return
    hostile("import adversarial csv", ["import", "crimes", "{file}"], data)
    hostile("import adversarial csv", ["import", "officers", "{file}"], data)


@pytest.mark.slow
@given(crime_type=st.sampled_from(SQLISH + FORMULAS), reference=st.sampled_from(SQLISH))
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
def test_sql_and_formula_text_is_stored_verbatim(hostile, sql, crime_type, reference) -> None:  # type: ignore[no-untyped-def]
    def q(v: str) -> str:
        return '"' + v.replace('"', '""') + '"'

    data = (
        "reference,crime_type,reported_on,team\n"
        f"{q(reference)},{q(crime_type)},2026-01-02,{q(reference)}\n"
    ).encode()
    result = hostile("sql-looking text", ["import", "crimes", "{file}"], data)
    if crime_type.strip() != crime_type or reference.strip() != reference:
        return  # surrounding blanks are trimmed like any other cell
    assert result.exit_code == 0, result.output
    stored = sql("SELECT crime_type FROM crime WHERE reference = :r", r=reference)
    assert stored == [(crime_type,)]
    assert sql("SELECT count(*) FROM officer") == [(1,)]
    shown = hostile("sql-looking text", ["crime", "show", reference, "--format", "json"])
    assert shown.exit_code == 0
    import json

    assert json.loads(shown.stdout)["crime_type"] == crime_type


@pytest.mark.slow
def test_a_10_mb_cell(hostile) -> None:  # type: ignore[no-untyped-def]
    big = "A" * (10 * 1024 * 1024)
    data = f"reference,crime_type,reported_on,team\n02/1/26,{big},2026-01-02,Lewisham CID\n"
    result = hostile("10 MB cell", ["import", "crimes", "{file}"], data.encode())
    assert result.exit_code == 2


@pytest.mark.slow
def test_ten_thousand_columns(hostile) -> None:  # type: ignore[no-untyped-def]
    header = COLUMNS[:4] + [f"extra{i}" for i in range(10_000 - 4)]
    row = ["02/1/26", "Burglary", "2026-01-02", "Lewisham CID"] + [""] * (10_000 - 4)
    data = (",".join(header) + "\n" + ",".join(row) + "\n").encode()
    refused = hostile("10,000 columns", ["import", "crimes", "{file}"], data)
    assert refused.exit_code == 2
    assert "extra0" in refused.stderr
    accepted = hostile("10,000 columns", ["import", "crimes", "{file}", "--ignore-unknown"], data)
    assert accepted.exit_code == 0, accepted.output


@pytest.mark.slow
def test_a_million_empty_lines(hostile, sql) -> None:  # type: ignore[no-untyped-def]
    data = (
        "reference,crime_type,reported_on,team\n"
        + "\n" * 1_000_000
        + "02/1/26,Burglary,2026-01-02,Lewisham CID\n"
    ).encode()
    result = hostile("a million empty lines", ["import", "crimes", "{file}"], data)
    if result.exit_code == 0:
        assert sql("SELECT count(*) FROM crime") == [(2,)]


@pytest.mark.slow
@pytest.mark.parametrize(
    "data",
    [
        b"reference,crime_type,reported_on,team\n02/1/26,Bur\x00glary,2026-01-02,T\n",
        "reference,crime_type,reported_on,team\n02/1/26,Cambriolage \u00e9,2026-01-02,T\n".encode(
            "latin-1"
        ),
        "reference,crime_type,reported_on,team\n02/1/26,Burglary,2026-01-02,T\n".encode("utf-16"),
        b"\xef\xbb\xbfreference,crime_type,reported_on,team\r\n02/1/26,Burglary,2026-01-02,T\r\n",
        b'reference,crime_type,reported_on,team\n02/1/26,"Bur\nglary ""x""",2026-01-02,T\n',
        b'reference,crime_type,reported_on,team\n02/1/26,"unterminated,2026-01-02,T\n',
        b"",
        b"\n\n\n",
    ],
    ids=[
        "nul",
        "latin-1",
        "utf-16",
        "bom-crlf",
        "quotes-newline",
        "unterminated",
        "empty",
        "blank",
    ],  # fmt: skip
)
def test_awkward_files(hostile, data) -> None:  # type: ignore[no-untyped-def]
    hostile("awkward files", ["import", "crimes", "{file}"], data)


# --- command arguments ------------------------------------------------------------------------

arg_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(SQLISH + FORMULAS + ["", "-", "--", "-1", "0", "1e9", "99999999999999999999",
                                         "31/02/2026", "2026-13-01", "0000-01-01", "9999-12-31",
                                         "1/1/1", "\x00", "\u202e", "AB1", "01/1/26"]),
)  # fmt: skip


def _safe(value: str) -> str:
    # A NUL cannot travel in a real command line; everything else can.
    return value.replace("\x00", "")


@pytest.mark.slow
@given(when=arg_text, name=arg_text, number=arg_text)
@HOSTILE
def test_command_arguments(hostile, when: str, name: str, number: str) -> None:  # type: ignore[no-untyped-def]
    if hostile.enough():
        return
    when, name, number = _safe(when), _safe(name), _safe(number)
    hostile("arguments", ["crime", "add", "03/1/26", "--type", name, "--team", "Lewisham CID",
                          "--reported", when])  # fmt: skip
    hostile("arguments", ["officer", "add", "ZZ9", "--name", name, "--team", "Lewisham CID",
                          "-a", "PIP1", "--since", when, "--capacity", number])  # fmt: skip
    hostile("arguments", ["policy", "set", "inexperienced_limit", number])
    hostile("arguments", ["crime", "list", "--format", "json", "--team", name])
    hostile("arguments", ["officer", "show", name])
    hostile("arguments", ["assign", name, "AB1", "--reason", number])
    hostile("arguments", ["export", "crimes", "-o", "-", "--as-of", when])
    hostile("arguments", ["audit", "--as-of", when])
