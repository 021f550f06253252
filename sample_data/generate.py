"""Write the sample force's CSV files (deterministic: a fixed seed and a fixed anchor date).

    python sample_data/generate.py            # rewrites the CSV files beside this script
    python sample_data/generate.py FOLDER     # writes them into FOLDER instead

The files are dated relative to ANCHOR (written to ``anchor.txt``); ``caseload init
--sample`` moves every date forward by (today - ANCHOR) as it loads them, so the
sample always looks current while the files themselves never change. Crime-type
proportions come from the police.uk street-level files in ``/work/shared/data/police_uk``
(13 monthly files, 2022-07 to 2023-06; counted once and embedded below so the script
needs no network or data folder).

The force is shaped so that the allocation and audit features have something to show:
one inexperienced officer at exactly 25 live crimes, another over the limit, an officer on
leave holding crimes, a crime whose required level is above most of its team, a crime
reassigned six times, crimes unallocated for days, and an officer past personal capacity;
some live crimes graded medium or high risk (with two risk rows in the matrix), and every
officer's supervisor.
"""

from __future__ import annotations

import csv
import random
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from caseload.domain.csvschema import CRIMES as CRIME_SPEC
from caseload.store.records import OFFICER_COLUMNS

ANCHOR = date(2026, 11, 20)
SEED = 20261120
CRIMES = 1000
HERE = Path(__file__).resolve().parent

# Rows per crime type in the police.uk files listed above (Metropolitan and City of London).
TYPE_COUNTS = {
    "Violence and sexual offences": 2511,
    "Other theft": 2420,
    "Theft from the person": 1525,
    "Anti-social behaviour": 1509,
    "Shoplifting": 966,
    "Drugs": 767,
    "Public order": 712,
    "Vehicle crime": 687,
    "Burglary": 599,
    "Criminal damage and arson": 492,
    "Robbery": 282,
    "Other crime": 258,
    "Bicycle theft": 201,
    "Possession of weapons": 90,
}
MATRIX = {
    "Anti-social behaviour": "PIP1",
    "Bicycle theft": "PIP1",
    "Burglary": "PIP1",
    "Criminal damage and arson": "PIP1",
    "Drugs": "PIP1",
    "Other crime": "PIP1",
    "Other theft": "PIP1",
    "Possession of weapons": "PIP2",
    "Public order": "PIP1",
    "Robbery": "PIP2",
    "Shoplifting": "PIP1",
    "Theft from the person": "PIP1",
    "Vehicle crime": "PIP1",
    "Violence and sexual offences": "PIP2",
}
# Risk rows (issue 19): a crime of the type graded at that risk or above needs the level.
MATRIX_RISK = {
    ("Burglary", "high"): "PIP2",
    ("Violence and sexual offences", "high"): "PIP3",
}
LEVEL_RANK = {"none": 0, "PIP1": 1, "PIP2": 2, "PIP3": 3, "PIP4": 4}
VOLUME_TYPES = {
    "Anti-social behaviour",
    "Bicycle theft",
    "Criminal damage and arson",
    "Other theft",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
}
TEAMS = ("Lewisham CID", "Greenwich CID", "Bexley Volume Crime")
# Home Office outcome types and how often each closes a crime here.


def _words(text: str) -> list[str]:
    return text.split()


OUTCOME_WEIGHTS = {18: 34, 14: 14, 16: 10, 15: 5, 1: 14, 8: 9, 3: 4, 2: 2, 21: 4, 20: 4}

FIRST = _words(
    "Amira Ben Chloe Daniel Ewa Farid Grace Harry Imran Jade Kwame Laura Mohammed Niamh Olu "
    "Priya Quentin Rosa Sam Tomasz Uche Vikram Wendy Xavier Yasmin Zoe Aaron Bethany Callum "
    "Deepa Ellis Fatima George Hannah Isaac Jasmine Kieran Leah Marcus Nadia Owen Poppy Rhys "
    "Sofia Tariq"
)
LAST = _words(
    "Adeyemi Baker Campbell Dhillon Evans Fraser Green Hussain Iqbal Jones Kowalski Lewis "
    "Mensah Nowak Okafor Patel Quinn Robinson Shah Taylor Usman Vaughan Walsh Yilmaz Ahmed "
    "Bennett Clarke Davies Edwards Francis Gill Hughes Ibrahim Jackson Khan Lloyd Murphy "
    "Nelson Owusu Price Reid Singh Thompson Ward"
)


