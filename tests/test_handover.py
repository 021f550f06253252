"""``caseload handover OFFICER``: every live crime the officer holds moves, planned and
applied as a rebalance plan is, and nothing else moves."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.helpers.cli import Runner

TODAY = date.today()
D = [(TODAY - timedelta(days=30 - n)).isoformat() for n in range(30)]  # D[0] is 30 days ago

OFFICERS = """collar,name,team,accreditation,investigator_since,status,capacity,trainee
L1,Lee Long,Lewisham CID,PIP2,2015-01-01,active,,no
A1,Ann Able,Lewisham CID,PIP2,2015-01-01,active,,no
B2,Ben Best,Lewisham CID,PIP1,2015-01-01,active,,no
C3,Cat Cole,Lewisham CID,PIP2,2015-01-01,leave,,no
Z9,Zed Zane,Bexley,PIP1,2015-01-01,active,,no
"""

# L1 holds K1 and K2 (linked to K3, which B2 holds), P1 (PIP2: only A1 may take it), and
# X1 of another team. C3 (on leave) and A1 hold crimes that are not L1's: they stay.
HEADER = "reference,crime_type,reported_on,team,required_level,holder,allocated_on,victim_enhanced"
CRIMES = f"""{HEADER}
K1,Burglary,{D[0]},Lewisham CID,PIP1,L1,{D[1]},no
K2,Burglary,{D[0]},Lewisham CID,PIP1,L1,{D[2]},no
P1,Robbery,{D[0]},Lewisham CID,PIP2,L1,{D[3]},no
X1,Burglary,{D[0]},Bexley,PIP1,L1,{D[4]},no
K3,Burglary,{D[0]},Lewisham CID,PIP1,B2,{D[1]},no
B01,Burglary,{D[0]},Lewisham CID,PIP1,B2,{D[1]},no
B02,Burglary,{D[0]},Lewisham CID,PIP1,B2,{D[1]},no
C01,Robbery,{D[0]},Lewisham CID,PIP2,C3,{D[1]},no
A01,Burglary,{D[0]},Lewisham CID,PIP1,A1,{D[1]},no
"""


@pytest.fixture
def force(store: Runner, tmp_path: Path) -> Runner:
    (tmp_path / "officers.csv").write_text(OFFICERS)
    (tmp_path / "crimes.csv").write_text(CRIMES)
    assert store("import", "officers", str(tmp_path / "officers.csv")).exit_code == 0
    result = store("import", "crimes", str(tmp_path / "crimes.csv"))
    assert result.exit_code == 0, result.output
    for other in ("K1", "K2"):
        assert store("crime", "link", other, "K3", "--kind", "suspect").exit_code == 0
    return store


def plan(run: Runner, *args: str) -> dict:  # type: ignore[type-arg]
    result = run("handover", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def holders(sql) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    return dict(
        sql("SELECT c.reference, o.collar FROM crime c LEFT JOIN officer o ON o.id = c.holder_id")
    )


def test_dry_run_moves_every_live_crime_of_the_officer_and_nothing_else(
    force: Runner,
    sql,  # type: ignore[no-untyped-def]
) -> None:
    before = holders(sql)
    document = plan(force, "l1")
    moves = {m["crime"]: (m["from"], m["to"], m["step"]) for m in document["moves"]}
    assert moves == {
        "K1": ("L1", "B2", "1 re-home"),  # with K3, the crime it is linked to
        "K2": ("L1", "B2", "1 re-home"),
        "P1": ("L1", "A1", "1 re-home"),  # PIP2: only A1 is accredited and active
        "X1": ("L1", "Z9", "1 re-home"),  # a Bexley crime goes to a Bexley officer
    }
    assert {m["why"] for m in document["moves"]} == {"L1 hands over"}
    assert document["remaining"] == []
    # Only officers whose caseload changes are listed; C3's crime (on leave) stays put.
    assert {o["collar"] for o in document["officers"]} == {"L1", "A1", "B2", "Z9"}
    assert holders(sql) == before  # nothing was written
    hint = force("handover", "L1")
    assert f"--apply --plan {document['plan_id']}" in hint.stderr


def test_an_enhanced_service_victims_crime_is_placed_first(
    force: Runner,
    sql,  # type: ignore[no-untyped-def]
) -> None:
    """With room for one more PIP2 crime in the team, the enhanced victim's crime gets it,
    although the other was allocated more recently."""
    assert force("crime", "update", "K2", "--level", "PIP2", "-r", "review").exit_code == 0
    assert force("crime", "update", "K1", "--level", "PIP2", "-r", "review").exit_code == 0
    assert force("crime", "update", "K1", "--enhanced", "-r", "review").exit_code == 0
    assert force("officer", "update", "A1", "--capacity", "2").exit_code == 0
    document = plan(force, "L1")
    to_a1 = [m["crime"] for m in document["moves"] if m["to"] == "A1"]
    assert to_a1 == ["K1"]
    left = {r["crime"]: r for r in document["remaining"]}
    assert sorted(left) == ["K2", "P1"]
    assert {r["kind"] for r in left.values()} == {"holder-unavailable"}
    assert "L1 hands over" in left["K2"]["detail"]


def test_apply_checks_the_plan_id_and_moves_through_the_allocation_path(
    force: Runner,
    sql,  # type: ignore[no-untyped-def]
) -> None:
    shown = plan(force, "L1")
    assert force("assign", "A01", "B2", "--reason", "swap").exit_code == 0  # the store changes
    stale = force("handover", "L1", "--apply", "--reason", "sick", "--plan", shown["plan_id"])
    assert stale.exit_code == 3
    assert "has changed since plan" in stale.stderr
    assert holders(sql)["K1"] == "L1"
    fresh = plan(force, "L1")
    applied = force(
        "handover", "L1", "--apply", "--reason", "long-term sick", "--plan", fresh["plan_id"]
    )
    assert applied.exit_code == 0, applied.output
    assert "4 moves recorded" in applied.stderr
    now = holders(sql)
    assert [ref for ref, collar in now.items() if collar == "L1"] == []
    assert (now["C01"], now["A01"]) == ("C3", "B2")
    logged = sql(
        "SELECT crime_ref, reason, detail FROM log_entry WHERE kind = 'transfer' "
        "AND reason = 'long-term sick' ORDER BY crime_ref"
    )
    assert [row[0] for row in logged] == ["K1", "K2", "P1", "X1"]
    assert {json.loads(row[2])["plan_id"] for row in logged} == {fresh["plan_id"]}
    assert plan(force, "L1")["moves"] == []
    nothing = force("handover", "L1")
    assert "holds no live crimes" in nothing.stderr


def test_limits_hold_in_a_handover(force: Runner) -> None:
    """B2 would take both crimes linked to K3, but B2's capacity holds: with room for one
    more, B2 takes one and the other goes to A1."""
    assert force("officer", "update", "B2", "--capacity", "4").exit_code == 0
    moves = {m["crime"]: m["to"] for m in plan(force, "L1")["moves"]}
    assert sorted(moves.values()).count("B2") == 1


def test_from_an_earlier_day_starts_the_new_holdings_then(
    force: Runner,
    sql,  # type: ignore[no-untyped-def]
) -> None:
    day = D[10]
    result = force("handover", "L1", "--from", day, "--apply", "--reason", "sick since")
    assert result.exit_code == 0, result.output
    starts = sql(
        "SELECT a.start_at FROM allocation a JOIN crime c ON c.id = a.crime_id "
        "WHERE c.reference = 'K1' AND a.end_at IS NULL"
    )
    assert str(starts[0][0]).startswith(day)
    assert force("audit", "--as-of", D[12], "--format", "json").exit_code in (0, 1)
    on_day = json.loads(force("workload", "--as-of", D[12], "-f", "json").stdout)
    assert {r["collar"]: r["live"] for r in on_day}["L1"] == 0


def test_from_before_the_holding_began_is_refused(force: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    result = force("handover", "L1", "--from", D[0], "--apply", "--reason", "x")
    assert result.exit_code == 2
    assert "only since" in result.stderr
    assert holders(sql)["K1"] == "L1"


def test_a_later_day_can_be_planned_but_not_applied(force: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    later = (TODAY + timedelta(days=7)).isoformat()
    assert len(plan(force, "L1", "--from", later)["moves"]) == 4
    result = force("handover", "L1", "--from", later, "--apply", "--reason", "leave")
    assert result.exit_code == 2
    assert "after today" in result.stderr
    assert holders(sql)["K1"] == "L1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ZZ9",), "no officer with collar ZZ9"),
        (("L1", "--apply"), "--reason"),
        (("L1", "--reason", "x"), "go with --apply"),
    ],
)
def test_bad_usage_exits_2(force: Runner, args: tuple[str, ...], message: str) -> None:
    result = force("handover", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_handover_apply_as_a_subprocess(force: Runner, shell, sql) -> None:  # type: ignore[no-untyped-def]
    shown = plan(force, "L1")
    done = shell("handover", "L1", "--apply", "--reason", "abstracted", "--plan", shown["plan_id"])
    assert done.returncode == 0, done.stderr
    assert f"Applied handover {shown['plan_id']}: 4 moves recorded." in done.stderr
    assert "K1" in done.stdout
    assert "L1" not in holders(sql).values()
