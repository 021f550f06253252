"""The morning report's figures: one small function per section, over the store's own queries.

Each section's numbers come from the queries the commands already run, so the page
and the commands cannot disagree: officers' loads are ``store.workload.workload``
(the ``workload`` command's rows), findings are ``store.audit.Audit`` (the ``audit``
command's counts and rows), the trend is ``store.audit.list_runs`` (``audit trend``).
What is left in Python here is per officer or per recorded run, never per crime.

``SECTIONS`` is the page, in order. A section is a key, a title, a function from
the ``Report`` (the store, policy, day and team, with the shared query results
computed once) to a JSON-ready dict, and the template partial that draws it. The
absences coming are ``store.absences.list_absences`` (``officer absence list``) with
each officer's live crimes; Victims' Code compliance is ``store.compliance.
compliance_return`` (``report compliance``) for the last 28 days. What falls due in
the next 7 days is ``store.due.Due`` (``caseload due --days 7``'s rows), counted per day
and kind, with the soonest listed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from caseload.domain.audit import CODES, DESCRIPTIONS, SEVERITIES, counts_from, trend_rows
from caseload.domain.policy import Policy
from caseload.report import charts

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from caseload.store.audit import Audit

# How many officers the load chart draws (the table beside it lists every officer):
# past this a bar chart is no longer readable, and the workload's order puts the most
# overloaded first.
CHART_OFFICERS = 40
# Findings listed per code (the counts are always complete): a team's page stays
# small enough to e-mail; 'caseload audit --team' lists every one.
FINDINGS_PER_CODE = 50
# Recorded audit runs the trend shows (as 'audit trend' does by default).
TREND_RUNS = 30
# The absences coming: those in force on the day or starting in the next ABSENCE_DAYS.
ABSENCE_DAYS = 7
# What falls due: the window (``caseload due --days DUE_DAYS``) and how many of its rows,
# soonest first (overdue first, as 'due' lists them), the page lists.
DUE_DAYS = 7
DUE_LISTED = 25
# The compliance return covers the COMPLIANCE_DAYS up to and including the day.
COMPLIANCE_DAYS = 28


@dataclass
class Report:
    """What every section reads: the store, the policy, the day and the team; the
    workload rows, the audit counts and the recorded runs, each queried once."""

    conn: Connection
    policy: Policy
    as_of: date | None
    team: str | None
    team_id: int | None
    today: date = field(default_factory=date.today)

    @property
    def day(self) -> date:
        return self.as_of or self.today

    @cached_property
    def workload(self) -> list[dict[str, Any]]:
        from caseload.store.team_policy import load_policies
        from caseload.store.workload import workload

        policies = load_policies(self.conn)  # each team's limits (domain.team_policy)
        return workload(self.conn, policies, as_of=self.as_of, team=self.team)

    @cached_property
    def audit(self) -> Audit:
        from caseload.store.audit import Audit

        return Audit(
            self.conn, self.policy, as_of=self.as_of, team_id=self.team_id, today=self.today
        )

    @cached_property
    def heads(self) -> dict[str, tuple[int, list[dict[str, Any]]]]:
        """Each code's count and its first ``FINDINGS_PER_CODE`` finding rows, one query
        a code (``Audit.head``: the count and the rows of ``audit``)."""
        return {code: self.audit.head(code, FINDINGS_PER_CODE) for code in CODES}

    @cached_property
    def counts(self) -> dict[str, dict[str, int]]:
        """The audit's counts by code and by severity (as ``audit -f json``'s "counts")."""
        return counts_from({code: count for code, (count, _) in self.heads.items()})

    @cached_property
    def runs(self) -> list[dict[str, Any]]:
        """Recorded audit runs for this team (or the whole store) up to the day, oldest first."""
        from caseload.store.audit import list_runs

        runs = list_runs(self.conn, team=self.team, limit=10 * TREND_RUNS)
        return [run for run in runs if run["as_of"] <= self.day][-TREND_RUNS:]


def team_name(conn: Connection, team_id: int) -> str:
    """The team's name as the store spells it."""
    from sqlalchemy import select

    from caseload.store.models import team_table

    query = select(team_table.c.name).where(team_table.c.id == team_id)
    return str(conn.execute(query).scalar_one())


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    figures: Callable[[Report], dict[str, Any]]
    chart: Callable[[dict[str, Any]], str | None] | None  # the figures as SVG (charts)
    template: str  # the partial in report/templates that draws the figures and the chart


