"""The Victims' Code in full: enhanced entitlement with its category (``crime victim``),
the import column ``victim_category``, and how older yes/no data reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from caseload.domain.victims import entitlement, parse_category, shown_category
from tests.helpers.cli import Runner
from tests.helpers.force import add_teams
from tests.helpers.store import log_entries


@pytest.fixture
def crimes(store: Runner) -> Runner:
    add_teams(store, "Lewisham CID")
    for ref, enhanced in (("CR/1", "--standard"), ("CR/2", "--enhanced")):
        result = store(
            "crime", "add", ref, "--type", "Burglary", "--team", "Lewisham CID",
            "--reported", "2026-11-02", enhanced,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    return store


def shown(run: Runner, ref: str) -> dict:  # type: ignore[type-arg]
    result = run("crime", "show", ref, "-f", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_categories_parse_and_read() -> None:
    assert parse_category("Vulnerable_or intimidated") == "vulnerable-or-intimidated"
    assert parse_category("persistent") == "persistently-targeted"
    with pytest.raises(ValueError, match="not an enhanced entitlement category"):
        parse_category("important")
    assert entitlement(True, None) == "enhanced (category not recorded)"
    assert entitlement(False, None) == "standard"
    assert shown_category(True, "most-serious") == "most-serious"


def test_crime_victim_records_the_category_with_its_reason_and_logs_it(crimes, sql) -> None:  # type: ignore[no-untyped-def]
    done = crimes(
        "crime", "victim", "CR/1", "--enhanced", "vulnerable", "--reason", "lives alone, 91"
    )
    assert done.exit_code == 0, done.output
    assert "standard -> enhanced (vulnerable-or-intimidated)" in done.stderr
    record = shown(crimes, "CR/1")
    assert record["victim_enhanced"] is True
    assert record["victim_category"] == "vulnerable-or-intimidated"
    assert record["victim_entitlement_reason"] == "lives alone, 91"
    [entry] = log_entries(sql, "victim-entitlement")
    assert entry["crime_ref"] == "CR/1"
    assert entry["reason"] == "lives alone, 91"
    assert entry["detail"] == {
        "enhanced": [False, True],
        "category": [None, "vulnerable-or-intimidated"],
    }
    again = crimes("crime", "victim", "CR/1", "--enhanced", "vulnerable-or-intimidated",
                   "--reason", "same")  # fmt: skip
    assert again.exit_code == 0
    assert "already" in again.stderr
    assert len(log_entries(sql, "victim-entitlement")) == 1

    cleared = crimes("crime", "victim", "CR/1", "--standard", "--reason", "entered in error")
    assert cleared.exit_code == 0, cleared.output
    assert sql("SELECT victim_enhanced, victim_category FROM crime WHERE reference = 'CR/1'") == [
        (False, None)
    ]
    assert shown(crimes, "CR/1")["victim_category"] is None


def test_crime_victim_refuses_bad_usage_and_writes_nothing(crimes, sql) -> None:  # type: ignore[no-untyped-def]
    for args in (
        ("CR/1", "--enhanced", "important", "--reason", "x"),
        ("CR/1", "--enhanced", "most-serious", "--standard", "--reason", "x"),
        ("CR/1", "--reason", "x"),
        ("CR/1", "--enhanced", "most-serious"),
        ("CR/9", "--enhanced", "most-serious", "--reason", "x"),
    ):
        result = crimes("crime", "victim", *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("Error:") or "Usage" in result.output
    assert log_entries(sql, "victim-entitlement") == []


def test_yes_no_enhanced_reads_as_category_not_recorded(crimes) -> None:  # type: ignore[no-untyped-def]
    assert shown(crimes, "CR/2")["victim_category"] == "category not recorded"
    table = crimes("crime", "list", "--wide")
    assert "category not recorded" in table.stdout
    rows = {r["reference"]: r for r in json.loads(crimes("crime", "list", "-f", "json").stdout)}
    assert rows["CR/2"]["victim_enhanced"] is True
    assert rows["CR/2"]["victim_category"] is None  # the import columns' own values


def test_crime_update_standard_clears_the_category(crimes, sql) -> None:  # type: ignore[no-untyped-def]
    crimes("crime", "victim", "CR/2", "--enhanced", "most-serious", "--reason", "GBH")
    done = crimes("crime", "update", "CR/2", "--standard", "--reason", "not eligible")
    assert done.exit_code == 0, done.output
    assert sql("SELECT victim_enhanced, victim_category FROM crime WHERE reference = 'CR/2'") == [
        (False, None)
    ]


CSV = """reference,crime_type,reported_on,team,victim_enhanced,victim_category
CR/10,Burglary,2026-11-01,Lewisham CID,,persistently-targeted
CR/11,Burglary,2026-11-01,Lewisham CID,yes,
CR/12,Burglary,2026-11-01,Lewisham CID,,
"""


def test_import_and_export_carry_the_category(store: Runner, sql, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_teams(store, "Lewisham CID")
    path = tmp_path / "c.csv"
    path.write_text(CSV)
    result = store("import", "crimes", str(path))
    assert result.exit_code == 0, result.output
    assert sql(
        "SELECT reference, victim_enhanced, victim_category FROM crime ORDER BY reference"
    ) == [
        ("CR/10", True, "persistently-targeted"),
        ("CR/11", True, None),
        ("CR/12", False, None),
    ]
    # A yes/no file imported again keeps the category already recorded.
    path.write_text(CSV.replace(",,persistently-targeted", ",yes,"))
    assert store("import", "crimes", str(path)).exit_code == 0
    assert sql("SELECT victim_category FROM crime WHERE reference = 'CR/10'") == [
        ("persistently-targeted",)
    ]
    out = tmp_path / "export.csv"
    exported = store("export", "crimes", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    text = out.read_text()
    assert "victim_category" in text.splitlines()[0]
    assert "persistently-targeted" in text
    # The export imports back unchanged.
    again = store("import", "crimes", str(out))
    assert again.exit_code == 0, again.output
    assert "unchanged" in again.stderr


def test_import_refuses_an_unknown_category(store: Runner, sql, tmp_path) -> None:  # type: ignore[no-untyped-def]
    add_teams(store, "Lewisham CID")
    path = tmp_path / "c.csv"
    path.write_text(
        "reference,crime_type,reported_on,team,victim_enhanced,victim_category\n"
        "CR/1,Burglary,2026-11-01,Lewisham CID,no,most-serious\n"
        "CR/2,Burglary,2026-11-01,Lewisham CID,yes,very-important\n"
    )
    result = store("import", "crimes", str(path))
    assert result.exit_code == 2
    assert "line 3, column victim_category" in result.stderr
    assert "line 2" not in result.stderr  # a category makes the victim enhanced
    assert sql("SELECT count(*) FROM crime") == [(0,)]


# --- Right 6 in full: the added key events ---------------------------------------------------


def test_right_6_added_events_have_deadlines_and_audit_findings(store: Runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    add_teams(store, "Lewisham CID")
    for ref, flag in (("CR/1", "--standard"), ("CR/2", "--enhanced")):
        result = store(
            "crime", "add", ref, "--type", "Burglary", "--team", "Lewisham CID",
            "--reported", "2026-03-02", flag,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    told = store("event", "CR/1", "bail conditions changed", "--on", "2026-03-30")
    assert told.exit_code == 0, told.output
    assert "suspect's bail conditions changed" in told.stderr
    # Good Friday and Easter Monday 2026 are skipped: 5 working days from Mon 30 March.
    assert "tell the victim by 2026-04-08 (5 working days, standard service)" in told.stderr
    enhanced = store("event", "CR/2", "not-investigated", "--on", "2026-04-02")
    assert "tell the victim by 2026-04-07 (1 working day, enhanced service)" in enhanced.stderr
    path = tmp_path / "events.csv"
    path.write_text("reference,kind,on\nCR/2,out-of-court disposal,2026-04-09\n")
    imported = store("import", "events", str(path))
    assert imported.exit_code == 0, imported.output
    audit = store("audit", "--as-of", "2026-04-20", "-f", "json")
    notify = [
        f for f in json.loads(audit.stdout)["findings"] if f["code"] == "victim-notify-overdue"
    ]
    details = sorted(f["detail"] for f in notify)
    assert len(details) == 3
    assert any(d.startswith("suspect's bail conditions changed on 2026-03-30") for d in details)
    assert any(d.startswith("decision not to investigate on 2026-04-02") for d in details)
    assert any(
        d.startswith("suspect given an out-of-court disposal on 2026-04-09") for d in details
    )
    # A victim update meets the new events' duties as it does the old ones'.
    assert store("victim-update", "CR/2", "-m", "told", "--on", "2026-04-10").exit_code == 0
    shown_events = shown(store, "CR/2")["events"]
    assert [e["notice"] for e in shown_events] == ["late (3 days after the deadline)", "on time"]


# --- Right 4: referrals to victim support services ----------------------------------------------


@pytest.fixture
def referrals(store: Runner, sql) -> Runner:  # type: ignore[no-untyped-def]
    """Four live crimes: two reported before the store recorded referrals (1 June 2026),
    two after; the store began recording referrals on 1 June 2026."""
    add_teams(store, "Lewisham CID")
    for ref, reported, flag in (
        ("OLD/1", "2026-05-01", "--standard"),
        ("OLD/2", "2026-05-29", "--standard"),
        ("NEW/1", "2026-06-04", "--standard"),  # a Thursday: due Monday 8 June
        ("NEW/2", "2026-06-05", "--enhanced"),  # a Friday: due Tuesday 9 June
    ):
        result = store(
            "crime", "add", ref, "--type", "Burglary", "--team", "Lewisham CID",
            "--reported", reported, flag,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    sql("UPDATE duty_start SET start_on = :d WHERE duty = 'victim-referral'", d="2026-06-01")
    return store


def referral_findings(run: Runner, *args: str) -> list[dict]:  # type: ignore[type-arg]
    result = run("audit", "-f", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return [
        f for f in json.loads(result.stdout)["findings"] if f["code"] == "victim-referral-overdue"
    ]


def test_a_new_store_records_referrals_from_its_first_day(store: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    [(start,)] = sql("SELECT start_on FROM duty_start WHERE duty = 'victim-referral'")
    assert str(start) == date.today().isoformat()


def test_victim_referral_is_recorded_shown_and_logged(referrals: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    done = referrals("victim-referral", "NEW/1", "--on", "2026-06-08")
    assert done.exit_code == 0, done.output
    assert "a referral to victim support on NEW/1 (2026-06-08): on time, due by 2026-06-08" in (
        done.stderr
    )
    late = referrals("victim-referral", "NEW/2", "--declined", "--on", "2026-06-10")
    assert late.exit_code == 0, late.output
    assert "the victim declined a referral on NEW/2 (2026-06-10): late" in late.stderr
    record = shown(referrals, "NEW/2")
    assert record["victim_referrals"] == [
        {"referred_on": "2026-06-10", "declined": True, "actor": "test-supervisor",
         "imported_by": None}
    ]  # fmt: skip
    entries = log_entries(sql, "victim-referral")
    assert [(e["crime_ref"], e["detail"]["declined"], e["detail"]["due"]) for e in entries] == [
        ("NEW/1", False, "2026-06-08"),
        ("NEW/2", True, "2026-06-09"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("victim-referral", "NOPE/1"), "no crime"),
        (("victim-referral", "NEW/1", "--on", "2026-06-01"), "before NEW/1 was reported"),
        (("victim-referral", "NEW/1", "--on", "2999-01-01"), "in the future"),
        (("victim-referral", "NEW/1", "--on", "soon"), "not a date"),
    ],
)
def test_victim_referral_bad_input_exits_two_and_writes_nothing(
    referrals: Runner,
    sql,  # type: ignore[no-untyped-def]
    args: tuple[str, ...],
    message: str,
) -> None:
    before = sql("SELECT count(*) FROM log_entry")
    result = referrals(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert sql("SELECT count(*) FROM log_entry") == before
    assert sql("SELECT count(*) FROM victim_referral") == [(0,)]


def test_referral_overdue_only_for_crimes_reported_since_referrals_were_recorded(
    referrals: Runner,
) -> None:
    # On the deadline day nothing is overdue yet; the day after, NEW/1 is.
    assert referral_findings(referrals, "--as-of", "2026-06-08") == []
    [finding] = referral_findings(referrals, "--as-of", "2026-06-09")
    assert finding["reference"] == "NEW/1"
    assert finding["severity"] == "medium"
    assert finding["since"] == "2026-06-09"
    assert finding["detail"] == (
        "NEW/1: reported on 2026-06-04; no referral to victim support (or recorded decline) "
        "by 2026-06-08 (2 working days, standard service)"
    )
    later = referral_findings(referrals, "--as-of", "2026-06-15")
    assert [f["reference"] for f in later] == ["NEW/1", "NEW/2"]  # never OLD/1, OLD/2
    # A decline meets the duty (late or not); a referral after the audited day does not.
    assert referrals("victim-referral", "NEW/2", "--declined", "--on", "2026-06-12").exit_code == 0
    assert [f["reference"] for f in referral_findings(referrals, "--as-of", "2026-06-15")] == [
        "NEW/1"
    ]
    assert [f["reference"] for f in referral_findings(referrals, "--as-of", "2026-06-11")] == [
        "NEW/1",
        "NEW/2",
    ]
    # The policy setting moves the deadline; the audit exits 1 on a medium --fail-on.
    assert referrals("policy", "set", "referral_working_days", "10").exit_code == 0
    assert referral_findings(referrals, "--as-of", "2026-06-15") == []
    assert referrals("audit", "--as-of", "2026-06-09", "--fail-on", "medium").exit_code == 1


def test_referral_overdue_leaves_finalised_crimes_alone(referrals: Runner) -> None:
    assert (
        referrals("crime", "finalise", "NEW/1", "--outcome", "18", "--on", "2026-06-06").exit_code
        == 0
    )
    assert referral_findings(referrals, "--as-of", "2026-06-15")[0]["reference"] == "NEW/2"


def test_import_victim_referrals(referrals: Runner, sql, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "referrals.csv"
    path.write_text("reference,on,declined\nNEW/1,2026-06-05,\nNEW/2,08/06/2026,yes\n")
    result = referrals("import", "victim-referrals", str(path))
    assert result.exit_code == 0, result.output
    rows = sql(
        "SELECT c.reference, r.referred_on, r.declined, r.actor, r.imported_by "
        "FROM victim_referral r JOIN crime c ON c.id = r.crime_id ORDER BY c.reference"
    )
    assert [(ref, str(on), bool(declined), actor, by) for ref, on, declined, actor, by in rows] == [
        ("NEW/1", "2026-06-05", False, "", "test-supervisor"),
        ("NEW/2", "2026-06-08", True, "", "test-supervisor"),
    ]
    assert referral_findings(referrals, "--as-of", "2026-06-15") == []
    again = referrals("import", "victim-referrals", str(path))
    assert again.exit_code == 0
    assert sql("SELECT count(*) FROM victim_referral") == [(2,)]
    bad = tmp_path / "bad.csv"
    bad.write_text("reference,on\nNEW/9,2026-06-05\nNEW/1,2026-06-01\n")
    refused = referrals("import", "victim-referrals", str(bad))
    assert refused.exit_code == 2
    assert "line 2, column reference" in refused.stderr
    assert "line 3, column on" in refused.stderr
    assert sql("SELECT count(*) FROM victim_referral") == [(2,)]
