"""``caseload rebalance``: a worked plan on a real store, dry run, apply, stale plans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

OFFICERS = """collar,name,team,accreditation,investigator_since,status,capacity,trainee
A1,Ann Able,Lewisham CID,PIP2,2015-01-01,active,,no
B2,Ben Best,Lewisham CID,PIP1,2015-01-01,active,,no
C3,Cat Cole,Lewisham CID,PIP2,2015-01-01,leave,,no
T4,Tom Tait,Lewisham CID,PIP1,2025-06-01,active,,yes
Z9,Zed Zane,Bexley,PIP1,2015-01-01,active,,no
Y8,Yas Yale,Bexley,PIP1,2015-01-01,active,,no
"""

CRIMES = """reference,crime_type,reported_on,team,required_level,holder,allocated_on
L01,Burglary,2026-01-01,Lewisham CID,PIP1,T4,2026-01-01
L02,Burglary,2026-01-02,Lewisham CID,PIP1,T4,2026-01-02
L03,Burglary,2026-01-03,Lewisham CID,PIP1,T4,2026-01-03
L04,Burglary,2026-01-04,Lewisham CID,PIP1,T4,2026-01-04
L05,Robbery,2026-01-05,Lewisham CID,PIP2,C3,2026-01-05
L06,Robbery,2026-01-06,Lewisham CID,PIP2,B2,2026-01-06
L07,Burglary,2026-01-07,Lewisham CID,PIP1,A1,2026-01-07
L08,Burglary,2026-01-08,Lewisham CID,PIP1,A1,2026-01-08
X01,Burglary,2026-01-01,Bexley,PIP1,Z9,2026-01-01
X02,Burglary,2026-01-02,Bexley,PIP1,Z9,2026-01-02
X03,Burglary,2026-01-03,Bexley,PIP1,Z9,2026-01-03
X04,Burglary,2026-01-04,Bexley,PIP1,Z9,2026-01-04
X05,Burglary,2026-01-05,Bexley,PIP1,Z9,2026-01-05
X06,Burglary,2026-01-06,Bexley,PIP1,Z9,2026-01-06
"""

LEWISHAM_PLAN = [
    ["L05", "C3", "A1", "1 re-home", "C3 is on leave"],
    ["L04", "T4", "B2", "2 limit", "T4 is inexperienced and holds 4 live crimes; limit 3"],
    ["L06", "B2", "A1", "3 accreditation", "needs PIP2; B2 is accredited to PIP1"],
    [
        "L08",
        "A1",
        "B2",
        "4 even",
        "evens the weighted load: 6 against 1, a gap over the threshold of 2",
    ],
    [
        "L07",
        "A1",
        "B2",
        "4 even",
        "evens the weighted load: 5 against 2, a gap over the threshold of 2",
    ],
]


@pytest.fixture
def force(store, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Two teams: Lewisham needs every step of a plan; Bexley only evening."""
    (tmp_path / "officers.csv").write_text(OFFICERS)
    (tmp_path / "crimes.csv").write_text(CRIMES)
    assert store("policy", "set", "inexperienced_limit", "3").exit_code == 0
    result = store("import", "officers", str(tmp_path / "officers.csv"))
    assert result.exit_code == 0, result.output
    result = store(
        "import", "crimes", str(tmp_path / "crimes.csv"), "--override", "sample mismatch"
    )
    assert result.exit_code == 0, result.output
    return store


def holders(sql) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    rows = sql(
        "SELECT c.reference, o.collar FROM crime c LEFT JOIN officer o ON o.id = c.holder_id"
    )
    return dict(rows)