# --- headline -------------------------------------------------------------------------------

OVER_CODES = ("inexperienced-over-limit", "over-capacity")
HIGH_CODES = tuple(code for code, severity in CODES.items() if severity == "high")


def _live_counts(report: Report) -> tuple[int, int]:
    """Live crimes and those with no holder, for the team on the day: one aggregate over
    ``holdings.live_holdings`` (what workload and audit count from)."""
    from sqlalchemy import func, select

    from caseload.store.holdings import live_holdings

    live = live_holdings(report.as_of)
    query = select(func.count(), func.count().filter(live.c.holder_id.is_(None)))
    if report.team_id is not None:
        query = query.where(live.c.team_id == report.team_id)
    total, unallocated = report.conn.execute(query).one()
    return int(total), int(unallocated)


def headline(report: Report) -> dict[str, Any]:
    """Four numbers, each against the latest audit recorded before the day (where
    ``audit --record`` keeps that number): live crimes, crimes unallocated past
    ``unallocated_days``, officers' over-limit and over-capacity findings, high findings."""
    by_code = report.counts["by_code"]
    earlier = [run for run in report.runs if run["as_of"] < report.day]
    previous = earlier[-1] if earlier else None
    before = previous["by_code"] if previous else None

    def then(codes: tuple[str, ...]) -> int | None:
        return None if before is None else sum(int(before.get(code, 0)) for code in codes)

    live, no_holder = _live_counts(report)
    days = report.policy.unallocated_days
    tiles: list[dict[str, Any]] = [
        {
            "key": "live",
            "label": "Live crimes",
            "value": live,
            "previous": None,
            "note": f"{no_holder} with no holder",
        },
        {
            "key": "unallocated",
            "label": f"Unallocated over {days} day{'' if days == 1 else 's'}",
            "value": by_code["unallocated"],
            "previous": then(("unallocated",)),
            "note": "audit code unallocated",
        },
        {
            "key": "over_limit",
            "label": "Officers over a limit or capacity",
            "value": sum(by_code[code] for code in OVER_CODES),
            "previous": then(OVER_CODES),
            "note": "inexperienced-over-limit and over-capacity findings",
        },
        {
            "key": "high",
            "label": "High-severity findings",
            "value": report.counts["by_severity"]["high"],
            "previous": then(HIGH_CODES),
            "note": "findings of high severity",
        },
    ]
    for tile in tiles:
        tile["change"] = None if tile["previous"] is None else tile["value"] - tile["previous"]
    return {
        "tiles": tiles,
        "previous_audit": None
        if previous is None
        else {"at": previous["at"], "as_of": previous["as_of"]},
    }


# --- officers' load -------------------------------------------------------------------------


def _ceiling(row: dict[str, Any]) -> int | None:
    """The tighter of the officer's limit (inexperienced only) and personal capacity."""
    values = [v for v in (row["limit"], row["capacity"]) if v is not None]
    return min(values) if values else None


def load(report: Report) -> dict[str, Any]:
    """Each officer's live and weighted load against their limit or capacity, as the
    ``workload`` command reports it (its rows, in its order: most overloaded first)."""
    officers = []
    for row in report.workload:
        flags = row["flags"].split()
        officers.append(
            {
                "collar": row["collar"],
                "name": row["name"],
                "rank": row["rank"],
                "status": row["status"],
                "inexperienced": bool(row["inexperienced"]),
                "live": row["live"],
                "weighted_load": row["weighted_load"],
                "limit": row["limit"],
                "capacity": row["capacity"],
                "ceiling": _ceiling(row),
                "headroom": row["headroom"],
                "over": "over-limit" in flags or "over-capacity" in flags,
                "flags": row["flags"],
            }
        )
    return {
        "officers": officers,
        "charted": min(len(officers), CHART_OFFICERS),
        "over": sum(officer["over"] for officer in officers),
        "inexperienced": sum(officer["inexperienced"] for officer in officers),
    }


