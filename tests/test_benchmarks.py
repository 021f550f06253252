"""The benchmark suite cannot rot: the generator is deterministic and sound, run.py completes."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402

DAY = date(2026, 3, 2)
FILES = ("matrix", "officers", "crimes", "history", "reviews", "victim-updates", "events")


def _digest(folder: Path) -> dict[str, str]:
    return {
        name: hashlib.sha256((folder / f"{name}.csv").read_bytes()).hexdigest() for name in FILES
    }


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    sizes = {"officers": 120, "teams": 5, "crimes": 2_000, "today": DAY}
    one = generate.generate(tmp_path / "one", seed=1, **sizes)
    two = generate.generate(tmp_path / "two", seed=1, **sizes)
    three = generate.generate(tmp_path / "three", seed=2, **sizes)
    assert one == two
    assert _digest(tmp_path / "one") == _digest(tmp_path / "two")
    assert _digest(tmp_path / "one")["crimes"] != _digest(tmp_path / "three")["crimes"]
    assert three["crimes"] == 2_000


def test_the_force_has_the_promised_shape(tmp_path: Path) -> None:
    manifest = generate.generate(tmp_path, officers=200, teams=6, crimes=4_000, seed=3, today=DAY)
    officers = _rows(tmp_path / "officers.csv")
    crimes = _rows(tmp_path / "crimes.csv")
    assert len(officers) == 200 and len(crimes) == 4_000
    assert len({o["team"] for o in officers}) == 6
    assert len({o["collar"] for o in officers}) == 200
    assert len({c["reference"] for c in crimes}) == 4_000
    live = [c for c in crimes if not c["finalised_on"]]
    held = [c for c in live if c["holder"]]
    assert len(live) == 1_000 == manifest["live"]
    assert 0.9 <= len(held) / len(live) <= 0.99
    assert all(c["outcome"] for c in crimes if c["finalised_on"])
    # every holder is accredited for the crime, so an import in block mode accepts the file
    rank = {level: i for i, level in enumerate(generate.LEVELS)}
    level_of = {o["collar"]: o["accreditation"] for o in officers}
    matrix = {r["crime_type"]: r["required_level"] for r in _rows(tmp_path / "matrix.csv")}
    for crime in crimes:
        if crime["holder"]:
            required = crime["required_level"] or matrix[crime["crime_type"]]
            assert rank[level_of[crime["holder"]]] >= rank[required], crime
            assert crime["reported_on"] <= crime["allocated_on"] <= DAY.isoformat()
    # earlier holdings end no later than the current one began
    allocated = {c["reference"]: c["allocated_on"] for c in crimes}
    history = _rows(tmp_path / "history.csv")
    assert history
    for row in history:
        assert row["from"] <= row["to"] <= allocated[row["reference"]]
    # the hub team holds the largest share of live crimes (the rebalance case)
    hub_live = [c for c in live if c["team"] == manifest["hub_team"]]
    assert len(hub_live) == manifest["hub_live"] == round(1_000 * 60_000 / 250_000)
    assert sum(1 for o in officers if o["team"] == manifest["hub_team"]) == round(200 * 2 / 35)
    assert json.loads((tmp_path / "manifest.json").read_text())["officer"] == manifest["officer"]


@pytest.mark.slow
def test_smoke_run_completes_and_reports_every_case(tmp_path: Path) -> None:
    results = BENCH / "RESULTS.md"
    before = results.stat().st_mtime_ns if results.exists() else None
    result = subprocess.run(
        [
            sys.executable,
            str(BENCH / "run.py"),
            "--smoke",
            "--officers",
            "60",
            "--teams",
            "3",
            "--crimes",
            "600",
            "--workdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    table = result.stdout
    for case in ("--help", "--version", "import crimes", "workload", "audit", "export crimes"):
        assert f"| {case}" in table
    assert "rebalance" in table
    # a smoke run's figures mean nothing: they never replace the recorded results
    assert (results.stat().st_mtime_ns if results.exists() else None) == before


def _sample_store(tmp_path: Path) -> Path:
    from tests.helpers.cli import caseload_exe

    store = tmp_path / "sample.db"
    subprocess.run(
        [*caseload_exe(), "--db", str(store), "init", "--sample"],
        capture_output=True,
        check=True,
    )
    return store


@pytest.mark.slow
def test_the_floor_app_counts_the_stores_officers(tmp_path: Path) -> None:
    """The floor of the owner's stack really opens the store with SQLModel and reads it."""
    store = _sample_store(tmp_path)
    done = subprocess.run(
        [sys.executable, str(BENCH / "floor_app.py"), "--db", str(store)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "44 officers"  # the sample force


@pytest.mark.slow
def test_a_variant_takes_its_trick_out_and_changes_nothing_else(tmp_path: Path) -> None:
    """variants.py runs caseload as its script does, with the named trick undone: the usage
    line shows Typer's own {CRIME} without the metavar patch; without the lean registration
    the help is the same as with it."""
    store = _sample_store(tmp_path)

    def run(variant: str, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, str(BENCH / "variants.py"), variant, "--db", str(store), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    as_is = run("as-is", "assign", "--help")
    assert "Usage: caseload assign [OPTIONS] CRIME [OFFICER]" in as_is
    assert "{CRIME}" in run("no-metavar-patch", "assign", "--help")
    assert run("no-lean", "assign", "--help") == as_is
    assert run("no-lean+no-gc-pause+no-freeze", "--help") == run("as-is", "--help")
    workload = run("as-is", "workload", "-f", "csv")
    assert run("no-quick-executor+no-raw-rows", "workload", "-f", "csv") == workload
