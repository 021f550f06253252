"""caseload at force scale, beside what SQLite itself can do.

    python benchmarks/run.py [--officers N --crimes N | --scale S] [--reps 5] [--smoke]
                             [--workdir DIR] [--reuse] [--cases NAME,...] [--results FILE]
                             [--db postgresql://...] [--ab VARIANT,...]

1. Generates a synthetic force (``generate.py``; default 35,000 officers in 600
   teams, 1,000,000 crimes) and builds a store from it through ``caseload
   import``, timing ``import crimes`` into an empty store (the import case).
2. Runs each case as a user would, a fresh ``caseload`` process, beside its
   baseline in the same run, alternating, ``--reps`` times, and takes medians:
   the ``sqlite3`` shell running the equivalent SQL on the same store and writing
   the same rows, or, for start-up, a one-command Typer app that imports nothing
   else (``trivial_typer_app.py``). "work" is a command's wall time minus the
   median wall time of the same program doing nothing (``caseload --version``,
   ``sqlite3 -version``), so start-up is measured once, on its own.
   Every case that opens the store also runs beside the floor of the owner's stack
   (``floor_app.py``: Typer + SQLModel opening the store and counting its officers).
3. Measures each process's peak memory (its own ``ru_maxrss``, from ``wait4``).
4. Prints a table (case, caseload median, baseline median, ratio, target, peak
   memory, met?) and writes it to ``benchmarks/RESULTS.md`` with a description
   of the machine. Text under "## Notes" in that file is kept.

``--db URL`` runs the cases on a PostgreSQL database beside ``psql`` (its table goes
under "## PostgreSQL"); ``--ab VARIANT,...`` runs each case as it is and with one speed
trick taken out (``variants.py``), alternating, and only prints its table.

``--smoke`` runs everything at a tiny size once, in seconds, for CI: figures are
not asserted and RESULTS.md is not written. A case whose command does not exist
yet is reported as "not available"; the run fails (exit 1) only when a caseload
command that exists fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

TRIVIAL_APP = HERE / "trivial_typer_app.py"
FLOOR_APP = HERE / "floor_app.py"
VARIANTS = HERE / "variants.py"
SMOKE = {"officers": 400, "teams": 8, "crimes": 6_000}
BURST = 30  # simultaneous assigns (PostgreSQL) ...
BURST_CAP = 5  # ... to one trainee whose team's inexperienced limit is this (block mode)
BURST_TEAM = "Benchmark Burst Team"
BURST_LOGINS = ("caseload_bench_sup_a", "caseload_bench_sup_b")
LEVEL_WEIGHT_SQL = (
    "CASE required_level WHEN 'PIP2' THEN 2 WHEN 'PIP3' THEN 3 WHEN 'PIP4' THEN 4 ELSE 1 END"
)
LEVEL_RANK_SQL = (
    "CASE {col} WHEN 'none' THEN 0 WHEN 'PIP1' THEN 1 WHEN 'PIP2' THEN 2 "
    "WHEN 'PIP3' THEN 3 WHEN 'PIP4' THEN 4 ELSE 1 END"
)


# --- running one process ------------------------------------------------------------------


@dataclass
class Sample:
    wall: float
    peak_mb: float
    code: int
    error: str = ""
    cpu: float = 0.0  # user + system CPU seconds (its own, from wait4)


def run_process(
    argv: list[str],
    *,
    env: dict[str, str],
    stdout: Path | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
) -> Sample:
    """Run one process; its wall time, its own peak RSS and its exit code."""
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as inp:
        if stdin is not None:
            inp.write(stdin.encode())
            inp.seek(0)
        out = stdout.open("wb") if stdout is not None else subprocess.DEVNULL
        try:
            started = time.perf_counter()
            proc = subprocess.Popen(
                argv,
                stdin=inp if stdin is not None else subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                cwd=cwd,
            )
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if stdout is not None:
                out.close()  # type: ignore[union-attr]
        err.seek(0)
        lines = err.read().decode(errors="replace").strip().splitlines()
    # ru_maxrss is KiB on Linux, bytes on macOS
    peak = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    cpu = usage.ru_utime + usage.ru_stime
    return Sample(wall, peak, proc.returncode, lines[-1] if lines else "", cpu)


# --- cases -------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    caseload: list[str]  # arguments after "caseload"
    target: str
    limit: float  # the ratio (or seconds, for kind "seconds") that meets the target
    kind: str  # "total": wall/wall; "work": work/work; "seconds": wall under limit
    baseline: str  # "trivial", "sqlite", "caseload" or ""
    baseline_argv: list[str] = field(default_factory=list)
    baseline_sql: str | None = None
    baseline_pg: str | None = None  # the psql baseline's SQL, on PostgreSQL (``--db``)
    baseline_caseload: list[str] = field(default_factory=list)
    ok_codes: tuple[int, ...] = (0,)
    baseline_ok_codes: tuple[int, ...] = (0,)  # a caseload baseline's (audit: 0 or 1)
    peak_limit_mb: float | None = None
    output: str | None = None  # caseload's stdout goes to this file (in the work folder)
    alternate: list[list[str]] = field(default_factory=list)  # argv per rep, cycled
    requires: list[str] = field(default_factory=list)  # command path to check
    needs_store: bool = True  # needs the imported force (all but the start-up cases)
    baseline_label: str = ""  # what the table calls the baseline, if not its kind's name
    written: str | None = None  # a file the command writes (in the work folder) ...
    file_limit_mb: float | None = None  # ... which must be smaller than this
    burst: bool = False  # PostgreSQL: BURST ``assign`` processes at once (``run_burst``)


@dataclass
class Outcome:
    case: Case
    status: str = "ok"  # ok, not available, failed
    caseload: list[Sample] = field(default_factory=list)
    baseline: list[Sample] = field(default_factory=list)
    floor: list[Sample] = field(default_factory=list)
    variants: dict[str, list[Sample]] = field(default_factory=dict)  # --ab: variant -> runs
    note: str = ""
    caseload_value: float | None = None
    baseline_value: float | None = None
    ratio: float | None = None
    floor_ratio: float | None = None
    met: bool | None = None


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work: Path = args.workdir
        self.data = self.work / "data"
        self.store = self.work / "caseload.db"
        self.exe = self.find_caseload()
        self.python = self.find_python()
        self.sqlite = shutil.which("sqlite3")
        self.pg: str | None = args.db  # a PostgreSQL URL: the store is that database
        self.psql = shutil.which("psql") if self.pg else None
        self.env = {
            **os.environ,
            "CASELOAD_DB": self.pg or str(self.store),
            "CASELOAD_ACTOR": "benchmark",
            "NO_COLOR": "1",
            "COLUMNS": "120",
        }
        self.available: dict[tuple[str, ...], bool] = {}
        self.failures: list[str] = []
        self.manifest: dict[str, Any] = {}
        self.startup: dict[str, float] = {}
        self.outcomes: list[Outcome] = []

    @staticmethod
    def find_caseload() -> list[str]:
        beside = Path(sys.executable).parent / "caseload"
        if beside.exists():
            return [str(beside)]
        found = shutil.which("caseload")
        return [found] if found else [sys.executable, "-m", "caseload"]

    def find_python(self) -> str:
        """The interpreter caseload is installed in (for ``variants.py``)."""
        beside = Path(self.exe[0]).parent / "python" if self.exe[0] != sys.executable else None
        return str(beside) if beside is not None and beside.exists() else sys.executable

    def caseload(self, args: list[str], *, variant: str | None = None, **kw: Any) -> Sample:
        """A fresh ``caseload ARGS`` process; with ``variant``, through ``variants.py``
        (``as-is`` or one trick taken out)."""
        exe = self.exe if variant is None else [self.python, str(VARIANTS), variant]
        return run_process([*exe, *args], env=self.env, cwd=self.work, **kw)

    def floor(self) -> Sample:
        """The floor app (Typer + SQLModel counting the store's officers)."""
        return run_process([sys.executable, str(FLOOR_APP)], env=self.env, cwd=self.work)

    def has(self, command: list[str]) -> bool:
        """Whether ``caseload COMMAND --help`` works (the command exists in this version)."""
        key = tuple(command)
        if key not in self.available:
            sample = self.caseload([*command, "--help"])
            self.available[key] = sample.code == 0
        return self.available[key]

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    # --- building the store ------------------------------------------------------------

    def generate(self) -> None:
        manifest = self.data / "manifest.json"
        if self.args.reuse and manifest.is_file():
            self.manifest = json.loads(manifest.read_text())
            self.log(f"Reusing the generated force in {self.data}.")
            return
        started = time.perf_counter()
        self.manifest = generate.generate(
            self.data,
            officers=self.args.officers,
            teams=self.args.teams,
            crimes=self.args.crimes,
            seed=6,
            today=date.today(),
        )
        self.log(
            f"Generated {self.manifest['officers']:,} officers, {self.manifest['crimes']:,} "
            f"crimes in {time.perf_counter() - started:.1f} s."
        )

    def build(self) -> Outcome:
        """Build the store through caseload import; the import-crimes case is timed here."""
        case = Case(
            "import crimes (empty store)",
            ["import", "crimes", str(self.data / "crimes.csv")],
            "<= 3x psql COPY + indexes; < 150 MB"
            if self.pg
            else "<= 3x sqlite3 .import + indexes; < 150 MB",
            3.0,
            "total",
            "psql" if self.pg else "sqlite",
            peak_limit_mb=150,
            requires=["import", "crimes"],
        )
        outcome = Outcome(case)
        if self.pg:
            return self.build_pg(outcome)
        if self.args.reuse and self.store.is_file():
            outcome.status = "not measured"
            outcome.note = "--reuse: the store was built by an earlier run"
            self.log(f"Reusing the store {self.store}.")
            return outcome
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.store}{suffix}").unlink(missing_ok=True)
        init = self.caseload(["init"])
        if init.code != 0:
            self.failures.append(f"caseload init: {init.error}")
            outcome.status = "failed"
            outcome.note = init.error
            return outcome
        for kind in ("matrix", "officers"):
            if not self.has(["import", kind]):
                self.log(f"caseload import {kind}: not available")
                continue
            sample = self.caseload(["import", kind, str(self.data / f"{kind}.csv")])
            self.log(f"import {kind}: {sample.wall:.2f} s")
            if sample.code != 0:
                self.failures.append(f"caseload import {kind}: {sample.error}")
        if not self.has(["import", "crimes"]):
            outcome.status = "not available"
            return outcome
        # every repetition imports into a copy of the store as it stands before crimes
        empty = self.work / "before-crimes.db"
        shutil.copyfile(self.store, empty)
        script = self.import_sql()
        reps = max(1, self.args.import_reps)
        for rep in range(reps):
            target = self.work / f"import-{rep}.db"
            shutil.copyfile(empty, target)
            sample = run_process(
                [*self.exe, "--db", str(target), *case.caseload],
                env=self.env,
                cwd=self.work,
            )
            outcome.caseload.append(sample)
            self.log(f"import crimes: {sample.wall:.2f} s, {sample.peak_mb:.0f} MB")
            if sample.code != 0:
                outcome.status = "failed"
                outcome.note = sample.error
                self.failures.append(f"caseload import crimes: {sample.error}")
                return outcome
            if self.sqlite:
                base = self.work / "import-baseline.db"
                shutil.copyfile(empty, base)
                bs = run_process([self.sqlite, str(base)], env=self.env, stdin=script)
                outcome.baseline.append(bs)
                self.log(f"sqlite3 .import: {bs.wall:.2f} s")
                base.unlink()
                if bs.code != 0:
                    outcome.note = f"baseline failed: {bs.error}"
            if rep == reps - 1:
                for suffix in ("-wal", "-shm"):
                    Path(f"{target}{suffix}").unlink(missing_ok=True)
                target.replace(self.store)
            else:
                target.unlink()
        empty.unlink()
        self.import_others()
        return outcome

    def import_others(self) -> None:
        for kind in ("history", "reviews", "victim-updates", "events"):
            source = self.data / f"{kind}.csv"
            if not self.has(["import", kind]) or not source.is_file():
                self.log(f"caseload import {kind}: not available")
                continue
            sample = self.caseload(["import", kind, str(source)])
            self.log(f"import {kind}: {sample.wall:.2f} s")
            if sample.code != 0:
                self.failures.append(f"caseload import {kind}: {sample.error}")

    # --- PostgreSQL (--db URL) ---------------------------------------------------------

    def libpq(self, database: str | None = None) -> str:
        """The store's URL as psql takes it (no driver name); another database's with
        ``database``."""
        assert self.pg is not None
        url = re.sub(r"^postgresql\+\w+://", "postgresql://", self.pg)
        if database is not None:
            head, _, rest = url.partition("://")
            host, _, tail = rest.partition("/")
            query = tail.partition("?")[2]
            url = f"{head}://{host}/{database}" + (f"?{query}" if query else "")
        return url

    def database(self) -> str:
        return self.libpq().rsplit("/", 1)[1].split("?", 1)[0]

    def psql_run(
        self, script: str, *, database: str | None = None, stdout: Path | None = None
    ) -> Sample:
        """psql running ``script`` (stops at the first error)."""
        assert self.psql is not None
        return run_process(
            [self.psql, self.libpq(database), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"],
            env=self.env,
            stdin=script,
            stdout=stdout,
        )

    def psql_value(self, sql: str, *, database: str | None = None) -> str:
        assert self.psql is not None
        done = subprocess.run(
            [self.psql, self.libpq(database), "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True,
            text=True,
            env=self.env,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip() or f"psql exit {done.returncode}")
        return done.stdout.strip()

    def build_pg(self, outcome: Outcome) -> Outcome:
        """The store in the PostgreSQL database ``--db`` names, which must be empty (or,
        with ``--reuse``, hold the store an earlier run built). The import baseline runs in
        a copy of the store as it stands before crimes (``CREATE DATABASE ... TEMPLATE``,
        so the login needs CREATEDB), dropped afterwards."""
        if self.psql is None:
            outcome.status = "failed"
            outcome.note = "psql not found (apt install postgresql-client)"
            self.failures.append(outcome.note)
            return outcome
        tables = int(
            self.psql_value(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        )
        if tables and self.args.reuse:
            outcome.status = "not measured"
            outcome.note = "--reuse: the store was built by an earlier run"
            self.log(f"Reusing the store in {self.database()}.")
            return outcome
        if tables:
            outcome.status = "failed"
            outcome.note = f"the database {self.database()} is not empty (give --reuse)"
            self.failures.append(outcome.note)
            return outcome
        init = self.caseload(["init"])
        if init.code != 0:
            self.failures.append(f"caseload init: {init.error}")
            outcome.status = "failed"
            outcome.note = init.error
            return outcome
        for kind in ("matrix", "officers"):
            sample = self.caseload(["import", kind, str(self.data / f"{kind}.csv")])
            self.log(f"import {kind}: {sample.wall:.2f} s")
            if sample.code != 0:
                self.failures.append(f"caseload import {kind}: {sample.error}")
        name = self.database()
        copy = f"{name}_baseline"
        admin = "postgres"
        self.psql_value(f'DROP DATABASE IF EXISTS "{copy}"', database=admin)
        self.psql_value(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"', database=admin)
        try:
            sample = self.caseload(outcome.case.caseload)
            outcome.caseload.append(sample)
            self.log(f"import crimes: {sample.wall:.2f} s, {sample.peak_mb:.0f} MB")
            if sample.code != 0:
                outcome.status = "failed"
                outcome.note = sample.error
                self.failures.append(f"caseload import crimes: {sample.error}")
                return outcome
            base = self.psql_run(self.import_pg_sql(), database=copy)
            outcome.baseline.append(base)
            self.log(f"psql COPY: {base.wall:.2f} s")
            if base.code != 0:
                outcome.note = f"baseline failed: {base.error}"
        finally:
            self.psql_value(f'DROP DATABASE IF EXISTS "{copy}"', database=admin)
        self.import_others()
        return outcome

    def import_pg_sql(self) -> str:
        """psql loading crimes.csv into the same tables with COPY, indexes maintained."""
        import csv

        source = self.data / "crimes.csv"
        csv_path = str(source).replace("'", "''")
        # COPY needs every row to have the staging table's columns: the generator leaves
        # off a trailing empty optional column (risk), so the table has the rows' width.
        with source.open(newline="", encoding="utf-8") as f:
            head = csv.reader(f)
            names = next(head)
            width = len(next(head, names))
        staging = ", ".join(f'"{name}" text' for name in names[:width])
        return f"""
CREATE TEMP TABLE crime_csv ({staging});
\\copy crime_csv FROM '{csv_path}' WITH (FORMAT csv, HEADER true)
BEGIN;
INSERT INTO crime (reference, crime_type, required_level, level_defaulted, reported_on,
                   team_id, victim_enhanced, victim_category, holder_id, finalised_on, outcome,
                   created_at)
SELECT s.reference, s.crime_type,
       coalesce(nullif(s.required_level, ''), m.required_level, 'PIP1'),
       s.required_level = '' AND m.required_level IS NULL,
       s.reported_on::date, t.id, s.victim_enhanced = 'yes', nullif(s.victim_category, ''),
       o.id, nullif(s.finalised_on, '')::date, nullif(s.outcome, '')::integer, localtimestamp
FROM crime_csv s
JOIN team t ON t.name = s.team
LEFT JOIN officer o ON o.collar = s.holder
LEFT JOIN matrix_entry m ON m.type_key = lower(s.crime_type);
INSERT INTO allocation (crime_id, officer_id, start_at, actor, reason, warnings, auto)
SELECT c.id, c.holder_id, s.allocated_on::timestamp, 'benchmark', 'import', '', false
FROM crime_csv s JOIN crime c ON c.reference = s.reference
WHERE c.holder_id IS NOT NULL;
INSERT INTO finalisation (crime_id, finalised_on, outcome, actor)
SELECT c.id, c.finalised_on, c.outcome, 'benchmark' FROM crime c
WHERE c.finalised_on IS NOT NULL;
COMMIT;
"""

    def import_sql(self) -> str:
        """The sqlite3 shell loading crimes.csv into the same tables, indexes maintained."""
        csv_path = str(self.data / "crimes.csv").replace("'", "''")
        return f"""
.bail on
.import --csv '{csv_path}' crime_csv
BEGIN;
INSERT INTO crime (reference, crime_type, required_level, level_defaulted, reported_on,
                   team_id, victim_enhanced, holder_id, finalised_on, outcome, created_at)
SELECT s.reference, s.crime_type,
       coalesce(nullif(s.required_level, ''), m.required_level, 'PIP1'),
       s.required_level = '' AND m.required_level IS NULL,
       s.reported_on, t.id, s.victim_enhanced = 'yes', o.id,
       nullif(s.finalised_on, ''), nullif(s.outcome, ''), datetime('now', 'localtime')
FROM crime_csv s
JOIN team t ON t.name = s.team
LEFT JOIN officer o ON o.collar = s.holder
LEFT JOIN matrix_entry m ON m.type_key = lower(s.crime_type);
INSERT INTO allocation (crime_id, officer_id, start_at, actor, reason, warnings, auto)
SELECT c.id, c.holder_id, s.allocated_on || ' 00:00:00.000000', 'benchmark', 'import', '', 0
FROM crime_csv s JOIN crime c ON c.reference = s.reference
WHERE c.holder_id IS NOT NULL;
INSERT INTO finalisation (crime_id, finalised_on, outcome, actor)
SELECT c.id, c.finalised_on, c.outcome, 'benchmark' FROM crime c
WHERE c.finalised_on IS NOT NULL;
COMMIT;
DROP TABLE crime_csv;
"""

    # --- the cases ---------------------------------------------------------------------

    def cases(self) -> list[Case]:
        m = self.manifest
        officer = m.get("officer", "AA00001")
        other = m.get("other_officer", officer)
        crime = m.get("assign_crime", {}).get("reference", "CR0000001/26")
        hub = m.get("hub_team", "Central Volume Crime Hub")
        today = date.fromisoformat(m.get("today", date.today().isoformat()))
        as_of = (today - timedelta(days=30)).isoformat()
        year_ago = (today - timedelta(days=364)).isoformat()
        trivial = [sys.executable, str(TRIVIAL_APP)]
        # assign alternates between the two officers, first to whichever does not hold it
        first, second = (officer, other) if self.store_holder(crime) == other else (other, officer)
        shell = "psql" if self.pg else "sqlite3"
        copy_to = "\\copy" if self.pg else "-csv"
        cases = [
            Case("--help", ["--help"], "<= 1.3x trivial Typer app", 1.3, "total", "trivial",
                 [*trivial, "--help"], needs_store=False),
            Case("--version", ["--version"], "<= 1.3x trivial Typer app", 1.3, "total",
                 "trivial", [*trivial, "--version"], needs_store=False),
            Case(f"workload --officer {officer}", ["workload", "--officer", officer],
                 "<= 1.5x trivial app, total wall", 1.5, "total", "trivial",
                 [*trivial, "world"], requires=["workload"]),
            Case("assign (transfer)", [], "<= 1.5x trivial app, total wall", 1.5, "total",
                 "trivial", [*trivial, "world"], requires=["assign"],
                 alternate=[["assign", crime, o, "--reason", "benchmark transfer"]
                            for o in (first, second)]),
            Case(f"crime show {crime}", ["crime", "show", crime],
                 "<= 1.5x trivial app, total wall", 1.5, "total", "trivial",
                 [*trivial, "world"], requires=["crime", "show"]),
            Case(f"officer show {officer}", ["officer", "show", officer],
                 "<= 1.5x trivial app, total wall", 1.5, "total", "trivial",
                 [*trivial, "world"], requires=["officer", "show"]),
            Case("workload --format csv (whole force)", ["workload", "--format", "csv"],
                 f"work <= 3x {shell}", 3.0, "work", "sqlite",
                 baseline_sql=self.workload_sql("sqlite"),
                 baseline_pg=self.pg_copy(self.workload_sql("postgresql")),
                 output="workload.csv", requires=["workload"]),
            Case("audit --format json", ["audit", "--format", "json"],
                 f"work <= 3x {shell} same checks", 3.0, "work", "sqlite",
                 baseline_sql=".mode json\n" + self.audit_sql("sqlite"),
                 baseline_pg=self.pg_copy(self.audit_sql("postgresql")),
                 ok_codes=(0, 1), output="audit.json", requires=["audit"]),
            Case("export crimes (all)", ["export", "crimes", "-o", "export.csv", "--overwrite"],
                 f"work <= 2.5x {shell} {copy_to}; < 150 MB", 2.5,
                 "work", "sqlite", baseline_sql=".headers on\n.mode csv\n" + self.export_sql(),
                 baseline_pg=self.pg_copy(self.export_sql("postgresql")), peak_limit_mb=150,
                 requires=["export", "crimes"]),
            Case(f"rebalance --team (hub: {m.get('hub_officers', 0):,} officers, "
                 f"{m.get('hub_live', 0):,} live)", ["rebalance", "--team", hub],
                 "< 2 s wall" if not self.pg else "< 3 s wall", 3.0 if self.pg else 2.0,
                 "seconds", "", requires=["rebalance"]),
            Case(f"report morning --team (hub: {m.get('hub_officers', 0):,} officers)",
                 ["report", "morning", "--team", hub, "-o", "morning.html", "--overwrite"],
                 "work <= 2x that team's workload; file < 2 MB", 2.0, "work", "caseload",
                 baseline_caseload=["workload", "--team", hub, "--format", "json"],
                 baseline_label="team's workload", written="morning.html", file_limit_mb=2.0,
                 requires=["report", "morning"]),
            Case("report compliance (a year) -f json",
                 ["report", "compliance", "--from", year_ago, "--to", today.isoformat(),
                  "--format", "json"],
                 "work <= 3x the audit's", 3.0, "work", "caseload",
                 baseline_caseload=["audit", "--format", "json"], baseline_label="audit",
                 baseline_ok_codes=(0, 1), output="compliance.json",
                 requires=["report", "compliance"]),
            Case("due --format csv (whole force)", ["due", "--format", "csv"],
                 "work <= 3x whole-force workload", 3.0, "work", "caseload",
                 baseline_caseload=["workload", "--format", "csv"],
                 baseline_label="whole-force workload", output="due.csv", requires=["due"]),
            Case(f"forecast --team (hub: {m.get('hub_officers', 0):,} officers) -f json",
                 ["forecast", "--team", hub, "--format", "json"],
                 "work <= 3x whole-force workload", 3.0, "work", "caseload",
                 baseline_caseload=["workload", "--format", "csv"],
                 baseline_label="whole-force workload", output="forecast.json",
                 requires=["forecast"]),
            Case(f"workload --as-of {as_of} --format csv",
                 ["workload", "--as-of", as_of, "--format", "csv"],
                 "work <= 3x current-day workload", 3.0, "work", "caseload",
                 baseline_caseload=["workload", "--format", "csv"], output="workload-asof.csv",
                 requires=["workload"]),
        ]  # fmt: skip
        if self.pg:  # start-up alone is the same on either database: measured on SQLite
            cases = [case for case in cases if case.needs_store]
            cases.append(
                Case(f"{BURST} simultaneous assigns, two supervisor logins (cap {BURST_CAP})",
                     [], f"exactly {BURST_CAP} made, the rest refused (wall: information)",
                     float("inf"), "seconds", "", requires=["access", "grant"], burst=True)
            )  # fmt: skip
        return cases

    def store_holder(self, reference: str) -> str | None:
        """The collar now holding a crime (read straight from the store), if any."""
        sql = (
            "SELECT o.collar FROM crime c JOIN officer o ON o.id = c.holder_id "
            "WHERE c.reference = ?"
        )
        if self.pg:
            try:
                found = self.psql_value(sql.replace("?", "'" + reference.replace("'", "''") + "'"))
            except RuntimeError:
                return None
            return found or None
        if not self.store.is_file():
            return None
        try:
            with sqlite3.connect(f"file:{self.store}?mode=ro", uri=True) as conn:
                row = conn.execute(sql, (reference,)).fetchone()
        except sqlite3.Error:
            return None
        return str(row[0]) if row else None

    @staticmethod
    def pg_copy(sql: str) -> str:
        """One query as psql's ``\\copy (query) TO STDOUT`` (which takes one line)."""
        one_line = " ".join(sql.split()).rstrip(";")
        return f"\\copy ({one_line}) TO STDOUT WITH (FORMAT csv, HEADER)\n"

    @staticmethod
    def dialect(name: str) -> dict[str, str]:
        """The few spellings that differ between SQLite and PostgreSQL in the baselines."""
        if name == "postgresql":
            return {
                "months_24": "current_date - interval '24 months'",
                "days_2": "current_date - 2",
                "days_28": "current_date - 28",
                "today": "current_date",
                "days_ahead_3": "current_date + 3",
                "victim_every": "current_date - coalesce(victim_update_every, 28)",
                "notify_by": "current_date - CASE WHEN lc.victim_enhanced THEN 1 ELSE 7 END",
                "least": "least",
                "pip1": "count(*) FILTER (WHERE required_level = 'PIP1')",
                "pip2": "count(*) FILTER (WHERE required_level = 'PIP2')",
                "pip3": "count(*) FILTER (WHERE required_level IN ('PIP3', 'PIP4'))",
            }
        return {
            "months_24": "date('now', '-24 months')",
            "days_2": "date('now', '-2 days')",
            "days_28": "date('now', '-28 days')",
            "today": "date('now')",
            "days_ahead_3": "date('now', '+3 days')",
            "victim_every": "date('now', '-' || coalesce(victim_update_every, 28) || ' days')",
            "notify_by": "date('now', CASE WHEN lc.victim_enhanced THEN '-1 days' "
            "ELSE '-7 days' END)",
            "least": "min",
            "pip1": "sum(required_level = 'PIP1')",
            "pip2": "sum(required_level = 'PIP2')",
            "pip3": "sum(required_level IN ('PIP3', 'PIP4'))",
        }

    @classmethod
    def workload_sql(cls, dialect: str) -> str:
        """The whole-force workload, one row per officer, as ``workload --format csv``."""
        rank = LEVEL_RANK_SQL
        d = cls.dialect(dialect)
        head = ".headers on\n.mode csv\n" if dialect == "sqlite" else ""
        return (
            head
            + f"""
WITH live AS (
  SELECT holder_id, count(*) AS live,
         {d["pip1"]} AS pip1, {d["pip2"]} AS pip2, {d["pip3"]} AS pip3,
         sum({LEVEL_WEIGHT_SQL}) AS weighted_load,
         max({rank.format(col="required_level")}) AS top_level
  FROM crime WHERE finalised_on IS NULL AND holder_id IS NOT NULL GROUP BY holder_id
), o AS (
  SELECT o.*, t.name AS team,
         (o.trainee OR o.investigator_since > {d["months_24"]}) AS inexperienced,
         coalesce(l.live, 0) AS live, coalesce(l.pip1, 0) AS pip1,
         coalesce(l.pip2, 0) AS pip2, coalesce(l.pip3, 0) AS pip3,
         coalesce(l.weighted_load, 0) AS weighted_load, l.top_level
  FROM officer o JOIN team t ON t.id = o.team_id LEFT JOIN live l ON l.holder_id = o.id
  WHERE o.status != 'left' OR l.live > 0
), w AS (
  SELECT *, CASE WHEN inexperienced THEN {d["least"]}(25, coalesce(capacity, 25))
                 ELSE capacity END AS lim FROM o
)
SELECT collar, name, team, rank, accreditation, status,
       CASE WHEN inexperienced THEN 'yes' ELSE 'no' END AS inexperienced, live,
       pip1, pip2, pip3, weighted_load, capacity, lim AS "limit", lim - live AS headroom,
       trim((CASE WHEN lim IS NOT NULL AND live > lim THEN 'over-limit ' ELSE '' END) ||
            (CASE WHEN top_level > {rank.format(col="accreditation")} THEN 'mismatch ' ELSE ''
             END) ||
            (CASE WHEN status != 'active' AND live > 0 THEN 'unavailable' ELSE '' END)) AS flags
FROM w ORDER BY (lim IS NULL), lim - live, weighted_load DESC, collar;
"""
        )

    @staticmethod
    def export_sql(dialect: str = "sqlite") -> str:
        """The crimes export's rows; on PostgreSQL every column the export writes (its
        victim_category and risk too), so that ``\\copy`` writes the same rows."""
        more = ", c.victim_category, c.risk" if dialect == "postgresql" else ""
        return f"""
SELECT c.reference, c.crime_type, c.reported_on, t.name AS team, c.required_level,
       o.collar AS holder, CASE WHEN c.victim_enhanced THEN 'yes' ELSE 'no' END AS
       victim_enhanced, c.finalised_on, c.outcome{more}
FROM crime c JOIN team t ON t.id = c.team_id LEFT JOIN officer o ON o.id = c.holder_id
ORDER BY c.id;
"""

    @classmethod
    def audit_sql(cls, dialect: str) -> str:
        """The audit's checks as SQL, one SELECT per finding code (every code), as one result.

        Working days are approximated as calendar days (5 working days ~ 7 days): the
        shell has no holiday calendar; the cost is in the joins, not the date sum.
        """
        rank = LEVEL_RANK_SQL
        d = cls.dialect(dialect)
        return f"""
WITH live AS (
  SELECT holder_id, count(*) AS live FROM crime
  WHERE finalised_on IS NULL AND holder_id IS NOT NULL GROUP BY holder_id
), ofc AS (
  SELECT o.*, t.name AS team, l.live,
         (o.trainee OR o.investigator_since > {d["months_24"]}) AS inexperienced
  FROM live l JOIN officer o ON o.id = l.holder_id JOIN team t ON t.id = o.team_id
), lc AS (
  SELECT c.*, t.name AS team, o.collar, o.accreditation
  FROM crime c JOIN team t ON t.id = c.team_id LEFT JOIN officer o ON o.id = c.holder_id
  WHERE c.finalised_on IS NULL
)
SELECT 'inexperienced-over-limit' AS code, 'high' AS severity, team, collar,
       CAST(NULL AS TEXT) AS reference, collar || ' holds ' || live || ' live crimes; limit 25'
       AS detail, CAST(NULL AS DATE) AS since
FROM ofc WHERE inexperienced AND live > 25
UNION ALL
SELECT 'over-capacity', 'medium', team, collar, NULL,
       collar || ' holds ' || live || '; capacity ' || capacity, NULL
FROM ofc WHERE capacity IS NOT NULL AND live > capacity
UNION ALL
SELECT 'holder-unavailable', 'high', team, collar, NULL,
       collar || ' is ' || status || ' holding ' || live, NULL
FROM ofc WHERE status != 'active'
UNION ALL
SELECT 'accreditation-mismatch', 'high', team, collar, reference,
       required_level || ' crime held by ' || accreditation, NULL
FROM lc WHERE collar IS NOT NULL
  AND {rank.format(col="required_level")} > {rank.format(col="accreditation")}
UNION ALL
SELECT 'unallocated', 'medium', team, NULL, reference, 'unallocated', reported_on
FROM lc WHERE holder_id IS NULL AND reported_on < {d["days_2"]}
UNION ALL
SELECT 'review-overdue', 'medium', team, collar, reference, 'no review since ' ||
       coalesce((SELECT max(r.reviewed_on) FROM review r WHERE r.crime_id = lc.id),
                reported_on), NULL
FROM lc WHERE coalesce((SELECT max(r.reviewed_on) FROM review r WHERE r.crime_id = lc.id),
                       reported_on) < {d["days_28"]}
UNION ALL
SELECT 'victim-update-overdue', 'medium', team, collar, reference, 'no victim update', NULL
FROM lc WHERE coalesce((SELECT max(v.updated_on) FROM victim_update v
                        WHERE v.crime_id = lc.id), reported_on)
              < {d["victim_every"]}
UNION ALL
SELECT 'victim-notify-overdue', 'high', lc.team, lc.collar, lc.reference,
       'victim not told of ' || e.kind, e.occurred_on
FROM lc JOIN key_event e ON e.crime_id = lc.id
WHERE e.occurred_on < {d["notify_by"]}
  AND NOT EXISTS (SELECT 1 FROM victim_update v WHERE v.crime_id = lc.id
                  AND v.updated_on >= e.occurred_on)
UNION ALL
SELECT 'allocated-while-absent', 'high', lc.team, lc.collar, lc.reference,
       'allocated while absent (' || ab.kind || ')', a.start_at
FROM lc JOIN allocation a ON a.crime_id = lc.id AND a.end_at IS NULL
JOIN absence ab ON ab.officer_id = lc.holder_id AND ab.cancelled_at IS NULL
  AND ab.kind != 'reduced' AND ab.starts_on <= a.start_at
  AND (ab.ends_on IS NULL OR ab.ends_on >= a.start_at)
UNION ALL
SELECT 'absence-handover-due', 'medium', o.team, o.collar, NULL,
       o.collar || ' is away from ' || ab.starts_on || ' holding ' || o.live, ab.starts_on
FROM absence ab JOIN ofc o ON o.id = ab.officer_id
WHERE ab.cancelled_at IS NULL AND ab.kind != 'reduced'
  AND ab.starts_on > {d["today"]} AND ab.starts_on <= {d["days_ahead_3"]}
UNION ALL
SELECT 'victim-referral-overdue', 'medium', team, collar, reference,
       'victim not referred', reported_on
FROM lc WHERE reported_on < {d["days_2"]}
  AND reported_on >= (SELECT start_on FROM duty_start WHERE duty = 'victim-referral')
  AND NOT EXISTS (SELECT 1 FROM victim_referral f WHERE f.crime_id = lc.id)
UNION ALL
SELECT 'reassign-churn', 'low', lc.team, lc.collar, lc.reference,
       'reassigned ' || (n - 1) || ' times', NULL
FROM (SELECT crime_id, count(*) AS n FROM allocation GROUP BY crime_id HAVING count(*) > 6) a
JOIN lc ON lc.id = a.crime_id;
"""

    def run_case(self, case: Case, built: bool) -> Outcome:
        outcome = Outcome(case)
        if case.requires and not self.has(case.requires):
            outcome.status = "not available"
            return outcome
        if case.needs_store and not built:
            outcome.status = "not available"
            outcome.note = "no store: import crimes did not run"
            return outcome
        if case.baseline == "sqlite" and not (self.psql if self.pg else self.sqlite):
            outcome.note = "psql not found" if self.pg else "sqlite3 shell not found"
        if case.burst:
            return self.run_burst(case, outcome)
        if self.args.ab:
            return self.run_variants(case, outcome)
        if case.needs_store:
            self.warm_store()
        reps = max(1, self.args.reps)
        for rep in range(reps):
            args = case.alternate[rep % len(case.alternate)] if case.alternate else case.caseload
            out = self.work / case.output if case.output else None
            sample = self.caseload(args, stdout=out)
            outcome.caseload.append(sample)
            if sample.code not in case.ok_codes:
                outcome.status = "failed"
                outcome.note = f"exit {sample.code}: {sample.error}"
                self.failures.append(f"caseload {' '.join(args)}: {outcome.note}")
                return outcome
            base = self.run_baseline(case)
            if base is not None:
                outcome.baseline.append(base)
                if base.code not in case.baseline_ok_codes:
                    outcome.note = f"baseline exit {base.code}: {base.error}"
            if case.needs_store:
                outcome.floor.append(self.floor())
        return outcome

    def run_burst(self, case: Case, outcome: Outcome) -> Outcome:
        """PostgreSQL, issue 21: ``BURST`` ``caseload assign`` processes started together,
        alternately as two supervisor logins granted one team (``caseload access``), each
        giving one unallocated crime to the same trainee, whose team's inexperienced limit
        is ``BURST_CAP`` in block mode. Exactly ``BURST_CAP`` must be made (exit 0) and
        the rest refused by policy (exit 3); the time is the wall time until the last
        process ends. Each repetition has a fresh trainee and fresh crimes (the setup is
        not timed). The logins are made if missing (``CREATE ROLE ... LOGIN``): the
        server must let them connect as the store's own login does (trust, or a
        ``.pgpass``)."""
        assert self.psql is not None
        owner = self.caseload
        try:
            for login in BURST_LOGINS:
                self.psql_value(
                    f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{login}') "
                    f"THEN CREATE ROLE {login} LOGIN; END IF; END $$"
                )
        except RuntimeError as exc:
            outcome.status = "failed"
            outcome.note = f"cannot make the logins: {exc}"
            return outcome
        setup = [["access", "setup"]]
        if self.psql_value(f"SELECT count(*) FROM team WHERE name = '{BURST_TEAM}'") != "1":
            setup.append(["team", "add", BURST_TEAM])
        setup += [
            ["access", "grant", login, "--role", "supervisor", "--team", BURST_TEAM]
            for login in BURST_LOGINS
        ]
        setup += [
            ["policy", "set", "limit_mode", "block", "--team", BURST_TEAM, "--reason", "burst"],
            ["policy", "set", "inexperienced_limit", str(BURST_CAP), "--team", BURST_TEAM,
             "--reason", "burst"],
        ]  # fmt: skip
        for args in setup:
            done = owner(args)
            if done.code != 0:
                outcome.status = "failed"
                outcome.note = f"caseload {' '.join(args)}: {done.error}"
                self.failures.append(outcome.note)
                return outcome
        stamp = f"{int(time.time()) % 100_000:05d}"
        since = (date.today() - timedelta(days=60)).isoformat()
        for rep in range(max(1, self.args.reps)):
            collar = f"BU{stamp}{rep:02d}"
            refs = [f"BURST/{stamp}/{rep}/{n:02d}" for n in range(BURST)]
            officers = self.work / "burst-officers.csv"
            officers.write_text(
                "collar,name,team,accreditation,investigator_since,trainee\n"
                f"{collar},Burst Trainee,{BURST_TEAM},PIP2,{since},yes\n"
            )
            crimes = self.work / "burst-crimes.csv"
            crimes.write_text(
                "reference,crime_type,reported_on,team\n"
                + "".join(
                    f"{ref},Burglary,{date.today().isoformat()},{BURST_TEAM}\n" for ref in refs
                )
            )
            for args in (["import", "officers", str(officers)], ["import", "crimes", str(crimes)]):
                done = owner(args)
                if done.code != 0:
                    outcome.status = "failed"
                    outcome.note = f"caseload {' '.join(args)}: {done.error}"
                    self.failures.append(outcome.note)
                    return outcome
            logins = [self.login_url(login) for login in BURST_LOGINS]
            sample, codes, errors = self.burst(
                [["--db", logins[n % 2], "assign", ref, collar, "--reason", "benchmark burst"]
                 for n, ref in enumerate(refs)]
            )  # fmt: skip
            outcome.caseload.append(sample)
            held = self.psql_value(
                "SELECT count(*) FROM crime c JOIN officer o ON o.id = c.holder_id "
                f"WHERE o.collar = '{collar}'"
            )
            made, refused = codes.count(0), codes.count(3)
            self.log(
                f"burst: {made} made, {refused} refused, {held} held, {sample.wall:.2f} s wall, "
                f"{sample.cpu:.1f} s CPU in all"
            )
            if (made, refused, held) != (BURST_CAP, BURST - BURST_CAP, str(BURST_CAP)):
                outcome.status = "failed"
                outcome.note = (
                    f"{made} made, {refused} refused, {held} held (want exactly {BURST_CAP}): "
                    + "; ".join(sorted(set(errors)))[:300]
                )
                self.failures.append(f"burst: {outcome.note}")
                return outcome
        outcome.note = f"{BURST_CAP} of {BURST} made, the rest refused, every repetition"
        return outcome

    def login_url(self, login: str) -> str:
        """The store's URL as another login (no password: see ``run_burst``)."""
        assert self.pg is not None
        head, _, rest = self.pg.partition("://")
        return f"{head}://{login}@{rest.rpartition('@')[2]}"

    def burst(self, argvs: list[list[str]]) -> tuple[Sample, list[int], list[str]]:
        """``caseload ARGS`` for every ARGS at once: the wall time until the last ends,
        the largest peak memory, summed CPU; and each one's exit code and last error line."""
        started = time.perf_counter()
        procs = [
            subprocess.Popen(
                [*self.exe, *argv],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=self.env,
                cwd=self.work,
            )
            for argv in argvs
        ]
        peak, cpu, codes, errors = 0.0, 0.0, [], []
        for proc in procs:
            assert proc.stderr is not None
            err = proc.stderr.read().decode(errors="replace").strip().splitlines()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            codes.append(proc.returncode)
            errors.append(err[-1] if err else "")
            peak = max(peak, usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024))
            cpu += usage.ru_utime + usage.ru_stime
        wall = time.perf_counter() - started
        failed = [code for code in codes if code not in (0, 3)]
        return Sample(wall, peak, failed[0] if failed else 0, "", cpu), codes, errors

    def run_variants(self, case: Case, outcome: Outcome) -> Outcome:
        """``--ab``: the case through ``variants.py``, as it is and with each trick taken
        out, alternating (the order turns each repetition), total wall times."""
        names = ["as-is", *self.args.ab]
        runs = 0
        for rep in range(max(1, self.args.reps)):
            turn = rep % len(names)
            for name in names[turn:] + names[:turn]:
                if case.alternate:
                    args = case.alternate[runs % len(case.alternate)]
                else:
                    args = case.caseload
                runs += 1
                out = self.work / case.output if case.output else None
                sample = self.caseload(args, variant=name, stdout=out)
                outcome.variants.setdefault(name, []).append(sample)
                if sample.code not in case.ok_codes:
                    outcome.status = "failed"
                    outcome.note = f"{name}: exit {sample.code}: {sample.error}"
                    self.failures.append(f"caseload {' '.join(args)}: {outcome.note}")
                    return outcome
        outcome.caseload = outcome.variants["as-is"]
        return outcome

    def warm_store(self) -> None:
        """Read the SQLite store's files once, so each case starts with them in the page
        cache for caseload and its baseline alike. This machine's memory reclaim drops
        pages left idle for a while; the first audit after an idle spell then took 93-116 s
        against 6-12 s for the next (reading the disk, not working)."""
        if self.pg:
            return
        for path in (self.store, self.store.with_name(self.store.name + "-wal")):
            if path.is_file():
                with path.open("rb") as f:
                    while f.read(1 << 22):
                        pass

    def run_baseline(self, case: Case) -> Sample | None:
        if case.baseline == "trivial":
            return run_process(case.baseline_argv, env=self.env, cwd=self.work)
        if case.baseline == "sqlite" and self.pg:
            if self.psql is None or not case.baseline_pg:
                return None
            return self.psql_run(case.baseline_pg, stdout=self.work / "baseline.out")
        if case.baseline == "sqlite" and self.sqlite and case.baseline_sql:
            return run_process(
                [self.sqlite, "-readonly", str(self.store)],
                env=self.env,
                stdin=case.baseline_sql,
                stdout=self.work / "baseline.out",
            )
        if case.baseline == "caseload":
            return self.caseload(case.baseline_caseload, stdout=self.work / "baseline.out")
        return None

    def measure_startup(self) -> None:
        """The do-nothing wall time of each program, to subtract from its work: for the
        shell, ``sqlite3 -version``, or psql connecting and running ``SELECT 1``."""
        caseload, shell = [], []
        for _ in range(max(3, self.args.reps)):
            caseload.append(self.caseload(["--version"]).wall)
            if self.pg and self.psql:
                shell.append(self.psql_run("SELECT 1;\n", stdout=self.work / "baseline.out").wall)
            elif self.sqlite and not self.pg:
                shell.append(run_process([self.sqlite, "-version"], env=self.env).wall)
        self.startup["caseload"] = statistics.median(caseload)
        self.startup["sqlite"] = statistics.median(shell) if shell else 0.0

    def score(self, outcome: Outcome) -> None:
        case = outcome.case
        if outcome.status != "ok" or not outcome.caseload:
            return
        cl = statistics.median(s.wall for s in outcome.caseload)
        base = (
            statistics.median(s.wall for s in outcome.baseline)
            if outcome.baseline and all(s.code in case.baseline_ok_codes for s in outcome.baseline)
            else None
        )
        if case.kind == "work":
            cl -= self.startup["caseload"]
            if base is not None:
                base -= self.startup["caseload" if case.baseline == "caseload" else "sqlite"]
        outcome.caseload_value = cl
        outcome.baseline_value = base
        if outcome.floor and all(s.code == 0 for s in outcome.floor):
            total = statistics.median(s.wall for s in outcome.caseload)
            outcome.floor_ratio = total / statistics.median(s.wall for s in outcome.floor)
        if case.kind == "seconds":
            outcome.met = cl < case.limit
        elif base is not None and base > 0:
            outcome.ratio = cl / base
            outcome.met = outcome.ratio <= case.limit
        peak = max(s.peak_mb for s in outcome.caseload)
        if case.peak_limit_mb is not None and peak >= case.peak_limit_mb:
            outcome.met = False
        if case.written:
            written = self.work / case.written
            size = written.stat().st_size / 1e6 if written.is_file() else 0.0
            outcome.note = f"file {size:.2f} MB"
            if case.file_limit_mb is not None and not 0 < size < case.file_limit_mb:
                outcome.met = False

    # --- the whole run -----------------------------------------------------------------

    def compile_bytecode(self) -> None:
        """Write caseload's bytecode, as ``pip install`` does. An editable install run
        under PYTHONDONTWRITEBYTECODE (common in containers and CI) would otherwise
        compile every module from source in every process, which no installed copy does;
        the trivial app's Typer comes precompiled, so this keeps the comparison fair."""
        code = (
            "import caseload, compileall, pathlib; "
            "compileall.compile_dir(pathlib.Path(caseload.__file__).parent, quiet=1)"
        )
        python = Path(self.exe[0]).parent / "python" if self.exe[0] != sys.executable else None
        interpreter = str(python) if python and python.exists() else sys.executable
        subprocess.run([interpreter, "-c", code], env=self.env, check=False, capture_output=True)

    def run(self) -> int:
        self.work.mkdir(parents=True, exist_ok=True)
        self.compile_bytecode()
        self.generate()
        wanted = set(self.args.cases.split(",")) if self.args.cases else None
        build = self.build()
        if self.pg or self.store.is_file():  # a reused store at this version's schema
            self.caseload(["init"])
        self.measure_startup()
        self.log(
            f"start-up: caseload --version {self.startup['caseload']:.3f} s, "
            f"{'psql SELECT 1' if self.pg else 'sqlite3 -version'} {self.startup['sqlite']:.3f} s"
        )
        outcomes = []
        for case in self.cases():
            if wanted and not any(w in case.name for w in wanted):
                continue
            self.log(f"case: {case.name}")
            outcomes.append(self.run_case(case, build.status in ("ok", "not measured")))
        if not self.args.ab:
            outcomes.insert(min(2, len(outcomes)), build)
        for outcome in outcomes:
            self.score(outcome)
        self.outcomes = outcomes
        table = self.table()
        print(table)
        if self.args.results:
            self.write_results(table)
            self.log(f"Wrote {self.args.results}.")
        if self.failures:
            self.log("Failed:\n  " + "\n  ".join(self.failures))
            return 1
        return 0

    def table(self) -> str:
        if self.args.ab:
            return self.ab_table()
        head = ["case", "caseload", "baseline", "ratio", "target", "vs floor", "peak MB", "met?"]
        rows = []
        for o in self.outcomes:
            base_name = {
                "trivial": "trivial app",
                "sqlite": "psql" if self.pg else "sqlite3",
                "psql": "psql",
                "caseload": "current-day",
            }.get(o.case.baseline, "")
            base_name = o.case.baseline_label or base_name
            if o.status != "ok":
                met = o.status + (f" ({o.note})" if o.note else "")
                rows.append([o.case.name, "", "", "", o.case.target, "", "", met])
                continue
            value = "" if o.caseload_value is None else f"{o.caseload_value:.3f} s"
            if o.case.kind == "work" and value:
                value += " work"
            base = (
                f"{o.baseline_value:.3f} s ({base_name})"
                if o.baseline_value is not None
                else (o.note or "")
            )
            ratio = "" if o.ratio is None else f"{o.ratio:.2f}x"
            floor = "" if o.floor_ratio is None else f"{o.floor_ratio:.2f}x"
            peak = f"{max(s.peak_mb for s in o.caseload):.0f}"
            met = "" if o.met is None else ("yes" if o.met else "NO")
            if o.case.written and o.note:
                met += f" ({o.note})"
            rows.append([o.case.name, value, base, ratio, o.case.target, floor, peak, met])
        return markdown([head, *rows])

    def ab_table(self) -> str:
        """``--ab``: each case's median total wall time as it is and with each trick taken
        out, with its ratio to as-is (1.25x: the command takes a quarter longer without
        the trick), then the same ratio of median CPU time (user + system: much less
        disturbed than wall time when other work shares the machine)."""
        names = ["as-is", *self.args.ab]
        rows = []
        for o in self.outcomes:
            if not o.variants:
                rows.append([o.case.name, *([""] * len(names)), o.status + " " + o.note])
                continue
            ref = statistics.median(s.wall for s in o.variants["as-is"])
            ref_cpu = statistics.median(s.cpu for s in o.variants["as-is"])
            cells = [f"{ref:.3f} s (cpu {ref_cpu:.3f} s)"]
            for name in names[1:]:
                runs = o.variants.get(name)
                if not runs:
                    cells.append("")
                    continue
                value = statistics.median(s.wall for s in runs)
                cpu = statistics.median(s.cpu for s in runs)
                cells.append(f"{value:.3f} s ({value / ref:.2f}x; cpu {cpu / ref_cpu:.2f}x)")
            rows.append([o.case.name, *cells, o.note])
        return markdown([["case", *names, "note"], *rows])

    def write_results(self, table: str) -> None:
        """The SQLite run's table at the top of the file, the PostgreSQL run's under
        "## PostgreSQL", and the notes under "## Notes": a run rewrites its own part."""
        path: Path = self.args.results
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        notes = text[text.index("\n## Notes") :] if "\n## Notes" in text else ""
        text = text[: len(text) - len(notes)]
        pg = text[text.index("\n## PostgreSQL") :] if "\n## PostgreSQL" in text else ""
        main = text[: len(text) - len(pg)]
        m = self.manifest
        detail = []
        for o in self.outcomes:
            if o.caseload:
                walls = ", ".join(f"{s.wall:.3f}" for s in o.caseload)
                detail.append(f"- {o.case.name}: caseload wall s [{walls}]")
            if o.baseline:
                walls = ", ".join(f"{s.wall:.3f}" for s in o.baseline)
                detail.append(f"  baseline wall s [{walls}]")
            if o.floor:
                walls = ", ".join(f"{s.wall:.3f}" for s in o.floor)
                detail.append(f"  floor wall s [{walls}]")
        size = (
            f"{self.args.scale:g} of the full size"
            if self.args.scale != 1.0
            else ("--smoke" if self.args.smoke else "full size")
        )
        command = "python benchmarks/run.py " + " ".join(self.args.argv)
        store = (
            f"database {self.database()}"
            if self.pg
            else f"store file {self.store.stat().st_size / 1e6 if self.store.exists() else 0:,.0f}"
            " MB"
        )
        shell_start = (
            f"psql connecting and running SELECT 1 {self.startup.get('sqlite', 0):.3f} s"
            if self.pg
            else f"sqlite3 -version {self.startup.get('sqlite', 0):.3f} s"
        )
        body = f"""Generated by `{command.strip()}` ({size},
{self.args.reps} repetitions, medians) on {datetime.now():%Y-%m-%d %H:%M}.

Machine: {machine()}

Store: {m.get("officers", 0):,} officers in {m.get("teams", 0):,} teams,
{m.get("crimes", 0):,} crimes ({m.get("live", 0):,} live, {m.get("held", 0):,} held),
{m.get("history_rows", 0):,} earlier allocation intervals; {store}.
Start-up subtracted from "work": caseload --version {self.startup.get("caseload", 0):.3f} s,
{shell_start}. "vs floor": the command's total wall time over the floor app's
(`floor_app.py`: Typer + SQLModel opening the same store and counting its officers), run
alternately with it.

{table}

Raw wall times:

{chr(10).join(detail)}
"""
        if self.pg:
            pg = f"\n## PostgreSQL\n\n{body}"
            main = main or "# caseload benchmark results\n"
        else:
            main = f"# caseload benchmark results\n\n{body}"
        path.write_text(main.rstrip("\n") + "\n" + pg.rstrip("\n") + "\n" + notes, encoding="utf-8")


def markdown(rows: list[list[str]]) -> str:
    head, *body = rows
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), sep, *(line(r) for r in body)])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        ram = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    shell = shutil.which("sqlite3")
    shell_version = ""
    if shell:
        done = subprocess.run([shell, "-version"], capture_output=True, text=True, check=False)
        shell_version = done.stdout.split(" ")[0]
    return (
        f"{cpu}, {os.cpu_count()} cores{ram}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version} (Python module), "
        f"{shell_version or 'no'} (sqlite3 shell)"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark caseload at force scale beside the sqlite3 shell.",
        epilog="See benchmarks/README.md for the cases and targets.",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="Multiply the default sizes.")
    parser.add_argument("--officers", type=int, help="Officers (default 35,000).")
    parser.add_argument("--crimes", type=int, help="Crimes (default 1,000,000).")
    parser.add_argument("--teams", type=int, help="Teams (default 600).")
    parser.add_argument("--reps", type=int, default=5, help="Repetitions per case (default 5).")
    parser.add_argument(
        "--import-reps", type=int, default=1, help="Repetitions of the import case (default 1)."
    )
    parser.add_argument("--smoke", action="store_true", help="Tiny size, once: for CI.")
    parser.add_argument("--workdir", type=Path, help="Where the data and store go (default: temp).")
    parser.add_argument(
        "--reuse", action="store_true", help="Reuse the data and store already in --workdir."
    )
    parser.add_argument("--cases", help="Only cases whose names contain one of these (a,b).")
    parser.add_argument(
        "--results", type=Path, help="Write the table here (default: benchmarks/RESULTS.md)."
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="Run the cases on this PostgreSQL database (empty, or with --reuse the store an "
        "earlier run built there) beside psql; its table goes under '## PostgreSQL'.",
    )
    parser.add_argument(
        "--ab",
        type=lambda text: [name for name in text.split(",") if name],
        default=[],
        metavar="VARIANT,...",
        help="A/B: run each case as it is and with each named trick taken out "
        "(benchmarks/variants.py), alternating; prints the table, writes no results.",
    )
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.db and not args.db.startswith("postgresql"):
        parser.error("--db takes a PostgreSQL URL (the SQLite store is made in --workdir)")
    if args.ab:
        import variants

        known = {*variants.VARIANTS, *variants.BEFORE_IMPORT}
        unknown = [n for v in args.ab for n in v.split("+") if n not in known]
        if unknown:
            parser.error(f"unknown variant {unknown[0]}; see benchmarks/variants.py")
    if args.smoke:
        args.officers = args.officers or SMOKE["officers"]
        args.teams = args.teams or SMOKE["teams"]
        args.crimes = args.crimes if args.crimes is not None else SMOKE["crimes"]
        args.reps = 1
    elif args.results is None and not args.ab:
        args.results = HERE / "RESULTS.md"
    args.officers = args.officers or max(1, round(generate.DEFAULT_OFFICERS * args.scale))
    args.crimes = (
        args.crimes if args.crimes is not None else round(generate.DEFAULT_CRIMES * args.scale)
    )
    args.teams = args.teams or max(2, round(generate.DEFAULT_TEAMS * min(1.0, args.scale * 4)))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cleanup: Callable[[], None] | None = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="caseload-bench-")
        args.workdir = Path(tmp.name)
        cleanup = tmp.cleanup
    try:
        return Bench(args).run()
    finally:
        if cleanup is not None:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