@dataclass
class Officer:
    collar: str
    name: str
    team: str
    rank: str
    accreditation: str
    since: date
    status: str = "active"
    capacity: int | None = None
    trainee: bool = False
    supervisor: str = ""  # a DS (or, for a DS, the team's DI)
    target: int = 12  # live crimes the random fill gives them at most
    special: bool = False  # holdings set by hand below; the random fill skips them
    live: int = 0

    @property
    def inexperienced(self) -> bool:
        return self.trainee or (ANCHOR - self.since).days < 24 * 30.5


@dataclass
class Crime:
    reference: str
    crime_type: str
    reported_on: date
    team: str
    required_level: str = ""  # blank: from the matrix
    holder: str = ""
    victim_enhanced: bool = False
    victim_category: str = ""  # blank: standard, or enhanced recorded as yes/no only
    risk: str = ""  # blank: standard
    finalised_on: date | None = None
    outcome: int | None = None
    allocated_on: datetime | None = None
    history: list[tuple[str, datetime, datetime]] = field(default_factory=list)

    def level(self) -> str:
        return self.required_level or MATRIX[self.crime_type]


class Force:
    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.officers: list[Officer] = []
        self.crimes: list[Crime] = []
        self._collars: set[str] = set()
        self._names = iter(self.rng.sample([(f, s) for f in FIRST for s in LAST], 200))

    # --- officers ------------------------------------------------------------------------

    def collar(self) -> str:
        while True:
            letters = "".join(self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2))
            value = f"{letters}{self.rng.randint(1000, 9999)}"
            if value not in self._collars:
                self._collars.add(value)
                return value

    def officer(
        self,
        team: str,
        rank: str,
        level: str,
        years: float,
        *,
        status: str = "active",
        capacity: int | None = None,
        trainee: bool = False,
        target: int = 12,
        special: bool = False,
    ) -> Officer:
        first, last = next(self._names)
        since = ANCHOR - timedelta(days=int(years * 365.25) + self.rng.randint(0, 40))
        officer = Officer(
            self.collar(),
            f"{first} {last}",
            team,
            rank,
            level,
            since,
            status=status,
            capacity=capacity,
            trainee=trainee,
            target=target,
            special=special,
        )
        self.officers.append(officer)
        return officer

    def build_officers(self) -> dict[str, Officer]:
        special: dict[str, Officer] = {}
        o = self.officer
        for team in ("Lewisham CID", "Greenwich CID"):
            o(team, "DI", "PIP3", 14, target=4)
            o(team, "DS", "PIP3", 11, target=8)
            o(team, "DS", "PIP2", 8, target=10)
            for years in (12, 9, 7, 6, 5, 4, 3.5, 3):
                o(team, "DC", "PIP2", years, target=self.rng.randint(14, 22))
            o(team, "TDC", "PIP1", 1.2, trainee=True, target=self.rng.randint(14, 20))
            o(team, "TDC", "PIP1", 0.7, trainee=True, target=self.rng.randint(10, 16))
            o(team, "PC", "PIP1", 5, target=self.rng.randint(12, 18))
        lewisham = [x for x in self.officers if x.team == "Lewisham CID"]
        greenwich = [x for x in self.officers if x.team == "Greenwich CID"]
        # A trainee detective at exactly the limit: the next allocation warns.
        special["at_limit"] = o("Lewisham CID", "TDC", "PIP1", 1.5, trainee=True, special=True)
        # A part-time detective with a personal capacity they are already past.
        lewisham[5].capacity, lewisham[5].target = 10, 12
        lewisham[5].special = True
        special["over_capacity"] = lewisham[5]
        # Part-timers within their capacity.
        lewisham[8].capacity, lewisham[8].target = 16, 9
        greenwich[6].capacity, greenwich[6].target = 12, 8
        # On leave, still holding crimes; abstracted to public-order duty; left the team.
        greenwich[4].status, greenwich[4].special = "leave", True
        special["on_leave"] = greenwich[4]
        greenwich[7].status, greenwich[7].target = "abstracted", 6
        lewisham[9].status, lewisham[9].target = "left", 0
        o("Greenwich CID", "DC", "PIP2", 2.5, status="leave", target=0)
        # Bexley: a volume crime team of PIP1 constables, two years in or less for some.
        team = "Bexley Volume Crime"
        o(team, "DS", "PIP2", 9, target=6)
        o(team, "PS", "PIP1", 10, target=6)
        for years in (8, 6, 5, 4, 3, 2.5):
            o(team, "PC", "PIP1", years, target=self.rng.randint(14, 21))
        for years in (1.6, 1.1, 0.6):
            o(team, "PC", "PIP1", years, target=self.rng.randint(12, 20))
        o(team, "DC", "PIP2", 6, target=14, capacity=20)
        o(team, "TDC", "PIP1", 1.0, trainee=True, target=15)
        # A constable a year in, over the limit (the default limit mode only warns).
        special["over_limit"] = o(team, "PC", "PIP1", 1.2, special=True)
        return special

    # --- crimes --------------------------------------------------------------------------

    def reference(self, day: date) -> str:
        return f"{day:%y}{self.rng.choice('ABCDEFGHKLMNPRSTW')}{len(self.crimes) + 1:06d}"

    def crime_type(self, team: str) -> str:
        types = list(TYPE_COUNTS)
        weights: list[float] = []
        for name in types:
            weight = float(TYPE_COUNTS[name])
            volume = name in VOLUME_TYPES
            if team == "Bexley Volume Crime":
                weight *= 3 if volume else 0.4
            elif volume:
                weight *= 0.35
            weights.append(weight)
        return self.rng.choices(types, weights)[0]

    def new_crime(self, team: str, *, days_ago: int, crime_type: str | None = None) -> Crime:
        reported = ANCHOR - timedelta(days=days_ago)
        kind = crime_type or self.crime_type(team)
        crime = Crime(self.reference(reported), kind, reported, team)
        crime.victim_enhanced = self.rng.random() < (
            0.35 if kind == "Violence and sexual offences" else 0.08
        )
        if kind == "Violence and sexual offences":
            roll = self.rng.random()
            if roll < 0.25:
                crime.required_level = "PIP1"  # common assault: volume work
            elif roll < 0.30:
                crime.required_level = "PIP3"  # serious sexual offence
        self.crimes.append(crime)
        return crime

    def hold(self, crime: Crime, officer: Officer, *, latest: date | None = None) -> None:
        crime.holder = officer.collar
        end = min(latest or ANCHOR - timedelta(days=1), ANCHOR - timedelta(days=1))
        start = crime.reported_on
        span = max((end - start).days, 0)
        day = start + timedelta(days=min(self.rng.randint(0, 2), span))
        minutes = self.rng.randint(8 * 60, 18 * 60)
        crime.allocated_on = datetime.combine(day, time(minutes // 60, minutes % 60))
        if crime.finalised_on is None:
            officer.live += 1

    def finalise(self, crime: Crime, officer: Officer) -> None:
        span = (ANCHOR - crime.reported_on).days
        crime.finalised_on = crime.reported_on + timedelta(days=self.rng.randint(1, max(1, span)))
        crime.finalised_on = min(crime.finalised_on, ANCHOR - timedelta(days=1))
        crime.outcome = self.rng.choices(list(OUTCOME_WEIGHTS), list(OUTCOME_WEIGHTS.values()))[0]
        self.hold(crime, officer, latest=crime.finalised_on)

    def pip1_crime(self, team: str, days_ago: int) -> Crime:
        while True:
            kind = self.crime_type(team)
            if MATRIX[kind] == "PIP1":
                return self.new_crime(team, days_ago=days_ago, crime_type=kind)

    def build_crimes(self, special: dict[str, Officer]) -> None:
        rng = self.rng
        # The shaped holdings first.
        for key, count in (("at_limit", 25), ("over_limit", 28), ("over_capacity", 12)):
            officer = special[key]
            for _ in range(count):
                self.hold(self.pip1_crime(officer.team, rng.randint(3, 150)), officer)
        on_leave = special["on_leave"]
        for _ in range(9):
            self.hold(self.new_crime(on_leave.team, days_ago=rng.randint(20, 200)), on_leave)
        # Above what most of Bexley holds: needs PIP3, unallocated, reported yesterday.
        serious = self.new_crime(
            "Bexley Volume Crime", days_ago=1, crime_type="Violence and sexual offences"
        )
        serious.required_level, serious.victim_enhanced = "PIP3", True
        # Unallocated for days (audit: unallocated), and fresh ones still waiting.
        for days in (3, 4, 6, 9, 12, 17, 23, 31):
            self.new_crime(TEAMS[days % 3], days_ago=days)
        for team in TEAMS:
            self.new_crime(team, days_ago=0)
        # The rest: reported over the year, older ones more often finalised.
        while len(self.crimes) < CRIMES:
            team = rng.choices(TEAMS, (33, 33, 34))[0]
            days = int(rng.triangular(1, 365, 1))
            crime = self.new_crime(team, days_ago=days)
            if crime.required_level == "PIP3" and team == "Bexley Volume Crime":
                crime.required_level = "PIP2"  # serious cases go to CID; one is shaped above
            pool = [
                x
                for x in self.officers
                if x.team == team
                and LEVEL_RANK[x.accreditation] >= LEVEL_RANK[crime.level()]
                and not x.special
            ]
            closed_share = 0.8 if days > 180 else 0.55 if days > 60 else 0.2
            if rng.random() < closed_share:
                self.finalise(crime, rng.choice(pool))
                continue
            free = [x for x in pool if x.status == "active" and x.live < x.target]
            if free and rng.random() > 0.02:
                self.hold(crime, rng.choice(free))

    def build_history(self, special: dict[str, Officer]) -> None:
        """Earlier holders of some live crimes: transfers over recent weeks."""
        rng = self.rng
        by_collar = {x.collar: x for x in self.officers}
        live_held = [
            c
            for c in self.crimes
            if c.holder and c.finalised_on is None and (ANCHOR - c.reported_on).days > 10
        ]
        churn = next(
            c
            for c in live_held
            if c.team == "Lewisham CID"
            and c.level() == "PIP2"
            and not by_collar[c.holder].special
            and (ANCHOR - c.reported_on).days > 60
        )
        for crime in rng.sample(live_held, 60) + [churn]:
            holder = by_collar[crime.holder]
            others = [
                x
                for x in self.officers
                if x.team == crime.team
                and x is not holder
                and LEVEL_RANK[x.accreditation] >= LEVEL_RANK[crime.level()]
            ]
            moves = 6 if crime is churn else rng.choice((1, 1, 1, 2))
            first = datetime.combine(crime.reported_on, time(9, 30))
            last = datetime.combine(ANCHOR - timedelta(days=2), time(16, 0))
            if crime is churn:
                first = max(first, last - timedelta(days=42))
            cuts = sorted(
                first
                + timedelta(minutes=rng.randint(60, int((last - first).total_seconds() // 60)))
                for _ in range(moves)
            )
            previous: Officer | None = None
            start = first
            for cut in cuts:
                choices = [x for x in others if x is not previous] or others
                previous = rng.choice(choices)
                crime.history.append((previous.collar, start, cut))
                start = cut
            crime.allocated_on = start


# --- supervision and victim contact (issue 4) -------------------------------------------
# Built after everything above with their own random stream, so the files above do not
# change. Most live crimes are reviewed and their victims updated recently; a few are not,
# and a few key events went untold, so 'caseload audit' shows every finding code.

EVENT_KINDS = ("arrested", "interviewed", "released", "bailed", "charged", "nfa")


@dataclass
class Supervision:
    reviews: list[list[object]] = field(default_factory=list)
    events: list[list[object]] = field(default_factory=list)
    updates: list[list[object]] = field(default_factory=list)


def shape_mismatch(force: Force) -> None:
    """One live PIP2 crime whose current holding (from the old system's history) is a
    PIP1 constable's: the history import records it as it was, so the audit flags it."""
    by_collar = {x.collar: x for x in force.officers}
    crime = next(
        c
        for c in sorted(force.crimes, key=lambda c: c.reference)
        if c.team == "Lewisham CID"
        and c.holder
        and c.finalised_on is None
        and not c.history
        and c.level() == "PIP2"
        and not by_collar[c.holder].special
        and (ANCHOR - c.reported_on).days > 20
    )
    constable = next(
        x
        for x in force.officers
        if x.team == crime.team and x.rank == "PC" and x.accreditation == "PIP1"
    )
    by_collar[crime.holder].live -= 1
    constable.live += 1
    start = crime.allocated_on or datetime.combine(crime.reported_on, time(10))
    crime.holder, crime.allocated_on = "", None
    crime.history.append((constable.collar, start, None))  # type: ignore[arg-type]


def build_supervision(force: Force, supervisors: dict[str, Officer]) -> Supervision:
    rng = random.Random(SEED + 4)
    out = Supervision()
    live = sorted(
        (c for c in force.crimes if c.finalised_on is None),
        key=lambda c: c.reference,
    )
    old = [c for c in live if (ANCHOR - c.reported_on).days > 45]
    unreviewed = set(id(c) for c in rng.sample(old, 6))
    review_due_passed = set(id(c) for c in rng.sample(old, 2)) - unreviewed
    not_updated = set(id(c) for c in rng.sample(old, 5))
    held = [c for c in live if (ANCHOR - c.reported_on).days > 40 and id(c) not in not_updated]
    untold = rng.sample(held, 3)
    untold[0].victim_enhanced = True  # one enhanced-service victim left untold (1 working day)
    told = rng.sample([c for c in held if c not in untold], 30)

    def ds(crime: Crime) -> str:
        return f"DS {supervisors[crime.team].name}"

    for crime in live:
        age = (ANCHOR - crime.reported_on).days
        if age < 1:
            continue
        if id(crime) not in unreviewed:
            if age > 60:  # an early review as well as the latest
                early = crime.reported_on + timedelta(days=rng.randint(1, 10))
                out.reviews.append([crime.reference, cell(early), "Initial review", ""])
            if id(crime) in review_due_passed:
                day = ANCHOR - timedelta(days=20)
                out.reviews.append(
                    [
                        crime.reference,
                        cell(day),
                        "Suspect to be traced; review again in a fortnight",
                        cell(ANCHOR - timedelta(days=3)),
                    ]
                )
            else:
                day = ANCHOR - timedelta(days=rng.randint(1, min(25, age)))
                due = cell(ANCHOR + timedelta(days=14)) if rng.random() < 0.2 else ""
                note = rng.choice(
                    (
                        "Lines of enquiry reviewed; CCTV requested",
                        "House-to-house complete; awaiting forensics",
                        "Witness statements taken; suspect not yet identified",
                        "Proportionate enquiries complete; consider filing",
                    )
                )
                out.reviews.append([crime.reference, cell(day), note, due])
        if id(crime) not in not_updated:
            recent = 3 if crime in untold else min(20, age)
            day = ANCHOR - timedelta(days=rng.randint(1, recent))
            out.updates.append([crime.reference, cell(day), "Victim updated by phone"])
    for crime in told + untold:
        age = (ANCHOR - crime.reported_on).days
        day = ANCHOR - timedelta(days=rng.randint(14, min(30, age - 1)))
        kind = rng.choice(EVENT_KINDS)
        if crime in untold:
            # Untold: the event came after the last update (an update on or after it would
            # meet the duty, if late), and long enough ago that the deadline has passed.
            day = ANCHOR - timedelta(days=14)
            for row in out.updates:
                if row[0] == crime.reference:
                    row[1] = cell(ANCHOR - timedelta(days=15))
        out.events.append([crime.reference, kind, cell(day), ds(crime)])
        if crime in told:
            same_day = [r for r in out.updates if r[0] == crime.reference and r[1] == cell(day)]
            for row in same_day:
                out.updates.remove(row)  # one update that day, telling them of the event
            out.updates.append([crime.reference, cell(day), f"Victim told: {kind}"])
    # A suspect arrested yesterday: the victim is still within the deadline (no finding).
    fresh = next(c for c in held if c not in told and c not in untold)
    out.events.append([fresh.reference, "arrested", cell(ANCHOR - timedelta(days=1)), ds(fresh)])
    for rows in (out.reviews, out.events, out.updates):
        rows.sort(key=lambda row: (str(row[0]), str(row[2] if rows is out.events else row[1])))
    return out


# --- the Victims' Code in full (issue 19) ------------------------------------------------------
# Built last with their own random stream, so the files above do not change. Most enhanced
# victims have their category; a few were recorded as yes/no only ("category not recorded").
# Right 4 referrals are recorded from REFERRALS_SINCE days before the anchor day (the store
# "began recording referrals" then: ``referrals-since.txt``): most within a day of the
# report, a few late, some declined, and a few live crimes never referred (the audit's
# victim-referral-overdue).

CATEGORIES = ("most-serious", "persistently-targeted", "vulnerable-or-intimidated")
REFERRALS_SINCE = 60


def build_victims(force: Force) -> list[list[object]]:
    rng = random.Random(SEED + 5)
    for crime in sorted(force.crimes, key=lambda c: c.reference):
        if crime.victim_enhanced and rng.random() < 0.8:
            crime.victim_category = rng.choice(CATEGORIES)
    since = ANCHOR - timedelta(days=REFERRALS_SINCE)
    recent = sorted(
        (c for c in force.crimes if c.reported_on >= since),
        key=lambda c: (c.reported_on, c.reference),
    )
    old_live = [c for c in recent if c.finalised_on is None and (ANCHOR - c.reported_on).days > 10]
    missing = set(id(c) for c in rng.sample(old_live, 4))
    rows: list[list[object]] = []
    for crime in recent:
        age = (ANCHOR - crime.reported_on).days
        if id(crime) in missing or age < 2:
            continue  # never referred; or reported yesterday or today, still in time
        roll = rng.random()
        late = roll < 0.08 and age > 14
        day = crime.reported_on + timedelta(days=rng.randint(10, 14) if late else 1)
        rows.append([crime.reference, cell(day), "yes" if 0.08 <= roll < 0.2 else ""])
    rows.sort(key=lambda row: (str(row[0]), str(row[1])))
    return rows


# --- risk grades and supervisors (issue 19) ---------------------------------------------
# Their own random stream, after everything above, so the rest of the files do not change.


def grade_risk(force: Force) -> None:
    """Some live crimes graded medium, a few high: the high ones only where the holder is
    accredited for the level the risk rows then ask (the crime import allocates under the
    rules), so the audit's new review intervals show rather than new mismatches."""
    rng = random.Random(SEED + 5)
    by_collar = {x.collar: x for x in force.officers}
    live = sorted(
        (c for c in force.crimes if c.finalised_on is None and (ANCHOR - c.reported_on).days > 2),
        key=lambda c: c.reference,
    )
    for crime in rng.sample(live, 40):
        crime.risk = "medium"

    def fits(crime: Crime) -> bool:
        level = MATRIX_RISK.get((crime.crime_type, "high"), crime.level())
        if LEVEL_RANK[level] < LEVEL_RANK[crime.level()]:
            level = crime.level()
        if crime.history:  # held through the history import: keep it simple, no grade
            return False
        holder = by_collar.get(crime.holder)
        if crime.team == "Bexley Volume Crime" or (holder is not None and holder.special):
            return False  # the shaped holdings and Bexley's rebalance stay as they are
        if crime.crime_type == "Violence and sexual offences":
            return False  # the README's domestic-assault story stays at PIP2
        return holder is None or LEVEL_RANK[holder.accreditation] >= LEVEL_RANK[level]

    for crime in rng.sample([c for c in live if not c.risk and fits(c)], 10):
        crime.risk = "high"


def grade_quality(supervision: Supervision) -> None:
    """A few of the latest reviews were quality reviews (``review --quality``): most passed,
    some with advice, one failed, so the compliance return shows its quality columns. Their
    own random stream; every review row gains the (mostly empty) quality cell."""
    rng = random.Random(SEED + 7)
    recent = [
        row
        for row in supervision.reviews
        if row[2] != "Initial review" and str(row[1]) >= cell(ANCHOR - timedelta(days=25))
    ]
    picked = rng.sample(recent, 9)
    for row in supervision.reviews:
        row.append("")
    for row, result in zip(picked, ("pass",) * 5 + ("advice",) * 3 + ("fail",), strict=True):
        row[-1] = result


def assign_supervisors(force: Force) -> None:
    """Each officer's supervisor: the team's detective sergeants in turn; a DS reports to
    the team's DI where it has one."""
    for team in TEAMS:
        members = [x for x in force.officers if x.team == team]
        sergeants = [x for x in members if x.rank == "DS"]
        inspector = next((x for x in members if x.rank == "DI"), None)
        others = [x for x in members if x.rank not in ("DS", "DI")]
        for index, officer in enumerate(others):
            officer.supervisor = sergeants[index % len(sergeants)].collar
        for sergeant in sergeants:
            sergeant.supervisor = inspector.collar if inspector else ""


def write_csv(path: Path, columns: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])


def cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def main(folder: Path = HERE) -> None:
    force = Force()
    special = force.build_officers()
    force.build_crimes(special)
    force.build_history(special)
    supervisors = {
        t: next(x for x in force.officers if x.team == t and x.rank == "DS") for t in TEAMS
    }
    shape_mismatch(force)
    supervision = build_supervision(force, supervisors)
    referrals = build_victims(force)
    grade_risk(force)
    grade_quality(supervision)
    assign_supervisors(force)
    (folder / "anchor.txt").write_text(ANCHOR.isoformat() + "\n", encoding="utf-8")
    write_csv(
        folder / "matrix.csv",
        ["crime_type", "required_level", "risk"],
        [[name, level, ""] for name, level in sorted(MATRIX.items())]
        + [[name, level, risk] for (name, risk), level in sorted(MATRIX_RISK.items())],
    )
    write_csv(
        folder / "officers.csv",
        list(OFFICER_COLUMNS),
        [
            [
                x.collar,
                x.name,
                x.team,
                x.rank,
                x.accreditation,
                cell(x.since),
                x.status,
                x.capacity,
                cell(x.trainee),
                x.supervisor,
            ]
            for x in force.officers
        ],
    )
    crimes = sorted(force.crimes, key=lambda c: (c.reported_on, c.reference))
    write_csv(
        folder / "crimes.csv",
        list(CRIME_SPEC.names),
        [
            [
                c.reference,
                c.crime_type,
                cell(c.reported_on),
                c.team,
                c.required_level,
                c.holder,
                cell(c.victim_enhanced),
                c.victim_category,
                cell(c.finalised_on),
                c.outcome,
                cell(c.allocated_on),
                c.risk,
            ]
            for c in crimes
        ],
    )
    history: list[list[object]] = []
    for c in crimes:
        for collar, start, end in c.history:
            actor = supervisors[c.team]
            history.append(
                [c.reference, collar, cell(start), cell(end), f"DS {actor.name}", "workload"]
            )
    write_csv(
        folder / "history.csv",
        ["reference", "holder", "from", "to", "actor", "reason"],
        history,
    )
    write_csv(
        folder / "reviews.csv",
        ["reference", "on", "note", "next_due", "quality"],
        supervision.reviews,
    )
    write_csv(folder / "events.csv", ["reference", "kind", "on", "actor"], supervision.events)
    write_csv(folder / "victim-updates.csv", ["reference", "on", "note"], supervision.updates)
    write_csv(folder / "victim-referrals.csv", ["reference", "on", "declined"], referrals)
    since = ANCHOR - timedelta(days=REFERRALS_SINCE)
    (folder / "referrals-since.txt").write_text(since.isoformat() + "\n", encoding="utf-8")
    write_csv(
        folder / "absences.csv",
        ["collar", "kind", "from", "to", "percent", "reason"],
        [[cell(v) for v in row] for row in ABSENCES],
    )


# A few absences, so the audit shows its absence codes: a day at court (ended) on which
# one of the officer's current crimes was allocated to them (allocated-while-absent), and
# leave starting two days after the anchor for an officer holding live crimes
# (absence-handover-due). Nobody is absent on the anchor day itself.
ABSENCES = [
    ("TV7458", "court", ANCHOR - timedelta(days=9), ANCHOR - timedelta(days=9), None,
     "Crown Court: witness"),
    ("KY3257", "leave", ANCHOR + timedelta(days=2), ANCHOR + timedelta(days=8), None,
     "annual leave"),
]  # fmt: skip


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
