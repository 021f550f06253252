"""A deterministic synthetic force, written as the CSV files ``caseload import`` reads.

    python benchmarks/generate.py OUT_DIR [--scale 1.0] [--officers N --crimes N]
                                  [--teams N] [--seed 6] [--today YYYY-MM-DD]

Writes, in OUT_DIR:

* ``matrix.csv``: crime_type, required_level (the 14 police.uk categories and
  some finer types).
* ``officers.csv``: collar, name, team, rank, accreditation, investigator_since,
  status, capacity, trainee.
* ``crimes.csv``: reference, crime_type, reported_on, team, required_level
  (blank for most: taken from the matrix), holder, victim_enhanced,
  victim_category (blank), finalised_on, outcome, allocated_on (the day the current holder got it).
* ``history.csv``: the allocation intervals before the current one (reference,
  holder, from, to, actor, reason): transfers, and a few crimes moved so often
  that they count as churn. The current holding of each crime is in crimes.csv.
* ``reviews.csv``, ``victim-updates.csv``, ``events.csv``: supervision records
  for live crimes (reference, on, actor, note / kind).
* ``manifest.json``: the sizes, the seed, the anchor day and the names the
  benchmark cases use (the large team, a one-officer collar, a crime to assign).

Default size (``--scale 1``): 35,000 officers in 600 teams and 1,000,000 crimes,
a quarter live and 95% of the live ones held. Team 1 is a large hub holding
2,000 officers and 60,000 live crimes (the rebalance case); the rest share the
remainder. The same arguments always give the same bytes (``--today`` fixes the
anchor day; it defaults to today). Rows are streamed to disk as they are made.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from caseload.domain.csvschema import CRIMES

DEFAULT_OFFICERS = 35_000
DEFAULT_TEAMS = 600
DEFAULT_CRIMES = 1_000_000
LIVE_SHARE = 0.25
HELD_SHARE = 0.95
HUB_OFFICERS = 2_000  # at the default size
HUB_LIVE = 60_000  # at the default size
INEXPERIENCED_LIMIT = 25
LEVELS = ("none", "PIP1", "PIP2", "PIP3", "PIP4")
LEVEL_RANK = {level: i for i, level in enumerate(LEVELS)}

# crime type, required level, relative frequency (police.uk categories first)
CRIME_TYPES: tuple[tuple[str, str, int], ...] = (
    ("Anti-social behaviour", "PIP1", 60),
    ("Bicycle theft", "PIP1", 15),
    ("Burglary", "PIP1", 45),
    ("Criminal damage and arson", "PIP1", 55),
    ("Drugs", "PIP1", 25),
    ("Other crime", "PIP1", 10),
    ("Other theft", "PIP1", 80),
    ("Possession of weapons", "PIP1", 8),
    ("Public order", "PIP1", 40),
    ("Robbery", "PIP2", 12),
    ("Shoplifting", "PIP1", 70),
    ("Theft from the person", "PIP1", 15),
    ("Vehicle crime", "PIP1", 45),
    ("Violence and sexual offences", "PIP1", 150),
    ("Rape", "PIP2", 6),
    ("Domestic abuse (high risk)", "PIP2", 10),
    ("Fraud over 100k", "PIP2", 3),
    ("Child sexual exploitation", "PIP2", 3),
    ("Kidnap", "PIP2", 1),
    ("Attempted murder", "PIP3", 1),
)
OUTCOMES = (1, 1, 1, 2, 3, 8, 8, 14, 14, 15, 16, 16, 18, 18, 18, 18, 20, 21)
EVENT_KINDS = ("arrested", "interviewed", "released-no-charge", "bailed", "charged", "nfa")
FIRST = [
    "Aisha",
    "Ben",
    "Chloe",
    "Dan",
    "Ella",
    "Femi",
    "Grace",
    "Harry",
    "Imran",
    "Jade",
    "Kofi",
    "Laura",
    "Mo",
    "Nadia",
    "Owen",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Vik",
    "Wendy",
    "Yusuf",
    "Zoe",
    "Amir",
    "Beth",
    "Callum",
    "Dev",
    "Erin",
]
LAST = [
    "Patel",
    "Smith",
    "Jones",
    "Khan",
    "Williams",
    "Brown",
    "Taylor",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Roberts",
    "Ahmed",
    "Okafor",
    "Walker",
    "Wright",
    "Hughes",
    "Green",
    "Lewis",
    "Hall",
    "Clarke",
    "Singh",
    "Murphy",
    "Price",
    "Begum",
    "Nowak",
    "Reid",
]
PLACES = [
    "Lewisham",
    "Croydon",
    "Camden",
    "Hackney",
    "Brent",
    "Ealing",
    "Barnet",
    "Enfield",
    "Harrow",
    "Sutton",
    "Merton",
    "Bexley",
    "Bromley",
    "Havering",
    "Hounslow",
    "Newham",
    "Redbridge",
    "Lambeth",
    "Southwark",
    "Islington",
    "Haringey",
    "Hillingdon",
    "Kingston",
    "Richmond",
    "Wandsworth",
    "Greenwich",
    "Tower",
    "Waltham",
    "Westminster",
    "Kensington",
]
UNITS = (
    "CID",
    "Volume Crime",
    "Safeguarding",
    "Neighbourhood",
    "Burglary Squad",
    "Robbery Squad",
    "Response",
    "Proactive",
    "Public Protection",
    "Economic Crime",
    "Vehicle Crime",
    "Custody Investigation",
    "Domestic Abuse",
    "Gangs",
    "Sexual Offences",
    "Case Progression",
    "Prisoner Handling",
    "Intelligence",
    "Hate Crime",
    "Online Harm",
)
RANKS = (("PC", 50), ("DC", 28), ("TDC", 8), ("PS", 8), ("DS", 5), ("DI", 1))


@dataclass
class Officer:
    collar: str
    team: int
    level: str
    inexperienced: bool
    status: str
    capacity: int | None
    live: int = 0


@dataclass
class Force:
    """What the crime generator needs to know about the officers."""

    team_names: list[str]
    officers: list[Officer]
    # per team, per required level: indexes of officers accredited for it
    eligible: list[dict[str, list[int]]] = field(default_factory=list)


def team_names(n: int) -> list[str]:
    names = ["Central Volume Crime Hub"]
    i = 0
    while len(names) < n:
        place = PLACES[i % len(PLACES)]
        unit = UNITS[(i // len(PLACES)) % len(UNITS)]
        lap = i // (len(PLACES) * len(UNITS))
        names.append(f"{place} {unit}" + (f" {lap + 1}" if lap else ""))
        i += 1
    return names


def weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    total = sum(w for _, w in table)
    pick = rng.random() * total
    for value, weight in table:
        pick -= weight
        if pick < 0:
            return value
    return table[-1][0]


def team_sizes(officers: int, teams: int, hub: int) -> list[int]:
    """Officers per team: the hub first, the rest spread evenly."""
    if teams == 1:
        return [officers]
    rest = officers - hub
    base, extra = divmod(rest, teams - 1)
    return [hub] + [base + (1 if i < extra else 0) for i in range(teams - 1)]


def write_officers(path: Path, rng: random.Random, officers: int, teams: int, today: date) -> Force:
    hub = max(1, round(officers * HUB_OFFICERS / DEFAULT_OFFICERS)) if teams > 1 else officers
    sizes = team_sizes(officers, teams, hub)
    names = team_names(teams)
    force = Force(team_names=names, officers=[])
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(
            [
                "collar",
                "name",
                "team",
                "rank",
                "accreditation",
                "investigator_since",
                "status",
                "capacity",
                "trainee",
            ]
        )
        n = 0
        for team, size in enumerate(sizes):
            for _ in range(size):
                n += 1
                collar = f"{chr(65 + n % 26)}{chr(65 + (n // 26) % 26)}{n:05d}"
                rank = weighted(rng, RANKS)
                trainee = rank == "TDC"
                if rank in ("DC", "DS"):
                    level = "PIP2"
                elif rank == "DI":
                    level = "PIP3" if rng.random() < 0.4 else "PIP2"
                elif rank == "PS":
                    level = "PIP2" if rng.random() < 0.4 else "PIP1"
                else:
                    level = "none" if rng.random() < 0.03 else "PIP1"
                # a sixth started investigating within the last two years
                months = (
                    rng.randint(1, 23) if trainee or rng.random() < 0.17 else rng.randint(25, 300)
                )
                since = today - timedelta(days=int(months * 30.44) + rng.randint(0, 20))
                inexperienced = trainee or months < 24
                roll = rng.random()
                status = (
                    "leave"
                    if roll < 0.05
                    else "abstracted"
                    if roll < 0.07
                    else "left"
                    if roll < 0.08
                    else "active"
                )
                capacity = rng.choice((12, 15, 20, 30)) if rng.random() < 0.1 else None
                out.writerow(
                    [
                        collar,
                        f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                        names[team],
                        rank,
                        level,
                        since.isoformat(),
                        status,
                        "" if capacity is None else capacity,
                        "yes" if trainee else "no",
                    ]
                )
                force.officers.append(Officer(collar, team, level, inexperienced, status, capacity))
    force.eligible = [{level: [] for level in LEVELS[1:]} for _ in range(teams)]
    for i, officer in enumerate(force.officers):
        if officer.status == "left":
            continue
        for level in LEVELS[1:]:
            if LEVEL_RANK[officer.level] >= LEVEL_RANK[level]:
                force.eligible[officer.team][level].append(i)
    return force


def write_matrix(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["crime_type", "required_level"])
        for name, level, _ in CRIME_TYPES:
            out.writerow([name, level])


class Writers:
    """The crime-side CSV files, opened together and streamed."""

    def __init__(self, folder: Path) -> None:
        self.files = {
            name: (folder / f"{name}.csv").open("w", newline="", encoding="utf-8")
            for name in ("crimes", "history", "reviews", "victim-updates", "events")
        }
        self.w = {name: csv.writer(fh, lineterminator="\n") for name, fh in self.files.items()}
        self.w["crimes"].writerow(CRIMES.names)
        self.w["history"].writerow(["reference", "holder", "from", "to", "actor", "reason"])
        self.w["reviews"].writerow(["reference", "on", "actor", "note"])
        self.w["victim-updates"].writerow(["reference", "on", "actor", "note"])
        self.w["events"].writerow(["reference", "kind", "on", "actor"])
        self.counts = dict.fromkeys(self.files, 0)

    def row(self, name: str, values: list[Any]) -> None:
        self.w[name].writerow(values)
        self.counts[name] += 1

    def close(self) -> None:
        for fh in self.files.values():
            fh.close()


def crime_team_plan(crimes: int, live: int, teams: int, hub_live: int) -> Iterator[int]:
    """Which team each live crime belongs to: the hub's share first, then round the rest."""
    del crimes
    for i in range(live):
        if teams == 1 or i < hub_live:
            yield 0
        else:
            yield 1 + (i - hub_live) % (teams - 1)


