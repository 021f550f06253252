"""Dip-sampling: caseload sample draws live crimes of a team for a quality review
(reproducible with the seed, weighted toward high risk and enhanced-service victims,
logged), and review --quality records the result on the review."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest

from caseload.domain.sampling import draw, parse_quality, weight
from tests.helpers.cli import Runner
from tests.helpers.force import add_crime, add_crimes, add_officer, allocate_refs
from tests.helpers.store import log_entries, writing


def test_the_draw_is_reproducible_and_weighted() -> None:
    crimes = [
        {"reference": f"C{n:02d}", "risk": "standard", "victim_enhanced": False} for n in range(18)
    ]
    crimes += [
        {"reference": "HIGH", "risk": "high", "victim_enhanced": True},  # weight 8
        {"reference": "MED", "risk": "medium", "victim_enhanced": False},  # weight 2
    ]
    assert draw(crimes, 3, 7) == draw(list(reversed(crimes)), 3, 7)  # order of rows: none
    assert len(draw(crimes, 50, 1)) == 20
    assert (weight("high", True), weight("medium", False), weight("standard", False)) == (8, 2, 1)
    picked: Counter[str] = Counter()
    for seed in range(1, 301):
        picked.update(c["reference"] for c in draw(crimes, 2, seed))
    # chance alone would pick each crime about 30 times in 300 draws of 2 from 20
    assert picked["HIGH"] > 150
    assert picked["MED"] > picked["C05"]
    with pytest.raises(ValueError, match="not a quality result"):
        parse_quality("great")


@pytest.fixture
def force(store: Runner, db_url: str) -> Runner:
    from datetime import date, datetime

    with writing(db_url) as conn:
        add_officer(conn, "AB1", name="Ann Bell", rank="DC")
        add_crimes(conn, 12)
        add_crime(
            conn,
            "OTHER/1",
            team="Croydon CID",
            reported_on=date(2026, 1, 5),
            level="PIP1",
            actor="setup",
            at=datetime(2026, 1, 5),
        )
    allocate_refs(db_url, ["CR/1", "CR/2"], "AB1")
    return store


def drawn(run: Runner, *args: str) -> list[str]:
    result = run("sample", "--team", "Lewisham CID", *args, "--format", "csv")
    assert result.exit_code == 0, result.output
    return [row["reference"] for row in csv.DictReader(io.StringIO(result.stdout))]


def test_sample_is_reproducible_with_its_seed_and_logged(force: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    first = drawn(force, "--size", "4", "--seed", "123")
    assert len(first) == 4 and all(ref.startswith("CR/") for ref in first)
    assert drawn(force, "--size", "4", "--seed", "123") == first
    entries = log_entries(sql, "sample")
    assert len(entries) == 2
    assert entries[0]["detail"] == {
        "team": "Lewisham CID",
        "size": 4,
        "seed": 123,
        "from": 12,
        "crimes": first,
    }

    unseeded = force("sample", "--team", "lewisham cid", "--size", "3")
    assert unseeded.exit_code == 0, unseeded.output
    seed = log_entries(sql, "sample")[-1]["detail"]["seed"]
    assert f"--seed {seed}' draws them again" in unseeded.stderr
    assert (
        drawn(force, "--size", "3", "--seed", str(seed))
        == (log_entries(sql, "sample")[-2]["detail"]["crimes"])
    )

    everything = force("sample", "--team", "Lewisham CID", "--size", "50", "--seed", "1")
    assert everything.exit_code == 0
    assert "the team has only 12 live crimes" in everything.stderr


def test_sample_refuses_bad_input_and_logs_nothing(force: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    assert force("sample", "--team", "Nowhere", "--size", "3").exit_code == 2
    assert force("sample", "--team", "Lewisham CID", "--size", "0").exit_code == 2
    assert force("sample", "--size", "3").exit_code == 2
    assert log_entries(sql, "sample") == []


def test_the_sample_favours_high_risk_crimes(force: Runner) -> None:
    for ref in ("CR/11", "CR/12"):
        assert force("crime", "risk", ref, "high", "--reason", "DASH high").exit_code == 0
    rows = csv.DictReader(
        io.StringIO(
            force(
                "sample", "--team", "Lewisham CID", "--size", "12", "--seed", "5", "-f", "csv"
            ).stdout
        )
    )
    assert {row["reference"]: row["risk"] for row in rows}["CR/11"] == "high"
    counted: Counter[str] = Counter()
    for seed in range(1, 21):
        counted.update(drawn(force, "--size", "2", "--seed", str(seed)))
    assert counted["CR/11"] + counted["CR/12"] > 10  # chance alone: about 7 of 40


def test_review_records_a_quality_result(force: Runner, sql) -> None:  # type: ignore[no-untyped-def]
    done = force("review", "CR/1", "--quality", "Advice", "--note", "Consider CCTV")
    assert done.exit_code == 0, done.output
    assert "Recorded a quality review (advice) of CR/1" in done.stderr
    assert sql("SELECT quality, note FROM review") == [("advice", "Consider CCTV")]
    assert log_entries(sql, "review")[0]["detail"]["quality"] == "advice"
    shown = json.loads(force("crime", "show", "CR/1", "--format", "json").stdout)
    assert shown["reviews"][0]["quality"] == "advice"

    bad = force("review", "CR/1", "--quality", "great", "--note", "x")
    assert bad.exit_code == 2
    assert "not a quality result (pass, advice or fail)" in bad.stderr
    plain = force("review", "CR/2", "--note", "Routine")
    assert plain.exit_code == 0
    assert sql("SELECT quality FROM review ORDER BY id") == [("advice",), (None,)]
