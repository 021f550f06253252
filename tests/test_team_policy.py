"""Per-team policy: ``policy set NAME VALUE --team TEAM`` overrides a setting for one team,
and every rule and audit judges that team's officers and crimes by it."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.helpers.cli import Runner

TODAY = date.today()
AGO = TODAY - timedelta(days=40)

OFFICERS = f"""collar,name,team,accreditation,investigator_since,status,capacity,trainee
V1,Val Vine,Volume Crime,PIP1,{TODAY - timedelta(days=100)},active,,yes
V2,Vic Vale,Volume Crime,PIP2,2015-01-01,active,,no
C1,Cal Cole,Lewisham CID,PIP1,{TODAY - timedelta(days=100)},active,,yes
C2,Cas Cray,Lewisham CID,PIP2,2015-01-01,active,,no
"""

CRIMES = f"""reference,crime_type,reported_on,team,required_level,holder,allocated_on
V01,Burglary,{AGO},Volume Crime,PIP1,V1,{AGO}
V02,Burglary,{AGO},Volume Crime,PIP1,V1,{AGO}
V03,Burglary,{AGO},Volume Crime,PIP1,,
C01,Burglary,{AGO},Lewisham CID,PIP1,C1,{AGO}
C02,Burglary,{AGO},Lewisham CID,PIP1,C1,{AGO}
C03,Burglary,{AGO},Lewisham CID,PIP1,,
"""


@pytest.fixture
def teams(store: Runner, tmp_path: Path) -> Runner:
    """Two teams, each with a trainee holding two live crimes; the force's limit is 3,
    the volume-crime team's 2 (block mode)."""
    (tmp_path / "officers.csv").write_text(OFFICERS)
    (tmp_path / "crimes.csv").write_text(CRIMES)
    assert store("import", "officers", str(tmp_path / "officers.csv")).exit_code == 0
    result = store("import", "crimes", str(tmp_path / "crimes.csv"))
    assert result.exit_code == 0, result.output
    for args in (
        ("inexperienced_limit", "3"),
        ("inexperienced_limit", "2", "--team", "volume crime"),
        ("limit_mode", "block", "--team", "Volume Crime"),
    ):
        result = store("policy", "set", *args, "--reason", "volume team")
        assert result.exit_code == 0, result.output
    return store


