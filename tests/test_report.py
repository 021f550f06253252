"""``caseload report morning``: the file it writes, its name and options, and figures that
equal the ``workload``, ``audit``, ``audit trend`` and ``team list`` JSON for the same store
and day. (The page as a browser shows it: tests/test_report_browser.py.)"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import Runner, caseload_exe
from tests.helpers.sample import RECORDED, TEAM, TODAY


def record_audits(run: Runner, team: str = TEAM, days: list[date] = RECORDED) -> None:
    for day in days:
        result = run("audit", "--team", team, "--as-of", day.isoformat(), "--record", "-f", "json")
        assert result.exit_code in (0, 1), result.output


@pytest.fixture
def sample(run: Runner) -> Runner:
    result = run("init", "--sample")
    assert result.exit_code == 0, result.output
    record_audits(run)
    return run


def as_json(run: Runner, *args: str) -> Any:
    result = run(*args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def check_figures(document: dict[str, Any], run: Runner, *extra: str) -> None:
    """The report's figures are the commands' figures (``extra``: e.g. --as-of DAY)."""
    workload = as_json(run, "workload", "--team", TEAM, *extra, "-f", "json")
    audit = as_json(run, "audit", "--team", TEAM, *extra, "-f", "json")
    assert document["team"] == TEAM and document["as_of"] == audit["as_of"]
    assert document["sections"] == [
        "headline",
        "load",
        "findings",
        "trend",
        "due",
        "absences",
        "compliance",
    ]

    officers = document["load"]["officers"]
    assert [o["collar"] for o in officers] == [w["collar"] for w in workload]
    for mine, theirs in zip(officers, workload, strict=True):
        for key in ("live", "weighted_load", "limit", "capacity", "inexperienced", "headroom"):
            assert mine[key] == theirs[key], (mine["collar"], key)
        ceilings = [v for v in (theirs["limit"], theirs["capacity"]) if v is not None]
        assert mine["ceiling"] == (min(ceilings) if ceilings else None)
        assert mine["over"] == bool({"over-limit", "over-capacity"} & set(theirs["flags"].split()))

    findings = document["findings"]
    assert findings["by_severity"] == audit["counts"]["by_severity"]
    assert {c["code"]: c["count"] for c in findings["codes"]} == audit["counts"]["by_code"]
    for c in findings["codes"]:
        theirs = [f for f in audit["findings"] if f["code"] == c["code"]][: findings["per_code"]]
        assert [(f["reference"], f["collar"], f["detail"]) for f in c["findings"]] == [
            (f["reference"], f["collar"], f["detail"]) for f in theirs
        ]

    tiles = {t["key"]: t for t in document["headline"]["tiles"]}
    by_code, by_severity = audit["counts"]["by_code"], audit["counts"]["by_severity"]
    assert tiles["unallocated"]["value"] == by_code["unallocated"]
    assert tiles["over_limit"]["value"] == (
        by_code["inexperienced-over-limit"] + by_code["over-capacity"]
    )
    assert tiles["high"]["value"] == by_severity["high"]


def test_json_figures_equal_workload_audit_and_trend(sample: Runner) -> None:
    document = as_json(sample, "report", "morning", "--team", TEAM, "-f", "json", "-o", "-")
    check_figures(document, sample)

    teams = {t["team"]: t for t in as_json(sample, "team", "list", "-f", "json")}
    tiles = {t["key"]: t for t in document["headline"]["tiles"]}
    assert tiles["live"]["value"] == teams[TEAM]["live"]
    assert tiles["live"]["note"] == f"{teams[TEAM]['unallocated']} with no holder"

    trend = as_json(sample, "audit", "trend", "--team", TEAM, "-f", "json")
    runs = document["trend"]["runs"]
    assert [r["as_of"] for r in runs] == [t["as_of"] for t in trend]
    assert [r["total"] for r in runs] == [t["total"] for t in trend]
    assert [r["by_code"]["unallocated"] for r in runs] == [t["unallocated"] for t in trend]
    # The headline compares with the latest audit recorded before the day.
    previous = trend[-1]
    assert document["headline"]["previous_audit"]["as_of"] == previous["as_of"]
    assert tiles["unallocated"]["previous"] == previous["unallocated"]
    assert tiles["unallocated"]["change"] == tiles["unallocated"]["value"] - previous["unallocated"]


def test_a_past_day_uses_that_days_figures_and_earlier_audits_only(sample: Runner) -> None:
    day = RECORDED[2]  # two audits were recorded before it, one on it, one after
    args = ("--as-of", day.isoformat())
    document = as_json(sample, "report", "morning", "--team", TEAM, *args, "-f", "json", "-o", "-")
    check_figures(document, sample, *args)
    assert [r["as_of"] for r in document["trend"]["runs"]] == [d.isoformat() for d in RECORDED[:3]]
    assert document["headline"]["previous_audit"]["as_of"] == RECORDED[1].isoformat()


@pytest.mark.sqlite_only
def test_default_name_never_overwrites_without_overwrite(
    sample: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = sample("report", "morning", "--team", "lewisham cid")
    assert result.exit_code == 0, result.output
    written = tmp_path / f"caseload-morning-lewisham-cid-{TODAY.isoformat()}.html"
    assert f"Wrote {written.name}" in result.stderr
    assert result.stdout == ""
    first = written.read_text(encoding="utf-8")
    assert first.startswith("<!doctype html>") and "Team Lewisham CID" in first
    assert stat.S_IMODE(written.stat().st_mode) & 0o044  # readable from a file share

    written.write_text("mine", encoding="utf-8")
    again = sample("report", "morning", "--team", TEAM)
    assert again.exit_code == 2
    assert again.stderr.startswith("Error: ") and "--overwrite" in again.stderr
    assert written.read_text(encoding="utf-8") == "mine"

    replaced = sample("report", "morning", "--team", TEAM, "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert written.read_text(encoding="utf-8").startswith("<!doctype html>")
    # no temporary file left beside it
    assert {p.name for p in tmp_path.iterdir()} == {"caseload.db", written.name}

    as_json_file = sample("report", "morning", "--team", TEAM, "-f", "json")
    assert as_json_file.exit_code == 0, as_json_file.output
    assert json.loads(written.with_suffix(".json").read_text())["team"] == TEAM

    whole = sample("report", "morning", "-o", "whole.html")
    assert whole.exit_code == 0, whole.output
    assert "Whole store" in (tmp_path / "whole.html").read_text(encoding="utf-8")
    named = sample("report", "morning", "--as-of", RECORDED[0].isoformat(), "-f", "json")
    assert named.exit_code == 0, named.output
    assert (tmp_path / f"caseload-morning-all-teams-{RECORDED[0].isoformat()}.json").is_file()


@pytest.mark.sqlite_only
def test_bad_usage_writes_nothing(
    sample: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    unknown = sample("report", "morning", "--team", "Lewisham CIDD")
    assert unknown.exit_code == 2
    assert "There is no team called 'Lewisham CIDD'" in unknown.stderr
    future = sample("report", "morning", "--as-of", (TODAY + timedelta(days=1)).isoformat())
    assert future.exit_code == 2 and "in the future" in future.stderr
    folder = sample("report", "morning", "-o", str(tmp_path / "nowhere" / "r.html"))
    assert folder.exit_code == 2 and "no folder" in folder.stderr
    stdout_open = sample("report", "morning", "-o", "-", "--open")
    assert stdout_open.exit_code == 2
    assert "Traceback" not in unknown.output + future.output + folder.output
    assert [p.name for p in tmp_path.iterdir()] == ["caseload.db"]  # the store only


@pytest.mark.sqlite_only
def test_html_is_self_contained(sample: Runner) -> None:
    result = sample("report", "morning", "--team", TEAM, "-o", "-")
    assert result.exit_code == 0, result.output
    page = result.stdout
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert not re.search(r"\b(src|href|srcset|action)\s*=", page)
    assert re.findall(r"url\(([^)]*)\)", page) and all(
        target.startswith("#") for target in re.findall(r"url\(([^)]*)\)", page)
    )
    assert "default-src 'none'" in page  # the browser is told to load nothing
    assert page.count("<svg") == 5  # load, findings, trend, due, compliance (no absence coming)


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_open_starts_the_browser_on_the_file(db_url: str, sample: Runner, tmp_path: Path) -> None:
    """``--open`` goes through ``webbrowser``, which runs $BROWSER with the file's URL."""
    seen = tmp_path / "opened.txt"
    browser = tmp_path / "fake-browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {seen}\n', encoding="utf-8")
    browser.chmod(0o755)
    out = tmp_path / "morning.html"
    env = {**os.environ, "CASELOAD_DB": db_url, "BROWSER": f"{browser} %s"}
    env.pop("DISPLAY", None)
    done = subprocess.run(
        [*caseload_exe(), "report", "morning", "--team", TEAM, "-o", str(out), "--open"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert seen.read_text(encoding="utf-8") == out.resolve().as_uri()


@pytest.mark.slow
def test_the_wheel_ships_the_templates(tmp_path: Path) -> None:
    from tests.helpers.cli import REPO

    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("caseload-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = REPO / "src" / "caseload" / "report" / "templates"
    for template in templates.iterdir():
        assert f"caseload/report/templates/{template.name}" in names


def test_an_empty_store_gets_a_page_that_says_so(store: Runner) -> None:
    result = store("report", "morning", "-o", "-")
    assert result.exit_code == 0, result.output
    page = result.stdout
    assert "Whole store" in page and "<svg" not in page  # nothing to draw
    assert "No findings." in page and "No audit recorded yet" in page
    document = as_json(store, "report", "morning", "-f", "json", "-o", "-")
    assert document["load"]["officers"] == [] and document["trend"]["runs"] == []
    assert [t["value"] for t in document["headline"]["tiles"]] == [0, 0, 0, 0]
    assert document["headline"]["previous_audit"] is None
    assert document["absences"]["absences"] == [] and document["absences"]["live"] == 0
    assert [r["due"] for r in document["compliance"]["rows"]] == [0, 0, 0, 0]
    assert document["due"]["total"] == 0 and document["due"]["listed"] == []
    assert "No absence in force" in page and "Nothing falls due" in page


def check_absences_and_compliance(document: dict[str, Any], run: Runner, day: date) -> None:
    """The absences coming equal ``officer absence list`` for the day and the week after,
    with each officer's live crimes as ``workload`` counts them; the compliance section
    equals ``report compliance`` for the 28 days to the day."""
    week = (day + timedelta(days=7)).isoformat()
    listed = as_json(
        run, "officer", "absence", "list", "--team", TEAM, "--from", day.isoformat(),
        "--to", week, "-f", "json",
    )  # fmt: skip
    mine = document["absences"]
    assert [a["id"] for a in mine["absences"]] == [a["id"] for a in listed]
    for a, theirs in zip(mine["absences"], listed, strict=True):
        for key in ("collar", "kind", "percent", "from", "to", "days", "state"):
            assert a[key] == theirs[key], (a["id"], key)
    workload = {w["collar"]: w["live"] for w in as_json(run, "workload", "-f", "json")}
    assert {a["collar"]: a["live"] for a in mine["absences"]} == {
        a["collar"]: workload.get(a["collar"], 0) for a in listed
    }
    assert mine["officers"] == len({a["collar"] for a in listed})

    start = (day - timedelta(days=27)).isoformat()
    theirs = as_json(
        run, "report", "compliance", "--from", start, "--to", day.isoformat(), "--team", TEAM,
        "-f", "json",
    )  # fmt: skip
    section = document["compliance"]
    assert section["from"] == start and section["to"] == day.isoformat()
    assert [{k: r[k] for k in theirs[0]} for r in section["rows"]] == theirs


def book_absences(run: Runner) -> None:
    """One Lewisham officer on leave from in three days, one on reduced duties since two
    days ago (in force), one on leave in a fortnight (not coming yet)."""
    for collar, start, extra in (
        ("XA1667", TODAY + timedelta(days=3), ["--to", (TODAY + timedelta(days=10)).isoformat()]),
        ("PG5019", TODAY - timedelta(days=2), ["--kind", "reduced", "--percent", "50"]),
        ("JF7817", TODAY + timedelta(days=14), []),
    ):
        kind = [] if "--kind" in extra else ["--kind", "leave"]
        args = ["--from", start.isoformat(), *kind, *extra, "-r", "test"]
        result = run("officer", "absence", "add", collar, *args)
        assert result.exit_code == 0, result.output


def test_absences_coming_and_compliance_equal_their_commands(sample: Runner) -> None:
    book_absences(sample)
    document = as_json(sample, "report", "morning", "--team", TEAM, "-f", "json", "-o", "-")
    check_absences_and_compliance(document, sample, TODAY)
    absences = document["absences"]
    assert [a["collar"] for a in absences["absences"]] == ["PG5019", "XA1667"]  # not JF7817
    assert [a["state"] for a in absences["absences"]] == ["in force", "planned"]
    assert absences["live"] == sum(a["live"] for a in absences["absences"]) > 0
    by_day = {d["day"]: (d["away"], d["reduced"]) for d in absences["by_day"]}
    assert len(by_day) == 8
    assert by_day[TODAY.isoformat()] == (0, 1)
    assert by_day[(TODAY + timedelta(days=3)).isoformat()] == (1, 1)
    assert any(r["due"] for r in document["compliance"]["rows"])

    page = sample("report", "morning", "--team", TEAM, "-o", "-").stdout
    assert page.count("<svg") == 6  # load, findings, trend, due, absences, compliance


def test_a_past_days_absences_and_compliance(sample: Runner) -> None:
    book_absences(sample)
    day = RECORDED[1]
    args = ("--as-of", day.isoformat())
    document = as_json(sample, "report", "morning", "--team", TEAM, *args, "-f", "json", "-o", "-")
    section = document["compliance"]
    start = (day - timedelta(days=27)).isoformat()
    theirs = as_json(
        sample, "report", "compliance", "--from", start, "--to", day.isoformat(), "--team", TEAM,
        "-f", "json",
    )  # fmt: skip
    assert [{k: r[k] for k in theirs[0]} for r in section["rows"]] == theirs
    # Five days ago the week ahead ran to two days ago: the reduced duties from then were
    # planned; the leave from in three days was not yet coming.
    coming = document["absences"]["absences"]
    assert [(a["collar"], a["state"]) for a in coming] == [("PG5019", "planned")]


def test_the_whole_store_shows_the_forces_compliance(sample: Runner) -> None:
    document = as_json(sample, "report", "morning", "-f", "json", "-o", "-")
    start = (TODAY - timedelta(days=27)).isoformat()
    theirs = as_json(
        sample, "report", "compliance", "--from", start, "--to", TODAY.isoformat(), "-f", "json"
    )
    force = [r for r in theirs if r["team"] == "All teams"]
    assert [{k: r[k] for k in force[0]} for r in document["compliance"]["rows"]] == force
    listed = as_json(
        sample, "officer", "absence", "list", "--from", TODAY.isoformat(),
        "--to", (TODAY + timedelta(days=7)).isoformat(), "-f", "json",
    )  # fmt: skip
    assert [a["id"] for a in document["absences"]["absences"]] == [a["id"] for a in listed]
    assert listed, "the sample force has an absence coming (Greenwich CID)"


@pytest.mark.parametrize("as_of", [None, RECORDED[0]])
def test_the_whole_stores_findings_equal_audit(sample: Runner, as_of: date | None) -> None:
    """The counts and the first findings of each code (one query a code: a count over the
    whole result, the first rows fetched) are the ``audit`` command's, for every team."""
    extra = () if as_of is None else ("--as-of", as_of.isoformat())
    book_absences(sample)  # holder-unavailable and absence-handover-due findings too
    document = as_json(sample, "report", "morning", *extra, "-f", "json", "-o", "-")
    audit = as_json(sample, "audit", *extra, "-f", "json")
    findings = document["findings"]
    assert {c["code"]: c["count"] for c in findings["codes"]} == audit["counts"]["by_code"]
    assert findings["by_severity"] == audit["counts"]["by_severity"]
    for c in findings["codes"]:
        theirs = [f for f in audit["findings"] if f["code"] == c["code"]][: findings["per_code"]]
        assert c["findings"] == theirs, c["code"]
    assert sum(c["count"] for c in findings["codes"]) == len(audit["findings"]) > 0


def check_due(document: dict[str, Any], run: Runner, *extra: str, team: str | None = TEAM) -> None:
    """The due section is ``caseload due --days 7`` for the same team and day: every row
    counted by day and kind (overdue apart), the first rows listed in its order."""
    scope = ("--team", team) if team else ()
    theirs = as_json(run, "due", *scope, "--days", "7", *extra, "-f", "json")
    mine = document["due"]
    assert mine["total"] == len(theirs) > 0
    assert mine["from"] == document["as_of"]
    assert mine["to"] == (date.fromisoformat(document["as_of"]) + timedelta(days=7)).isoformat()
    overdue: dict[str, int] = {}
    per_day: dict[tuple[str, str], int] = {}
    for row in theirs:
        if row["days_left"] < 0:
            overdue[row["kind"]] = overdue.get(row["kind"], 0) + 1
        else:
            key = (row["due_on"], row["kind"])
            per_day[key] = per_day.get(key, 0) + 1
    assert {k: n for k, n in mine["overdue"]["counts"].items() if n} == overdue
    assert mine["overdue"]["total"] == sum(overdue.values()) > 0
    assert {
        (d["day"], kind): n for d in mine["by_day"] for kind, n in d["counts"].items() if n
    } == per_day
    assert [d["day"] for d in mine["by_day"]] == [
        (date.fromisoformat(mine["from"]) + timedelta(days=n)).isoformat() for n in range(8)
    ]
    assert all(d["total"] == sum(d["counts"].values()) for d in mine["by_day"])
    assert set(mine["kinds"]) == {row["kind"] for row in theirs}
    # overdue first, as 'due' lists them; capped, with how many more
    keys = ("kind", "due_on", "days_left", "reference", "collar", "name", "action")
    assert mine["listed"] == [{k: row[k] for k in keys} for row in theirs[: len(mine["listed"])]]
    assert len(mine["listed"]) == min(25, len(theirs))
    assert mine["more"] == len(theirs) - len(mine["listed"])


def test_what_falls_due_equals_the_due_command(sample: Runner) -> None:
    book_absences(sample)  # an absence starting in the week: a duty of kind absence
    document = as_json(sample, "report", "morning", "--team", TEAM, "-f", "json", "-o", "-")
    check_due(document, sample)
    assert "absence" in document["due"]["kinds"]
    assert document["due"]["more"] > 0, "the sample team has more than 25 duties"

    page = sample("report", "morning", "--team", TEAM, "-o", "-").stdout
    section = page[page.index('id="due"') : page.index('id="absences"')]
    assert section.count("<svg") == 1 and 'data-table="due-days"' in section
    assert f"And {document['due']['more']} more" in section
    assert f'caseload due --team "{TEAM}" --days 7' in section
    assert f"{document['due']['overdue']['total']} overdue" in section


def test_what_falls_due_on_a_past_day_and_for_the_whole_store(sample: Runner) -> None:
    day = RECORDED[1].isoformat()
    past = as_json(
        sample, "report", "morning", "--team", TEAM, "--as-of", day, "-f", "json", "-o", "-"
    )
    check_due(past, sample, "--as-of", day)
    whole = as_json(sample, "report", "morning", "-f", "json", "-o", "-")
    check_due(whole, sample, team=None)