def pick_holder(
    rng: random.Random, force: Force, team: int, level: str, cap: int
) -> Officer | None:
    """An officer of the team accredited for ``level``; inexperienced ones kept to the limit."""
    pool = force.eligible[team].get(level) or []
    if not pool:
        return None
    for _ in range(4):
        officer = force.officers[pool[int(rng.random() * len(pool))]]
        limit = cap if not officer.inexperienced else INEXPERIENCED_LIMIT
        if officer.capacity is not None:
            limit = min(limit, officer.capacity)
        if officer.live < limit:
            return officer
    return None


def write_crimes(folder: Path, rng: random.Random, force: Force, crimes: int, today: date) -> dict:
    teams = len(force.team_names)
    live = round(crimes * LIVE_SHARE)
    hub_live = round(live * HUB_LIVE / (DEFAULT_CRIMES * LIVE_SHARE)) if teams > 1 else live
    type_names = [t[0] for t in CRIME_TYPES]
    type_levels = {t[0]: t[1] for t in CRIME_TYPES}
    type_weights = [t[2] for t in CRIME_TYPES]
    cum: list[int] = []
    acc = 0
    for w in type_weights:
        acc += w
        cum.append(acc)
    total_weight = acc
    officers_in_team = [0] * teams
    for officer in force.officers:
        officers_in_team[officer.team] += 1
    # a generous ceiling so that the hub's 30-a-head average fits
    cap = 60
    w = Writers(folder)
    live_plan = crime_team_plan(crimes, live, teams, hub_live)
    live_seen = 0
    manifest_crime: dict[str, str] = {}
    for n in range(1, crimes + 1):
        # live crimes are spread through the file, one in every 1/LIVE_SHARE
        is_live = live_seen < live and (n * live) // crimes > live_seen
        if is_live:
            team = next(live_plan)
            live_seen += 1
        else:
            team = int(rng.random() * teams)
        pick = rng.random() * total_weight
        k = 0
        while cum[k] <= pick:
            k += 1
        crime_type = type_names[k]
        matrix_level = type_levels[crime_type]
        explicit = rng.random() < 0.1
        level = matrix_level
        if explicit:
            level = "PIP2" if matrix_level == "PIP1" else matrix_level
        enhanced = rng.random() < (0.3 if level != "PIP1" else 0.08)
        if is_live:
            reported = today - timedelta(days=int(rng.random() ** 2 * 365))
            finalised: date | None = None
        else:
            reported = today - timedelta(days=30 + int(rng.random() * 1065))
            finalised = reported + timedelta(days=1 + int(rng.random() * 120))
            if finalised > today:
                finalised = today
        holder: Officer | None = None
        if not is_live:
            pool = force.eligible[team].get(level)
            holder = force.officers[pool[int(rng.random() * len(pool))]] if pool else None
        elif rng.random() < HELD_SHARE:
            holder = pick_holder(rng, force, team, level, cap)
        if holder is not None and is_live:
            holder.live += 1
        reference = f"CR{n:07d}/{reported.year % 100:02d}"
        allocated = ""
        if holder is not None:
            end = finalised or today
            span = max(0, (end - reported).days)
            moves = 0
            roll = rng.random()
            if roll < 0.005:
                moves = 7  # reassigned often enough to count as churn
            elif roll < 0.15:
                moves = 1
            start = reported + timedelta(days=min(span, int(rng.random() * 3)))
            for m in range(moves):
                other = pick_holder(rng, force, team, level, 10**9)
                if other is None:
                    break
                stop = start + timedelta(days=max(1, (span // (moves + 1))) if span else 0)
                if stop > end:
                    stop = end
                if stop <= start:
                    break
                w.row(
                    "history",
                    [
                        reference,
                        other.collar,
                        start.isoformat(),
                        stop.isoformat(),
                        "generator",
                        "transfer" if m else "initial allocation",
                    ],
                )
                start = stop
            allocated = start.isoformat()
        w.row(
            "crimes",
            [
                reference,
                crime_type,
                reported.isoformat(),
                force.team_names[team],
                level if explicit else "",
                holder.collar if holder is not None else "",
                "yes" if enhanced else "no",
                "",  # victim_category: recorded as yes/no only ("category not recorded")
                finalised.isoformat() if finalised else "",
                OUTCOMES[int(rng.random() * len(OUTCOMES))] if finalised else "",
                allocated,
            ],
        )
        if is_live:
            if holder is not None and team == 0 and level == "PIP1" and not manifest_crime:
                manifest_crime = {"reference": reference, "team": force.team_names[team]}
            age = (today - reported).days
            # most live crimes are reviewed and their victims updated within the policy's
            # 28 days; about one in eight is overdue, so the audit has findings to report
            if age > 7 and rng.random() < 0.9:
                on = max(reported, today - timedelta(days=int(rng.random() * 32)))
                w.row("reviews", [reference, on.isoformat(), "DS Generator", "Reviewed."])
            if age > 3 and rng.random() < 0.9:
                on = max(reported, today - timedelta(days=int(rng.random() * 32)))
                w.row("victim-updates", [reference, on.isoformat(), "generator", "Updated."])
            if rng.random() < 0.2:
                on = reported + timedelta(days=int(rng.random() * (age + 1)))
                kind = EVENT_KINDS[int(rng.random() * len(EVENT_KINDS))]
                w.row("events", [reference, kind, on.isoformat(), "generator"])
    w.close()
    return {
        "crimes": crimes,
        "live": live,
        "held": sum(o.live for o in force.officers),
        "hub_live": hub_live,
        "history_rows": w.counts["history"],
        "review_rows": w.counts["reviews"],
        "victim_update_rows": w.counts["victim-updates"],
        "event_rows": w.counts["events"],
        "assign_crime": manifest_crime,
    }


def pick_bench_officers(force: Force) -> dict[str, str]:
    """A busy experienced active officer of the hub (for one-officer cases), and a second one."""

    def fit(o: Officer, strict: bool) -> bool:
        return (
            o.team == 0
            and o.status == "active"
            and LEVEL_RANK[o.level] >= LEVEL_RANK["PIP1"]
            and (not strict or (not o.inexperienced and o.capacity is None))
        )

    hub = [o for o in force.officers if fit(o, True)]
    if len(hub) < 2:  # a tiny force: take whoever of the hub can hold a PIP1 crime
        hub = [o for o in force.officers if fit(o, False)]
    hub.sort(key=lambda o: (-o.live, o.collar))
    if not hub:
        return {}
    return {"officer": hub[0].collar, "other_officer": hub[-1].collar}


def generate(
    out: Path,
    *,
    officers: int = DEFAULT_OFFICERS,
    teams: int = DEFAULT_TEAMS,
    crimes: int = DEFAULT_CRIMES,
    seed: int = 6,
    today: date | None = None,
) -> dict[str, Any]:
    """Write the force's CSV files into ``out``; returns the manifest (also written)."""
    if officers < 1 or crimes < 0 or teams < 1:
        raise ValueError("officers and teams must be at least 1, crimes at least 0")
    teams = min(teams, officers)
    today = today or date.today()
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    write_matrix(out / "matrix.csv")
    force = write_officers(out / "officers.csv", rng, officers, teams, today)
    crime_facts = write_crimes(out, rng, force, crimes, today)
    manifest = {
        "seed": seed,
        "today": today.isoformat(),
        "officers": officers,
        "teams": teams,
        "hub_team": force.team_names[0],
        "hub_officers": sum(1 for o in force.officers if o.team == 0),
        **crime_facts,
        **pick_bench_officers(force),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="Folder to write the CSV files into.")
    parser.add_argument("--scale", type=float, default=1.0, help="Multiply the default sizes.")
    parser.add_argument("--officers", type=int, help="Officers (default 35,000 x scale).")
    parser.add_argument("--crimes", type=int, help="Crimes (default 1,000,000 x scale).")
    parser.add_argument("--teams", type=int, help="Teams (default 600 x scale, at least 2).")
    parser.add_argument("--seed", type=int, default=6, help="Random seed (default 6).")
    parser.add_argument(
        "--today", type=date.fromisoformat, help="Anchor day, YYYY-MM-DD (default: today)."
    )
    args = parser.parse_args(argv)
    officers = args.officers or max(1, round(DEFAULT_OFFICERS * args.scale))
    crimes = args.crimes if args.crimes is not None else round(DEFAULT_CRIMES * args.scale)
    teams = args.teams or max(2, round(DEFAULT_TEAMS * min(1.0, args.scale * 4)))
    started = time.perf_counter()
    manifest = generate(
        args.out, officers=officers, teams=teams, crimes=crimes, seed=args.seed, today=args.today
    )
    took = time.perf_counter() - started
    print(
        f"Wrote {manifest['officers']:,} officers in {manifest['teams']:,} teams and "
        f"{manifest['crimes']:,} crimes ({manifest['live']:,} live, {manifest['held']:,} held) "
        f"to {args.out} in {took:.1f} s."
    )


if __name__ == "__main__":
    main()