def plan_json(run, *args: str) -> dict:  # type: ignore[no-untyped-def]
    result = run("rebalance", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_dry_run_shows_the_worked_plan_and_writes_nothing(force, sql) -> None:  # type: ignore[no-untyped-def]
    before = holders(sql)
    document = plan_json(force, "--team", "lewisham cid")
    moves = [[m["crime"], m["from"], m["to"], m["step"], m["why"]] for m in document["moves"]]
    assert moves == LEWISHAM_PLAN
    after = {o["collar"]: (o["live_after"], o["weighted_after"]) for o in document["officers"]}
    assert after == {"A1": (2, 4), "B2": (3, 3), "C3": (0, 0), "T4": (3, 3)}
    assert document["remaining"] == [] and document["missing_capacity"] == {}
    assert document["gaps"] == {"Lewisham CID": {"before": 2, "after": 1}}
    assert document["applied"] is False
    assert holders(sql) == before

    table = force("rebalance", "--team", "Lewisham CID")
    assert table.exit_code == 0
    assert "Officers before and after" in table.stderr
    assert "L06" in table.stdout and "needs PIP2; B2 is accredited to PIP1" in table.stdout
    assert f"--apply --plan {document['plan_id']}" in table.stderr
    assert "5 moves (1 re-home, 1 limit, 1 accreditation, 2 even)" in table.stderr


@pytest.mark.parametrize(
    ("only", "steps"),
    [
        (("--team", "Lewisham CID", "--only", "rehome"), ["1 re-home"]),
        (
            ("--team", "Lewisham CID", "--only", "limit,accreditation"),
            ["2 limit", "3 accreditation"],
        ),
        # The whole store: Lewisham's re-home, then only Bexley's gap is worth evening.
        (("--only", "Re-Home", "--only", "even"), ["1 re-home", "4 even", "4 even"]),
    ],
)
def test_only_runs_the_chosen_steps(force, sql, only, steps) -> None:  # type: ignore[no-untyped-def]
    whole = plan_json(force, *only[:-2])  # one step fewer
    document = plan_json(force, *only)
    assert [m["step"] for m in document["moves"]] == steps
    assert document["plan_id"] != whole["plan_id"]
    hint = force("rebalance", *only)
    assert f"--apply --plan {document['plan_id']}" in hint.stderr
    assert "--only" in hint.stderr
    applied = force(
        "rebalance", *only, "--apply", "--reason", "steps", "--plan", document["plan_id"]
    )
    assert applied.exit_code == 0, applied.output
    moved = sql("SELECT count(*) FROM allocation WHERE plan_id = :p", p=document["plan_id"])
    assert moved == [(len(steps),)]


def test_only_an_unknown_step_exits_2_naming_the_steps(force) -> None:  # type: ignore[no-untyped-def]
    result = force("rebalance", "--only", "tidy")
    assert result.exit_code == 2
    assert "re-home, limit, accreditation, even" in result.stderr


def test_same_store_gives_the_same_plan_id(force) -> None:  # type: ignore[no-untyped-def]
    first = plan_json(force, "--team", "Lewisham CID")
    second = plan_json(force, "--team", "Lewisham CID")
    assert first == second


def test_apply_records_every_move_with_reason_and_plan_id(force, sql) -> None:  # type: ignore[no-untyped-def]
    plan_id = plan_json(force, "--team", "Lewisham CID")["plan_id"]
    result = force(
        "rebalance", "--team", "Lewisham CID", "--apply", "--plan", plan_id,
        "--reason", "monthly rebalance",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Applied plan {plan_id}: 5 moves recorded." in result.stderr
    now = holders(sql)
    assert {ref: now[ref] for ref in ("L04", "L05", "L06", "L07", "L08")} == {
        "L04": "B2",
        "L05": "A1",
        "L06": "A1",
        "L07": "B2",
        "L08": "B2",
    }
    assert all(now[f"X0{i}"] == "Z9" for i in range(1, 7))  # Bexley untouched
    recorded = sql(
        "SELECT c.reference, o.collar, a.reason FROM allocation a "
        "JOIN crime c ON c.id = a.crime_id JOIN officer o ON o.id = a.officer_id "
        "WHERE a.plan_id = :p ORDER BY a.id",
        p=plan_id,
    )
    logged = sql(
        "SELECT count(*) FROM log_entry WHERE kind = 'transfer' AND detail LIKE :p",
        p=f'%"plan_id": "{plan_id}"%',
    )[0][0]
    assert recorded == [(m[0], m[2], "monthly rebalance") for m in LEWISHAM_PLAN]
    assert logged == 5
    # Planning again proposes nothing.
    again = plan_json(force, "--team", "Lewisham CID")
    assert again["moves"] == []


def test_a_changed_store_refuses_a_stale_plan(force, sql) -> None:  # type: ignore[no-untyped-def]
    plan_id = plan_json(force, "--team", "Lewisham CID")["plan_id"]
    assert force("crime", "finalise", "L07", "--outcome", "18").exit_code == 0
    before = holders(sql)
    result = force(
        "rebalance", "--team", "Lewisham CID", "--apply", "--plan", plan_id, "--reason", "x"
    )
    assert result.exit_code == 3
    assert f"changed since plan {plan_id}" in result.stderr
    assert holders(sql) == before


def test_whole_store_plan_evens_every_team(force) -> None:  # type: ignore[no-untyped-def]
    document = plan_json(force)
    bexley = [[m["crime"], m["from"], m["to"]] for m in document["moves"] if m["team"] == "Bexley"]
    assert bexley == [["X06", "Z9", "Y8"], ["X05", "Z9", "Y8"]]
    assert len(document["moves"]) == 7


def test_missing_capacity_is_reported_by_level(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "o.csv").write_text(
        "collar,name,team,accreditation,investigator_since,status\n"
        "P1,Pat Poe,Greenwich CID,PIP1,2015-01-01,active\n"
        "Q2,Quin Quo,Greenwich CID,PIP3,2015-01-01,left\n"
    )
    (tmp_path / "c.csv").write_text(
        "reference,crime_type,reported_on,team,required_level,holder\n"
        "G1,Robbery,2026-01-01,Greenwich CID,PIP3,Q2\n"
        "G2,Burglary,2026-01-01,Greenwich CID,PIP1,Q2\n"
    )
    assert store("import", "officers", str(tmp_path / "o.csv")).exit_code == 0
    assert store("import", "crimes", str(tmp_path / "c.csv")).exit_code == 0
    result = store("rebalance", "--team", "Greenwich CID")
    assert result.exit_code == 0
    assert "1 live crime needing PIP3 or above have no officer with room" in result.stderr
    assert "What remains" in result.stderr and "holder-unavailable" in result.stdout
    document = plan_json(store, "--team", "Greenwich CID")
    assert [m["crime"] for m in document["moves"]] == ["G2"]
    assert document["missing_capacity"] == {"PIP3": 1}


def test_usage_errors_write_nothing(force, sql) -> None:  # type: ignore[no-untyped-def]
    before = holders(sql)
    no_reason = force("rebalance", "--apply")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr
    stray = force("rebalance", "--reason", "x")
    assert stray.exit_code == 2
    unknown = force("rebalance", "--team", "Nowhere")
    assert unknown.exit_code == 2 and "no team called 'Nowhere'" in unknown.stderr
    assert holders(sql) == before