def show(run: Runner, *args: str) -> dict[str, dict[str, object]]:
    result = run("policy", "show", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_show_team_says_what_applies_and_where_it_comes_from(teams: Runner) -> None:
    volume = show(teams, "--team", "VOLUME CRIME")
    assert volume["inexperienced_limit"] == {
        **volume["inexperienced_limit"],
        "value": 2,
        "source": "team override",
        "force": 3,
        "default": 25,
    }
    assert (volume["limit_mode"]["value"], volume["limit_mode"]["source"]) == (
        "block",
        "team override",
    )
    assert volume["review_days"]["source"] == "force default"
    cid = show(teams, "--team", "Lewisham CID")
    assert (cid["inexperienced_limit"]["value"], cid["inexperienced_limit"]["source"]) == (
        3,
        "force setting",
    )
    force = teams("policy", "show")
    assert "Teams with their own values: Volume Crime" in force.stderr
    assert show(teams)["inexperienced_limit"]["value"] == 3


def test_set_and_clear_are_logged_and_checked(teams: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    entries = [
        json.loads(detail)
        for (detail,) in sql("SELECT detail FROM log_entry WHERE kind = 'policy' ORDER BY id")
    ]
    assert entries[1] == {
        "setting": "inexperienced_limit",
        "team": "Volume Crime",
        "team_id": entries[1]["team_id"],
        "old": 3,
        "new": 2,
    }
    again = teams("policy", "set", "inexperienced_limit", "2", "--team", "Volume Crime")
    assert again.exit_code == 0 and "already 2" in again.stderr
    cleared = teams("policy", "set", "inexperienced_limit", "--team", "Volume Crime", "--clear")
    assert cleared.exit_code == 0, cleared.output
    assert "2 -> 3" in cleared.stderr
    assert show(teams, "--team", "Volume Crime")["inexperienced_limit"]["source"] == (
        "force setting"
    )
    (last,) = sql("SELECT detail FROM log_entry WHERE kind = 'policy' ORDER BY id DESC LIMIT 1")
    assert json.loads(last[0])["cleared"] is True
    history = json.loads(teams("history", "--kind", "policy", "-f", "json").stdout)
    assert history[0]["detail"]["team"] == "Volume Crime"
    assert teams("db", "check").exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("inexperienced_limit", "2", "--team", "Volume Crim"), "did you mean 'Volume Crime'"),
        (("weight_pip1", "3", "--team", "Volume Crime"), "force-wide"),
        (("inexperienced_limit", "lots", "--team", "Volume Crime"), "whole number"),
        (("inexperienced_limit", "--clear"), "--team"),
        (("inexperienced_limit", "2", "--team", "Volume Crime", "--clear"), "not both"),
    ],
)
def test_bad_team_settings_exit_2_and_write_nothing(
    teams: Runner,
    sql,  # type: ignore[no-untyped-def]
    args: tuple[str, ...],
    message: str,
) -> None:
    before = sql("SELECT count(*) FROM log_entry")[0][0]
    result = teams("policy", "set", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert sql("SELECT count(*) FROM log_entry")[0][0] == before
    assert sql("SELECT count(*) FROM team_policy_setting")[0][0] == 2


def test_show_for_an_unknown_team_names_the_nearest(teams: Runner) -> None:
    result = teams("policy", "show", "--team", "Volume Crim")
    assert result.exit_code == 2
    assert "did you mean 'Volume Crime'" in result.stderr


def test_assign_uses_the_officers_team_limit_and_mode(teams: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    refused = teams("assign", "V03", "V1", "--reason", "next up")
    assert refused.exit_code == 3
    assert "limit 2" in refused.stderr
    assert sql("SELECT holder_id FROM crime WHERE reference = 'V03'") == [(None,)]
    # The other team works to the force's limit of 3 (warn mode): a third crime is fine.
    allowed = teams("assign", "C03", "C1", "--reason", "next up")
    assert allowed.exit_code == 0, allowed.output
    assert "limit" not in allowed.stderr
    overridden = teams("assign", "V03", "V1", "--reason", "r", "--override", "cover")
    assert overridden.exit_code == 0, overridden.output


def test_import_with_a_holder_is_refused_by_the_team_limit(teams: Runner, tmp_path: Path) -> None:
    (tmp_path / "more.csv").write_text(
        "reference,crime_type,reported_on,team,required_level,holder\n"
        f"V09,Burglary,{TODAY},Volume Crime,PIP1,V1\n"
        f"C09,Burglary,{TODAY},Lewisham CID,PIP1,C1\n"
    )
    result = teams("import", "crimes", str(tmp_path / "more.csv"))
    assert result.exit_code == 3
    assert "V09" in result.output and "C09" not in result.stderr.split("V09")[0][-40:]
    listed = teams("crime", "list", "--format", "json")
    assert "V09" not in listed.stdout


def test_reopen_is_judged_by_the_team_limit(teams: Runner) -> None:
    assert teams("crime", "finalise", "V01", "--outcome", "1").exit_code == 0
    assert teams("assign", "V03", "V1", "--reason", "room again").exit_code == 0
    refused = teams("crime", "reopen", "V01", "--reason", "new evidence")
    assert refused.exit_code == 3
    assert "limit 2" in refused.stderr


def test_suggest_and_rebalance_use_the_team_limit(teams: Runner) -> None:
    # V1 holds 2: under the force's limit of 3, but at the volume team's limit of 2.
    suggested = teams("suggest", "V03", "--format", "json")
    assert suggested.exit_code == 0, suggested.output
    assert [c["collar"] for c in json.loads(suggested.stdout)] == ["V2"]
    cid = teams("suggest", "C03", "--format", "json")
    assert {c["collar"] for c in json.loads(cid.stdout)} == {"C1", "C2"}
    assert (
        teams("policy", "set", "inexperienced_limit", "1", "--team", "Volume Crime").exit_code == 0
    )
    plan = teams("rebalance", "--team", "Volume Crime", "--only", "limit", "--format", "json")
    assert plan.exit_code == 0, plan.output
    moves = json.loads(plan.stdout)["moves"]
    assert [(m["from"], m["to"], m["step"]) for m in moves] == [("V1", "V2", "2 limit")]
    cid_plan = teams("rebalance", "--team", "Lewisham CID", "--only", "limit", "-f", "json")
    assert json.loads(cid_plan.stdout)["moves"] == []


def test_workload_shows_the_team_limit(teams: Runner) -> None:
    rows = {r["collar"]: r for r in json.loads(teams("workload", "-f", "json").stdout)}
    assert (rows["V1"]["limit"], rows["V1"]["headroom"]) == (2, 0)
    assert (rows["C1"]["limit"], rows["C1"]["headroom"]) == (3, 1)
    (one,) = json.loads(teams("workload", "--officer", "v1", "-f", "json").stdout)
    assert one["limit"] == 2


def findings(run: Runner, *args: str) -> list[tuple[str, str, str | None, str | None]]:
    result = run("audit", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return sorted(
        (
            (f["code"], f["team"], f["collar"], f["reference"])
            for f in json.loads(result.stdout)["findings"]
        ),
        key=str,
    )


def test_audit_uses_each_teams_thresholds(teams: Runner) -> None:
    """Officer codes by the officer's team, crime codes by the crime's team."""
    set_ = lambda *a: teams("policy", "set", *a)  # noqa: E731
    assert set_("inexperienced_limit", "1", "--team", "Volume Crime").exit_code == 0
    # Crimes were reported 40 days ago and never reviewed: over 28 days, not 60.
    assert set_("review_days", "60", "--team", "Lewisham CID").exit_code == 0
    # The unallocated crimes: more than 2 days (force), but not more than 50 for CID.
    assert set_("unallocated_days", "50", "--team", "Lewisham CID").exit_code == 0
    # Victim updates: 28 days by default (overdue at 40); 45 for the volume team.
    assert set_("victim_update_days", "45", "--team", "Volume Crime").exit_code == 0
    found = findings(teams)
    codes = {(code, team) for code, team, _, _ in found}
    assert ("inexperienced-over-limit", "Volume Crime") in codes
    assert ("inexperienced-over-limit", "Lewisham CID") not in codes
    assert ("review-overdue", "Volume Crime") in codes
    assert ("review-overdue", "Lewisham CID") not in codes
    assert ("unallocated", "Volume Crime") in codes
    assert ("unallocated", "Lewisham CID") not in codes
    assert ("victim-update-overdue", "Lewisham CID") in codes
    assert ("victim-update-overdue", "Volume Crime") not in codes
    document = json.loads(teams("audit", "--format", "json").stdout)
    limits = {
        f["collar"]: f["detail"]
        for f in document["findings"]
        if f["code"] == "inexperienced-over-limit"
    }
    assert "1" in limits["V1"]
    # One team scope sees its own findings with its own thresholds.
    assert {t for _, t, _, _ in findings(teams, "--team", "Lewisham CID")} == {"Lewisham CID"}


def test_audit_notification_deadline_is_the_crimes_team(teams: Runner) -> None:
    """An event 20 days ago is past 5 working days everywhere, but not past 30 for CID."""
    day = (TODAY - timedelta(days=20)).isoformat()
    for ref in ("V01", "C01"):
        assert teams("event", ref, "arrested", "--on", day).exit_code == 0
    assert (
        teams("policy", "set", "notify_working_days", "30", "--team", "Lewisham CID").exit_code == 0
    )
    notify = [f for f in findings(teams) if f[0] == "victim-notify-overdue"]
    assert notify == [("victim-notify-overdue", "Volume Crime", "V1", "V01")]


def test_audit_reassign_churn_is_the_crimes_team(teams: Runner) -> None:
    for _ in range(2):
        for ref, a, b in (("V03", "V2", "V1"), ("C03", "C2", "C1")):
            assert teams("assign", ref, a, "--reason", "r", "--override", "o").exit_code == 0
            assert teams("assign", ref, b, "--reason", "r", "--override", "o").exit_code == 0
    # Each crime now has 4 intervals: 3 reassignments.
    assert teams("policy", "set", "reassign_churn", "2", "--team", "Volume Crime").exit_code == 0
    churn = [f for f in findings(teams) if f[0] == "reassign-churn"]
    assert churn == [("reassign-churn", "Volume Crime", "V1", "V03")]


def test_moving_an_officer_to_a_team_with_a_lower_limit_warns(teams: Runner) -> None:
    """C1 holds 2: within Lewisham's limit of 3, over the volume team's limit once it is 1."""
    assert (
        teams("policy", "set", "inexperienced_limit", "1", "--team", "Volume Crime").exit_code == 0
    )
    moved = teams("officer", "update", "C1", "--team", "Volume Crime")
    assert moved.exit_code == 0, moved.output
    assert "over the limit of 1" in moved.stderr
    back = teams("officer", "update", "C1", "--team", "Lewisham CID")
    assert back.exit_code == 0 and "limit" not in back.stderr


def test_the_rules_and_plans_read_each_teams_policy_without_a_store() -> None:
    from caseload.domain.planning import OfficerLoad, ceiling, plan_rebalance
    from caseload.domain.policy import Policy
    from caseload.domain.rules import OfficerFacts, check_allocation
    from caseload.domain.team_policy import Policies

    force = Policy(inexperienced_limit=25)
    policies = Policies(force, {2: {"inexperienced_limit": 10, "limit_mode": "block"}})
    assert policies.of(2).inexperienced_limit == 10 and policies.of(1) is force
    assert policies.differing("inexperienced_limit") == {2: 10}
    assert policies.differing("review_days") == {}
    trainee = OfficerFacts("T1", "Tia", "TDC", "PIP1", "active", None, True, TODAY, team_id=2)
    (breach,) = check_allocation(
        trainee, live_after=11, required_level="PIP1", on=TODAY, policy=policies
    )
    assert (breach.code, breach.blocking, breach.limit) == ("inexperienced-over-limit", True, 10)
    elsewhere = OfficerFacts("T2", "Tom", "TDC", "PIP1", "active", None, True, TODAY, team_id=1)
    assert (
        check_allocation(elsewhere, live_after=11, required_level="PIP1", on=TODAY, policy=policies)
        == []
    )
    load = OfficerLoad(id=1, collar="T1", team_id=2, accreditation="PIP1", inexperienced=True)
    assert ceiling(load, policies) == 10 and ceiling(load, force) == 25
    # A plan's id covers the overrides: the same store under other overrides is another plan.
    plain = plan_rebalance([load], [], force)
    assert plan_rebalance([load], [], Policies(force)).plan_id == plain.plan_id
    assert plan_rebalance([load], [], policies).plan_id != plain.plan_id


def test_db_check_finds_an_override_changed_behind_the_log(teams: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    assert teams("db", "check").exit_code == 0
    sql("UPDATE team_policy_setting SET value = '9' WHERE name = 'inexperienced_limit'")
    result = teams("db", "check")
    assert result.exit_code == 1
    assert "team policy setting differs from the decision log" in result.stdout
    assert "the log says 2, the store says 9" in result.stdout
