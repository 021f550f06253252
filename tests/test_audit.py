"""A supervisor runs ``caseload audit`` (often from cron) and reads the findings.

Per finding code: a store that triggers it, one that does not, and the boundary
(25 live is fine for an inexperienced officer, 26 is a finding). Then the JSON
document's shape, the exit codes, the other formats, ``--record`` and ``audit trend``,
and that the audit's work is a fixed set of SQL statements, not a loop over rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from caseload.domain.audit import (
    CODES,
    FINDING_COLUMNS,
    counts_from,
    fails,
    officer_label,
    sparkline,
)
from tests.conftest import Runner
from tests.force import Force, at, days_ago, refs

TODAY = date.today()


@pytest.fixture
def force(store: Runner, db_url: str) -> Iterator[Force]:
    built = Force(db_url)
    yield built
    built.close()


def audit(run: Runner, *args: str) -> dict[str, Any]:
    result = run("audit", "-f", "json", *args)
    assert result.exit_code in (0, 1), result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def findings(run: Runner, code: str, *args: str) -> list[dict[str, Any]]:
    return [f for f in audit(run, *args)["findings"] if f["code"] == code]


def quiet(force: Force, references: list[str], on: date) -> None:
    """Review and update crimes so only the finding under test shows."""
    for ref in references:
        force.review(ref, on)
        force.update(ref, on)


# --- the domain rules ----------------------------------------------------------------------


def test_fail_on_thresholds() -> None:
    low_only = {"reassign-churn": 2}
    assert fails(low_only, "low")
    assert not fails(low_only, "medium")
    assert fails({"review-overdue": 1}, "medium")
    assert not fails({"review-overdue": 1}, "high")
    assert fails({"accreditation-mismatch": 1}, "high")
    assert not fails({}, "low")


def test_counts_have_every_code_and_severity() -> None:
    counts = counts_from({"unallocated": 2, "holder-unavailable": 1})
    assert list(counts["by_code"]) == list(CODES)
    assert counts["by_code"]["unallocated"] == 2
    assert counts["by_severity"] == {"high": 1, "medium": 2, "low": 0}


def test_sparkline_and_officer_label() -> None:
    assert sparkline([0, 5, 10]) == "▁▅█"
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([]) == ""
    assert officer_label("DC", "Priya Patel", "AB1234") == "DC Patel (AB1234)"
    assert officer_label("", "Priya Patel", "AB1234") == "Priya Patel (AB1234)"


# --- one store per finding code ------------------------------------------------------------


def test_inexperienced_over_limit_boundary_25_is_fine_26_is_a_finding(
    store: Runner, force: Force
) -> None:
    force.officer("TR1", name="Alex Jones", rank="TDC", trainee=True)
    force.crimes(refs("CR", 26), reported=days_ago(20))
    force.assign(refs("CR", 25), "TR1", at(days_ago(10)))
    assert findings(store, "inexperienced-over-limit") == []

    force.assign("CR026", "TR1", at(days_ago(4)))
    [found] = findings(store, "inexperienced-over-limit")
    assert found["severity"] == "high"
    assert found["collar"] == "TR1"
    assert found["team"] == "Lewisham CID"
    assert found["reference"] is None
    assert "TDC Jones (TR1) holds 26 live crimes; limit 25" in found["detail"]
    assert found["since"] == days_ago(4).isoformat()  # the allocation that pushed it over


def test_inexperienced_by_months_not_only_trainees(store: Runner, force: Force) -> None:
    force.officer("NEW1", since=TODAY - timedelta(days=300))
    force.officer("OLD1", since=date(2010, 1, 1))
    force.crimes(refs("A", 26), reported=days_ago(5))
    force.crimes(refs("B", 26), reported=days_ago(5))
    force.assign(refs("A", 26), "NEW1", at(days_ago(3)))
    force.assign(refs("B", 26), "OLD1", at(days_ago(3)))
    assert [f["collar"] for f in findings(store, "inexperienced-over-limit")] == ["NEW1"]
    force.policy("inexperienced_limit", "30")
    assert findings(store, "inexperienced-over-limit") == []


def test_accreditation_mismatch(store: Runner, force: Force) -> None:
    force.officer("P1", accreditation="PIP1")
    force.officer("P2", accreditation="PIP2")
    force.crime("HIGH1", reported=days_ago(6), level="PIP2", crime_type="Robbery")
    force.crime("HIGH2", reported=days_ago(6), level="PIP2", crime_type="Robbery")
    force.crime("LOW1", reported=days_ago(6), level="PIP1")
    force.assign("HIGH1", "P1", at(days_ago(5)))
    force.assign("HIGH2", "P2", at(days_ago(5)))
    force.assign("LOW1", "P1", at(days_ago(5)))
    [found] = findings(store, "accreditation-mismatch")
    assert (found["reference"], found["collar"], found["severity"]) == ("HIGH1", "P1", "high")
    assert "requires PIP2" in found["detail"] and "is PIP1" in found["detail"]
    assert found["since"] == days_ago(5).isoformat()


def test_holder_unavailable(store: Runner, force: Force) -> None:
    force.officer("ON1", name="Kim Lee")
    force.officer("AWAY1", name="Ola Ade")
    force.officer("AWAY2", name="Bo Chan")  # on leave but holds nothing
    force.crimes(["C1", "C2"], reported=days_ago(10))
    force.assign("C1", "ON1", at(days_ago(9)))
    force.assign("C2", "AWAY1", at(days_ago(9)))
    assert findings(store, "holder-unavailable") == []
    assert store("officer", "status", "AWAY1", "leave").exit_code == 0
    assert store("officer", "status", "AWAY2", "leave").exit_code == 0
    [found] = findings(store, "holder-unavailable")
    assert found["collar"] == "AWAY1"
    assert found["detail"] == "DC Ade (AWAY1) is on leave and holds 1 live crime"
    assert found["since"] == TODAY.isoformat()  # the status change, after the holding began


def test_over_capacity(store: Runner, force: Force) -> None:
    force.officer("CAP3", capacity=3)
    force.crimes(refs("K", 4), reported=days_ago(10))
    force.assign(refs("K", 3), "CAP3", at(days_ago(8)))
    assert findings(store, "over-capacity") == []
    force.assign("K004", "CAP3", at(days_ago(2)))
    [found] = findings(store, "over-capacity")
    assert (found["collar"], found["severity"]) == ("CAP3", "medium")
    assert "holds 4 live crimes; personal capacity 3" in found["detail"]
    assert found["since"] == days_ago(2).isoformat()


def test_unallocated_for_longer_than_unallocated_days(store: Runner, force: Force) -> None:
    force.officer("H1")
    force.crime("NEW", reported=days_ago(2))  # 2 days: not longer than 2
    force.crime("OLD", reported=days_ago(3))
    force.crime("DROPPED", reported=days_ago(30))
    force.crime("HELD", reported=days_ago(30))
    force.assign(["DROPPED", "HELD"], "H1", at(days_ago(29)))
    force.unassign("DROPPED", at(days_ago(5)))
    found = {f["reference"]: f for f in findings(store, "unallocated")}
    assert set(found) == {"OLD", "DROPPED"}
    assert found["OLD"]["since"] == days_ago(3).isoformat()
    assert found["DROPPED"]["since"] == days_ago(5).isoformat()  # end of its last interval
    assert found["DROPPED"]["collar"] is None
    assert "no holder since" in found["DROPPED"]["detail"]
    force.finalise("OLD", TODAY)
    assert {f["reference"] for f in findings(store, "unallocated")} == {"DROPPED"}


def test_json_findings_survive_text_that_looks_like_the_next_finding(
    store: Runner, force: Force
) -> None:
    """Findings are encoded a batch at a time and split one to a line at '}, {"code": ';
    text holding exactly that, quotes and all, must stay inside its own finding."""
    tricky = 'Odd}, {"code": "x", "team'
    force.crimes([f"U{n}" for n in range(1500)], reported=days_ago(9), team=tricky)
    force.crime("U-LAST", reported=days_ago(9), crime_type=tricky)
    result = store("audit", "-f", "json")
    document = json.loads(result.stdout)
    unallocated = [f for f in document["findings"] if f["code"] == "unallocated"]
    assert len(unallocated) == 1501 == document["counts"]["by_code"]["unallocated"]
    assert {f["team"] for f in unallocated} == {tricky, "Lewisham CID"}
    body = result.stdout.split('"findings": [', 1)[1]
    assert body.count("\n    {") == len(document["findings"])  # one finding to a line


def test_review_overdue(store: Runner, force: Force) -> None:
    force.crime("R28", reported=days_ago(28))
    force.crime("R29", reported=days_ago(29))
    force.crime("REVIEWED", reported=days_ago(60))
    force.crime("STALE", reported=days_ago(60))
    force.crime("DUE", reported=days_ago(60))
    force.review("REVIEWED", days_ago(10))
    force.review("STALE", days_ago(29))
    force.review("DUE", days_ago(10), next_due=days_ago(1))
    found = {f["reference"]: f for f in findings(store, "review-overdue")}
    assert set(found) == {"R29", "STALE", "DUE"}
    assert found["R29"]["since"] == TODAY.isoformat()
    assert "never reviewed" in found["R29"]["detail"]
    assert "last review" in found["STALE"]["detail"]
    assert "next review was due" in found["DUE"]["detail"]
    assert found["DUE"]["since"] == TODAY.isoformat()


def test_victim_update_overdue_default_and_agreed(store: Runner, force: Force) -> None:
    force.crime("V28", reported=days_ago(28))
    force.crime("V29", reported=days_ago(29))
    force.crime("AGREED7", reported=days_ago(20))
    force.crime("AGREED8", reported=days_ago(20))
    force.every("AGREED7", 7)
    force.every("AGREED8", 7)
    force.update("AGREED7", days_ago(7))
    force.update("AGREED8", days_ago(8))
    found = {f["reference"]: f for f in findings(store, "victim-update-overdue")}
    assert set(found) == {"V29", "AGREED8"}
    assert "agreed every 7 days" in found["AGREED8"]["detail"]
    assert "(default)" in found["V29"]["detail"]
    assert found["AGREED8"]["since"] == TODAY.isoformat()


def test_reassign_churn(store: Runner, force: Force) -> None:
    force.officer("O1")
    force.officer("O2")
    force.crimes(["CALM", "BOUNCED"], reported=days_ago(40))
    for i in range(6):  # 6 intervals = 5 reassignments: not more than 5
        force.assign(["CALM", "BOUNCED"], "O1" if i % 2 == 0 else "O2", at(days_ago(30 - i)))
    assert findings(store, "reassign-churn") == []
    force.assign("BOUNCED", "O1", at(days_ago(3)))
    [found] = findings(store, "reassign-churn")
    assert (found["reference"], found["severity"], found["collar"]) == ("BOUNCED", "low", "O1")
    assert "reassigned 6 times; limit 5" in found["detail"]
    assert found["since"] == days_ago(3).isoformat()


def test_victim_notify_overdue_across_easter_2026(store: Runner, force: Force) -> None:
    """Thursday 2 April 2026: Good Friday, the weekend and Easter Monday are not working
    days, so 1 working day runs to Tuesday 7 April and 5 to Monday 13 April."""
    force.crime("ENH", reported=date(2026, 3, 30), enhanced=True)
    force.crime("STD", reported=date(2026, 3, 30))
    force.crime("TOLD", reported=date(2026, 3, 30), enhanced=True)
    force.crime("EARLY", reported=date(2026, 3, 30), enhanced=True)
    force.crime("LATE", reported=date(2026, 3, 30), enhanced=True)
    for ref in ("ENH", "STD", "TOLD", "EARLY", "LATE"):
        force.event(ref, "charged", date(2026, 4, 2))
    force.update("TOLD", date(2026, 4, 7))  # on the deadline: told
    force.update("EARLY", date(2026, 4, 1))  # before the event: does not count
    force.update("LATE", date(2026, 4, 10))  # after the deadline: met late, from that day

    def overdue(day: str) -> set[str]:
        return {f["reference"] for f in findings(store, "victim-notify-overdue", "--as-of", day)}

    assert overdue("2026-04-07") == set()
    assert overdue("2026-04-08") == {"ENH", "EARLY", "LATE"}
    assert overdue("2026-04-09") == {"ENH", "EARLY", "LATE"}  # the update is dated later
    assert overdue("2026-04-10") == {"ENH", "EARLY"}
    assert overdue("2026-04-13") == {"ENH", "EARLY"}
    assert overdue("2026-04-14") == {"ENH", "EARLY", "STD"}
    [enh] = [
        f
        for f in findings(store, "victim-notify-overdue", "--as-of", "2026-04-14")
        if f["reference"] == "ENH"
    ]
    assert enh["since"] == "2026-04-08"
    assert enh["detail"] == (
        "suspect charged on 2026-04-02; victim not told by 2026-04-07 "
        "(1 working day, enhanced service)"
    )


# --- the document, the formats and the exit codes -----------------------------------------


@pytest.fixture
def small(store: Runner, force: Force) -> Runner:
    """One unallocated crime three days old (medium) and one churned crime (low)."""
    force.officer("O1")
    force.officer("O2")
    force.crime("UNHELD", reported=days_ago(3))
    force.crime("CHURN", reported=days_ago(20))
    for i in range(7):
        force.assign("CHURN", "O1" if i % 2 == 0 else "O2", at(days_ago(15 - i)))
    quiet(force, ["UNHELD", "CHURN"], days_ago(1))
    return store


def test_json_document_shape(small: Runner) -> None:
    document = audit(small)
    assert list(document) == ["generated_at", "as_of", "team", "policy", "counts", "findings"]
    assert document["as_of"] == TODAY.isoformat()
    assert document["policy"]["inexperienced_limit"] == 25
    assert document["policy"]["reassign_churn"] == 5
    assert list(document["counts"]) == ["by_code", "by_severity"]
    assert list(document["counts"]["by_code"]) == list(CODES)
    assert document["counts"]["by_code"]["unallocated"] == 1
    assert document["counts"]["by_code"]["reassign-churn"] == 1
    assert document["counts"]["by_severity"] == {"high": 0, "medium": 1, "low": 1}
    assert [f["code"] for f in document["findings"]] == ["unallocated", "reassign-churn"]
    for item in document["findings"]:
        assert list(item) == list(FINDING_COLUMNS)
        date.fromisoformat(item["since"])


def test_exit_codes_follow_fail_on(small: Runner) -> None:
    assert small("audit", "-f", "json").exit_code == 1
    assert small("audit", "-f", "json", "--fail-on", "low").exit_code == 1
    assert small("audit", "-f", "json", "--fail-on", "medium").exit_code == 1
    assert small("audit", "-f", "json", "--fail-on", "high").exit_code == 0
    bad = small("audit", "--fail-on", "urgent")
    assert bad.exit_code == 2
    assert "not a severity" in bad.stderr
    unknown_team = small("audit", "--team", "Nowhere CID")
    assert unknown_team.exit_code == 2
    assert "no team" in unknown_team.stderr
    future = small("audit", "--as-of", (TODAY + timedelta(days=3)).isoformat())
    assert future.exit_code == 2


def test_clean_store_exits_zero(store: Runner, force: Force) -> None:
    force.officer("O1")
    force.crime("FINE", reported=days_ago(1))
    force.assign("FINE", "O1", at(days_ago(1)))
    result = store("audit")
    assert result.exit_code == 0, result.output
    assert "(none)" in result.stdout
    assert "0 findings" in result.stderr


def test_missing_store_exits_four(run: Runner) -> None:
    result = run("audit")
    assert result.exit_code == 4
    assert "caseload init" in result.stderr


def test_table_plain_markdown_and_csv(small: Runner) -> None:
    plain = small("audit", "-f", "plain")
    assert "reassign-churn" in plain.stdout and "UNHELD" in plain.stdout
    assert "\x1b[" not in plain.stdout  # no colour when not a terminal
    assert "2 findings: 0 high, 1 medium, 1 low" in plain.stderr
    markdown = small("audit", "-f", "markdown")
    assert markdown.stdout.lstrip().startswith("| code")
    table = small("audit")
    assert "unallocated" in table.stdout
    rows = small("audit", "-f", "csv").stdout.splitlines()
    assert rows[0] == ",".join(FINDING_COLUMNS)
    assert rows[1].startswith("unallocated,medium,Lewisham CID,,UNHELD,")


def test_team_filter(store: Runner, force: Force) -> None:
    force.crime("NORTH1", reported=days_ago(5), team="North CID")
    force.crime("SOUTH1", reported=days_ago(5), team="South CID")
    document = audit(store, "--team", "north cid")
    assert document["team"] == "North CID"  # the team's name as stored
    assert {f["reference"] for f in document["findings"]} == {"NORTH1"}


def test_record_and_trend(small: Runner, force: Force) -> None:
    assert small("audit", "--record", "-f", "json").exit_code == 1
    force.crime("UNHELD2", reported=days_ago(4))
    recorded = small("audit", "--record", "--fail-on", "high")
    assert recorded.exit_code == 0
    assert "Recorded as audit run" in recorded.stderr
    result = small("audit", "trend", "-f", "json")
    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)
    assert [r["unallocated"] for r in runs] == [1, 2]
    assert [r["reassign-churn"] for r in runs] == [1, 1]
    assert runs[-1]["total"] == sum(runs[-1][code] for code in CODES)
    plain = small("audit", "trend", "-f", "plain")
    assert "review-overdue" in plain.stdout
    assert "▁" not in plain.stdout  # sparklines only on a terminal


def test_trend_without_runs(store: Runner) -> None:
    result = store("audit", "trend")
    assert result.exit_code == 0
    assert "No runs recorded yet" in result.stderr


def test_audit_is_a_fixed_number_of_queries(store: Runner, db_url: str, force: Force) -> None:
    """The checks are SQL over the whole store: ten times the crimes, the same statements."""
    from sqlalchemy import event

    from caseload.store.audit import Audit
    from caseload.store.reference import load_policy

    force.officer("O1", trainee=True)
    force.officer("O2", accreditation="PIP1", capacity=1)

    def statements() -> int:
        seen: list[str] = []
        engine = force.store.engine
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            with force.store.read() as conn:
                checks = Audit(conn, load_policy(conn))
                checks.counts()
                list(checks.findings())
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    def add(prefix: str, n: int) -> None:
        force.crimes(refs(prefix, n), reported=days_ago(40), level="PIP2", enhanced=True)
        for i, ref in enumerate(refs(prefix, n)):
            force.event(ref, "arrested", days_ago(30 + i % 5))
        force.assign(refs(prefix, n), "O1", at(days_ago(20)))
        force.assign(refs(prefix, n)[:2], "O2", at(days_ago(10)))

    add("S", 3)
    few = statements()
    add("M", 30)
    assert statements() == few


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_the_sample_force_shows_every_code(run: Runner) -> None:
    result = run("init", "--sample")
    assert result.exit_code == 0, result.output
    document = audit(run)
    assert [code for code, n in document["counts"]["by_code"].items() if n == 0] == []
    assert run("audit", "--fail-on", "high", "-f", "csv").exit_code == 1