# --- findings by severity -------------------------------------------------------------------


def findings(report: Report) -> dict[str, Any]:
    """The audit's counts by severity and by code, and up to ``FINDINGS_PER_CODE`` of each
    code's findings (crime references, officers, details) in the audit's order."""
    from caseload.domain.audit import finding

    codes = []
    for code, severity in CODES.items():
        count, rows = report.heads[code]
        codes.append(
            {
                "code": code,
                "severity": severity,
                "description": DESCRIPTIONS[code],
                "count": count,
                "findings": [finding(code, row, report.audit.day) for row in rows],
            }
        )
    return {
        "by_severity": dict(report.counts["by_severity"]),
        "codes": codes,
        "per_code": FINDINGS_PER_CODE,
    }


# --- trend over recorded audits -------------------------------------------------------------


def trend(report: Report) -> dict[str, Any]:
    """Findings by severity (and by code) over the audits recorded with ``audit --record``
    up to the day, oldest first (``audit trend``'s rows)."""
    runs = []
    for row in trend_rows(report.runs):
        by_severity = dict.fromkeys(SEVERITIES, 0)
        for code, severity in CODES.items():
            by_severity[severity] += row[code]
        runs.append(
            {
                "at": row["at"],
                "as_of": row["as_of"],
                "by_severity": by_severity,
                "by_code": {code: row[code] for code in CODES},
                "total": row["total"],
            }
        )
    return {"runs": runs}


# --- what falls due in the next 7 days -----------------------------------------------------


def due(report: Report) -> dict[str, Any]:
    """``caseload due --days DUE_DAYS`` for the team and day (``store.due.Due``'s one
    ordered query: overdue first, then by date): how many duties of each kind fall due on
    each day of the window and how many are overdue already (the audit's findings count
    them too), and its first ``DUE_LISTED`` rows, in one pass (``Due.summary``)."""
    from caseload.domain.due import KINDS
    from caseload.store.due import Due

    found = Due(
        report.conn,
        report.policy,
        DUE_DAYS,
        as_of=report.as_of,
        team_id=report.team_id,
        today=report.today,
    )
    first, last = found.day, found.last
    per_day: dict[date, dict[str, int]] = {
        first + timedelta(days=n): dict.fromkeys(KINDS, 0) for n in range((last - first).days + 1)
    }
    overdue = dict.fromkeys(KINDS, 0)
    grouped, listed = found.summary(DUE_LISTED)
    total = 0
    for kind, due_on, n in grouped:
        # a day in the window (setdefault: a row 'due' lists is never left out), or overdue
        counts = overdue if due_on < first else per_day.setdefault(due_on, dict.fromkeys(KINDS, 0))
        counts[kind] += n
        total += n
    shown = [kind for kind in KINDS if overdue[kind] or any(c[kind] for c in per_day.values())]
    return {
        "from": first,
        "to": last,
        "days": DUE_DAYS,
        "kinds": shown,
        "descriptions": {kind: KINDS[kind] for kind in shown},
        "overdue": {"counts": {k: overdue[k] for k in shown}, "total": sum(overdue.values())},
        "by_day": [
            {
                "day": day,
                "counts": {k: counts[k] for k in shown},
                "total": sum(counts.values()),
            }
            for day, counts in sorted(per_day.items())
        ],
        "total": total,
        "listed": [
            {
                key: row[key]
                for key in ("kind", "due_on", "days_left", "reference", "collar", "name", "action")
            }
            for row in listed
        ],
        "more": total - len(listed),
    }


# --- absences coming ------------------------------------------------------------------------


def _live_by_officer(report: Report, officer_ids: set[int]) -> dict[int, int]:
    """Live crimes each of these officers holds on the day: one grouped count over
    ``holdings.live_holdings`` (what workload counts), for the few officers only."""
    from sqlalchemy import func, select

    from caseload.store.holdings import live_holdings

    if not officer_ids:
        return {}
    live = live_holdings(report.as_of)
    query = (
        select(live.c.holder_id, func.count())
        .where(live.c.holder_id.in_(sorted(officer_ids)))
        .group_by(live.c.holder_id)
    )
    return {int(holder): int(n) for holder, n in report.conn.execute(query)}


