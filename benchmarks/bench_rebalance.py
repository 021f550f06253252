"""How long a rebalance plan takes for one large team, and how it grows.

    python benchmarks/bench_rebalance.py [--officers 2000] [--crimes 60000] [--reps 3]
                                         [--no-store] [--keep DIR]

1. Planning in memory (``domain.planning.plan_rebalance``) for a synthetic team of
   2,000 officers holding 60,000 live crimes, shaped to need every step: officers on
   leave, abstracted and left; inexperienced officers over the limit; officers past
   their capacity; accreditation mismatches; uneven loads; enhanced-service victims
   and churned crimes. Then the same at 15,000 and 30,000 crimes (officers scaled
   alike) to show the growth: time / (n log n) should stay roughly flat.
2. Unless ``--no-store``: the same team written to a SQLite store, then the figure a
   supervisor sees: ``plan_for`` (one query each for officers and crimes, plus links,
   then planning) in-process, and the whole ``caseload rebalance --team T --format json``
   command as a fresh process (wall time, start-up included).

Figures are medians of ``--reps`` runs, printed to stdout: CPU seconds (steady on a
shared machine) beside wall seconds. Target: under 2 s.
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from caseload.domain.levels import RANK
from caseload.domain.planning import LiveCrime, OfficerLoad, Plan, plan_rebalance
from caseload.domain.policy import Policy

POLICY = Policy()
TEAM = "Benchmark Team"
LEVELS = ["PIP1"] * 14 + ["PIP2"] * 5 + ["PIP3"]


def synthetic(
    officers: int, crimes: int, *, messy: bool = False, seed: int = 7
) -> tuple[list[OfficerLoad], list[LiveCrime]]:
    """A deterministic team with some of everything a plan must fix.

    Typical: loads vary around the mean (log-normal), 5% of officers unavailable,
    15% inexperienced, 1% of crimes above their holder's accreditation. Messy
    (``--messy``): Pareto-skewed loads, 8% unavailable, 20% inexperienced, 2% mismatched.
    """
    rnd = random.Random(seed)
    unavailable = [92, 5, 2, 1] if messy else [95, 3, 1.5, 0.5]
    staff: list[OfficerLoad] = []
    for oid in range(1, officers + 1):
        staff.append(
            OfficerLoad(
                id=oid,
                collar=f"BM{oid:05d}",
                name=f"Officer {oid}",
                team_id=1,
                team=TEAM,
                accreditation=rnd.choices(["PIP1", "PIP2", "PIP3"], [55, 35, 10])[0],
                status=rnd.choices(["active", "leave", "abstracted", "left"], unavailable)[0],
                inexperienced=rnd.random() < (0.2 if messy else 0.15),
                experience_months=rnd.randint(0, 240),
                capacity=rnd.choice([None, None, None, 25, 30, 40] if messy else [None] * 5 + [40]),
            )
        )
    pull = [
        rnd.paretovariate(2.5) if messy else rnd.lognormvariate(0, 0.25) for _ in staff
    ]  # some officers attract more work than others
    pools: dict[tuple[str, bool], tuple[list[int], list[float]]] = {}
    for level in ("PIP1", "PIP2", "PIP3"):
        for exact in (True, False):
            ids = [
                o.id
                for o in staff
                if (o.accreditation == level if exact else RANK[o.accreditation] >= RANK[level])
            ]
            pools[(level, exact)] = (ids, list(itertools.accumulate(pull[i - 1] for i in ids)))
    start = datetime(2025, 1, 1)
    mismatch = 0.02 if messy else 0.01
    cases: list[LiveCrime] = []
    for cid in range(1, crimes + 1):
        level = rnd.choice(LEVELS)
        # Typical: most crimes go to officers accredited exactly for them.
        exact = not messy and rnd.random() < 0.85
        ids, cum = pools[(level, exact)] if rnd.random() > mismatch else pools[("PIP1", True)]
        holder = rnd.choices(ids, cum_weights=cum)[0]
        cases.append(
            LiveCrime(
                id=cid,
                reference=f"BM{cid:07d}",
                team_id=1,
                required_level=level,
                victim_enhanced=rnd.random() < 0.15,
                holder_id=holder,
                allocated_at=start + timedelta(minutes=rnd.randint(0, 525_600)),
                reassignments=rnd.choices([0, 1, 2, 6], [85, 10, 4, 1])[0],
            )
        )
    live: Counter[int] = Counter()
    weight: Counter[int] = Counter()
    for c in cases:
        live[c.holder_id] += 1  # type: ignore[index]
        weight[c.holder_id] += POLICY.weight(c.required_level)  # type: ignore[index]
    staff = [replace(o, live=live[o.id], weighted_load=weight[o.id]) for o in staff]
    return staff, cases


def median_time(fn, reps: int) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    """Median wall seconds and median CPU seconds of ``reps`` runs, and the last result.

    CPU time is the steadier figure on a shared machine: wall time also counts the
    time other processes held the cores."""
    walls, cpus, result = [], [], None
    for _ in range(reps):
        began, began_cpu = time.perf_counter(), time.process_time()
        result = fn()
        cpus.append(time.process_time() - began_cpu)
        walls.append(time.perf_counter() - began)
    return statistics.median(walls), statistics.median(cpus), result


def describe(plan: Plan) -> str:
    steps = Counter(m.step for m in plan.moves)
    gap = next(iter(plan.gaps.values()), (0, 0))
    return (
        f"{len(plan.moves):,} moves (re-home {steps[1]:,}, limit {steps[2]:,}, "
        f"accreditation {steps[3]:,}, even {steps[4]:,}); gap {gap[0]} -> {gap[1]}; "
        f"{len(plan.remaining):,} remaining; missing {plan.missing_by_level or 'none'}"
    )


def in_memory(officers: int, crimes: int, reps: int, messy: bool) -> None:
    print(f"Planning in memory (median of {reps})")
    print(
        f"{'officers':>9} {'crimes':>8} {'CPU s':>7} {'wall s':>7} {'us/crime':>9} "
        f"{'CPU s/(n log2 n) x1e6':>22}"
    )
    rows = []
    for fraction in (0.25, 0.5, 1.0):
        n_off, n_crimes = round(officers * fraction), round(crimes * fraction)
        staff, cases = synthetic(n_off, n_crimes, messy=messy)
        wall, cpu, plan = median_time(lambda s=staff, c=cases: plan_rebalance(s, c, POLICY), reps)
        per = cpu / (n_crimes * math.log2(n_crimes)) * 1e6
        rows.append((n_off, n_crimes, cpu, plan))
        print(
            f"{n_off:>9,} {n_crimes:>8,} {cpu:>7.3f} {wall:>7.3f} "
            f"{cpu / n_crimes * 1e6:>9.1f} {per:>22.3f}"
        )
    (_, small_c, small_s, _), (_, big_c, big_s, big_plan) = rows[0], rows[-1]
    ratio = big_c / small_c
    print(
        f"growth {small_c:,} -> {big_c:,} crimes (x{ratio:g}): CPU time x{big_s / small_s:.2f} "
        f"(linear x{ratio:g}, n log n x{ratio * math.log2(big_c) / math.log2(small_c):.2f})"
    )
    print(f"plan at full size: {describe(big_plan)}")  # type: ignore[arg-type]


def build_store(path: Path, officers: int, crimes: int, messy: bool) -> str:
    """Write the synthetic team to a new SQLite store with Core bulk inserts."""
    from sqlalchemy import insert

    from caseload.store.migrate import init_store
    from caseload.store.models import allocation_table, crime_table, officer_table, team_table

    staff, cases = synthetic(officers, crimes, messy=messy)
    url = f"sqlite:///{path}"
    store, _ = init_store(url)
    today = date.today()
    with store.write() as conn:
        team_id = conn.execute(insert(team_table).values(name=TEAM)).inserted_primary_key[0]  # type: ignore[attr-defined]
        conn.execute(
            insert(officer_table),  # type: ignore[attr-defined]
            [
                {
                    "id": o.id,
                    "collar": o.collar,
                    "name": o.name,
                    "team_id": team_id,
                    "rank": "DC",
                    "accreditation": o.accreditation,
                    "investigator_since": today - timedelta(days=(o.experience_months + 25) * 31)
                    if not o.inexperienced
                    else today - timedelta(days=200),
                    "status": o.status,
                    "capacity": o.capacity,
                    "trainee": o.inexperienced,
                }
                for o in staff
            ],
        )
        conn.execute(
            insert(crime_table),  # type: ignore[attr-defined]
            [
                {
                    "id": c.id,
                    "reference": c.reference,
                    "crime_type": "Burglary",
                    "required_level": c.required_level,
                    "level_defaulted": False,
                    "reported_on": date(2025, 1, 1),
                    "team_id": team_id,
                    "victim_enhanced": c.victim_enhanced,
                    "holder_id": c.holder_id,
                    "created_at": datetime(2025, 1, 1),
                }
                for c in cases
            ],
        )
        intervals = []
        for c in cases:
            assert c.allocated_at is not None
            for k in range(c.reassignments, 0, -1):  # earlier, closed holdings
                intervals.append(
                    {
                        "crime_id": c.id,
                        "officer_id": c.holder_id,
                        "start_at": c.allocated_at - timedelta(days=k),
                        "end_at": c.allocated_at - timedelta(days=k - 1),
                        "actor": "bench",
                        "reason": "bench",
                    }
                )
            intervals.append(
                {
                    "crime_id": c.id,
                    "officer_id": c.holder_id,
                    "start_at": c.allocated_at,
                    "end_at": None,
                    "actor": "bench",
                    "reason": "bench",
                }
            )
        conn.execute(insert(allocation_table), intervals)  # type: ignore[attr-defined]
    store.dispose()
    return url


def with_store(officers: int, crimes: int, reps: int, keep: Path | None, messy: bool) -> None:
    from caseload.store.connection import Store
    from caseload.store.engine_queries import plan_for

    folder = keep or Path(tempfile.mkdtemp(prefix="bench-rebalance-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rebalance.db"
    if path.exists():
        path.unlink()
    began = time.perf_counter()
    url = build_store(path, officers, crimes, messy)
    print(
        f"\nStore: {officers:,} officers, {crimes:,} live crimes in {path} "
        f"(built in {time.perf_counter() - began:.1f} s)"
    )
    store = Store(url)

    def load_and_plan() -> Plan:
        with store.read() as conn:
            return plan_for(conn, TEAM)

    wall, cpu, plan = median_time(load_and_plan, reps)
    print(
        f"load (one query each) + plan, in-process: {cpu:.3f} s CPU, {wall:.3f} s wall"
        f"  -> {describe(plan)}"  # type: ignore[arg-type]
    )
    store.dispose()
    exe = [sys.executable, "-m", "caseload", "--db", str(path)]
    walls, cpus = [], []
    for _ in range(reps):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        done = subprocess.run(
            [*exe, "rebalance", "--team", TEAM, "--format", "json"],
            capture_output=True,
            text=True,
            check=False,
        )
        walls.append(time.perf_counter() - began)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(done.stderr)
    print(
        f"'caseload rebalance --team ... --format json', fresh process: "
        f"{statistics.median(cpus):.3f} s CPU, {statistics.median(walls):.3f} s wall "
        f"(median of {reps}; start-up and JSON output included)"
    )


def calibrate() -> float:
    began = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=2000)
    parser.add_argument("--crimes", type=int, default=60000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-store", action="store_true", help="only the in-memory planning")
    parser.add_argument("--keep", type=Path, help="write the store in this folder and keep it")
    parser.add_argument("--messy", action="store_true", help="a badly unbalanced team")
    args = parser.parse_args()
    print(
        f"Machine speed: a 10M-step Python loop takes {calibrate():.2f} s "
        "(about 0.4 s on an idle 2-core machine; figures scale with it)"
    )
    print(f"Team shape: {'messy' if args.messy else 'typical'}\n")
    in_memory(args.officers, args.crimes, args.reps, args.messy)
    if not args.no_store:
        with_store(args.officers, args.crimes, args.reps, args.keep, args.messy)


if __name__ == "__main__":
    main()