def absences(report: Report) -> dict[str, Any]:
    """The team's officers with an absence in force on the day or starting in the next
    ``ABSENCE_DAYS`` days (``officer absence list --from DAY --to DAY+7``'s rows, by
    the officer's team now), each with the live crimes they hold on the day; and how
    many officers are away (or on reduced duties) on each of those days."""
    from sqlalchemy import select

    from caseload.domain.absences import REDUCED
    from caseload.store.absences import list_absences
    from caseload.store.models import officer_table as o

    day = report.day
    last = day + timedelta(days=ABSENCE_DAYS)
    rows = list_absences(report.conn, team=report.team, starts=day, ends=last, today=day)
    collars = sorted({row["collar"] for row in rows})
    ids: dict[str, int] = {}
    if collars:
        query = select(o.c.collar, o.c.id).where(o.c.collar.in_(collars))
        ids = {str(collar): int(i) for collar, i in report.conn.execute(query)}
    live = _live_by_officer(report, set(ids.values()))
    listed = [
        {
            **{key: row[key] for key in ("id", "collar", "name", "kind", "percent", "state")},
            "from": row["from"],
            "to": row["to"],
            "days": row["days"],
            "live": live.get(ids.get(row["collar"], -1), 0),
        }
        for row in rows
    ]
    by_day = []
    for n in range(ABSENCE_DAYS + 1):
        when = day + timedelta(days=n)
        covering = [a for a in listed if a["from"] <= when and (a["to"] is None or a["to"] >= when)]
        by_day.append(
            {
                "day": when,
                "away": len({a["collar"] for a in covering if a["kind"] != REDUCED}),
                "reduced": len({a["collar"] for a in covering if a["kind"] == REDUCED}),
            }
        )
    return {
        "from": day,
        "to": last,
        "absences": listed,
        "officers": len(collars),
        "live": sum(live.values()),
        "by_day": by_day,
    }


# --- Victims' Code compliance ----------------------------------------------------------------


def compliance(report: Report) -> dict[str, Any]:
    """The compliance return (``report compliance --from DAY-27 --to DAY``) for the team:
    each duty's due, on time, late, outstanding and on-time rate. For the whole store, the
    force's totals only ('report compliance' lists every team)."""
    from caseload.domain.compliance import DUTIES, FORCE
    from caseload.store.compliance import compliance_return

    start = report.day - timedelta(days=COMPLIANCE_DAYS - 1)
    rows = compliance_return(
        report.conn, report.policy, start=start, end=report.day, team=report.team
    )
    if report.team is None:
        rows = [row for row in rows if row["team"] == FORCE]
    return {
        "from": start,
        "to": report.day,
        "days": COMPLIANCE_DAYS,
        "rows": [{**row, "description": DUTIES[row["duty"]]} for row in rows],
    }


SECTIONS: tuple[Section, ...] = (
    Section("headline", "Headline", headline, None, "_headline.html.j2"),
    Section("load", "Officers' load", load, charts.load_chart, "_load.html.j2"),
    Section(
        "findings", "Findings by severity", findings, charts.findings_chart, "_findings.html.j2"
    ),
    Section("trend", "Trend over recorded audits", trend, charts.trend_chart, "_trend.html.j2"),
    Section("due", "What falls due in the next 7 days", due, charts.due_chart, "_due.html.j2"),
    Section("absences", "Absences coming", absences, charts.absences_chart, "_absences.html.j2"),
    Section(
        "compliance",
        "Victims' Code compliance, last 28 days",
        compliance,
        charts.compliance_chart,
        "_compliance.html.j2",
    ),
)


def morning_figures(report: Report) -> dict[str, Any]:
    """Every section's figures, keyed by section, with what the page is about."""
    document: dict[str, Any] = {
        "report": "morning",
        "team": report.team.strip() if report.team else None,
        "as_of": report.day,
        "sections": [section.key for section in SECTIONS],
    }
    for section in SECTIONS:
        document[section.key] = section.figures(report)
    return document
