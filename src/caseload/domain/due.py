"""What falls due (``caseload due``): the duties, when each is due, and what to do.

A duty's ``due_on`` is the last day it may be done on time, as the audit counts it: the
audit reports the duty from the day after (so ``days_left`` below 0, overdue, is exactly
what the audit would find on the as-of day). ``days_left`` is ``due_on`` less the as-of
day. The window is the as-of day to ``days`` days after it; every duty still outstanding
whose day has passed is included too, however old, and they sort first (by date).

* ``review``: a live crime's next supervisory review (the last review or the report plus
  the crime's team's review interval, ``domain.risk.review_interval`` for its grade, or the
  next-review date the last review set, if sooner: ``domain.audit.review_due``).
* ``victim-update``: the next routine victim update (the last update or the report plus
  the frequency agreed with the victim, else the team's ``victim_update_days``).
* ``notification``: Victims' Code Right 6, a key event not yet told to the victim:
  ``notify_working_days`` (``notify_working_days_enhanced`` for an enhanced-service
  victim) working days after it, the crime's team's values.
* ``referral``: Right 4, referral to victim support services (or the victim's decline)
  within ``referral_working_days`` working days of reporting; only crimes the duty covers
  (reported on or after the day the store began recording referrals), as the audit.
* ``unallocated``: a live crime with no holder, due to be allocated by the day its
  ``unallocated_days`` run out.
* ``absence``: an away absence (not reduced duties) starting in the window while the
  officer holds live crimes: due on its first day, for a handover before it.
* ``experienced``: an officer passing from inexperienced to experienced in the window
  (``inexperienced_months`` of their team): from that day the inexperienced limit no
  longer applies to them. Never overdue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from caseload.domain.audit import review_due
from caseload.domain.officers import experienced_from, is_inexperienced

DEFAULT_DAYS = 7

# The kinds, in the order rows due on the same day are listed.
KINDS: dict[str, str] = {
    "notification": "Victims' Code Right 6: tell the victim of a key event",
    "referral": "Victims' Code Right 4: refer the victim to support services",
    "review": "supervisory review of a live crime",
    "victim-update": "routine victim update",
    "unallocated": "allocate a live crime that has no holder",
    "absence": "hand over an officer's live crimes before their absence starts",
    "experienced": "an officer stops counting as inexperienced (the limit stops applying)",
}
KIND_ORDER = {kind: i for i, kind in enumerate(KINDS)}

# Field names of a row in every output (stable: scripts read them).
COLUMNS: tuple[str, ...] = (
    "kind",
    "due_on",
    "days_left",
    "team",
    "collar",
    "name",
    "reference",
    "action",
)


def window_end(as_of: date, days: int) -> date:
    """The last day of the window."""
    return as_of + timedelta(days=days)


def first_experienced_day(investigator_since: date, inexperienced_months: int) -> date:
    """The first day a non-trainee who began investigating on ``investigator_since`` no
    longer counts as inexperienced (``domain.officers.is_inexperienced``; month ends
    taken as that rule takes them: 31 August plus 6 months is 1 March, not 28 February)."""
    day = experienced_from(investigator_since, inexperienced_months)
    while is_inexperienced(
        trainee=False,
        investigator_since=investigator_since,
        on=day,
        inexperienced_months=inexperienced_months,
    ):
        day += timedelta(days=1)
    return day


def nearest_collar(collar: str, known: Iterable[str]) -> str | None:
    """The known collar closest to ``collar`` (upper-case), for a typo's message."""
    from difflib import get_close_matches

    found = get_close_matches(collar.strip().upper(), list(known), n=1, cutoff=0.6)
    return found[0] if found else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def due_on(kind: str, row: Mapping[str, Any]) -> date:
    """When the duty of a query row (``store.due``) falls due."""
    if kind == "review":
        return review_due(
            row["last_review"], row["reported_on"], row["next_due"], int(row["limit"])
        )
    if kind == "victim-update":
        base = row["last_update"] or row["reported_on"]
        return base + timedelta(days=int(row["limit"]))
    if kind in ("notification", "referral"):
        return row["deadline"]
    if kind == "unallocated":
        return row["since"] + timedelta(days=int(row["limit"]))
    if kind == "absence":
        return row["starts_on"]
    if kind == "experienced":
        return first_experienced_day(row["investigator_since"], int(row["limit"]))
    raise ValueError(f"unknown duty kind {kind}")


# What to do, a short sentence per kind, its ``{fields}`` worked out from the duty's row:
# ``action`` fills them in Python, ``store.due`` in SQL (the same words either way).
ACTIONS: dict[str, str] = {
    "review": "Review the investigation ({basis}; every {every}).",
    "victim-update": "Update the victim ({basis}; every {every}, {agreed}).",
    "notification": "Tell the victim: {event} on {occurred_on} ({working_days}, {service}).",
    "referral": (
        "Refer the victim to support services or record their decline (reported {reported_on})."
    ),
    "unallocated": "Allocate it (no holder since {since}).",
    "absence": "Hand over {live} before {absence} (caseload handover {collar}).",
    "experienced": (
        "Stops counting as inexperienced: the limit of {inexperienced_limit} no longer applies."
    ),
}
# The words for a review's or victim update's basis when there has been none yet, and for
# an agreed or default frequency, an enhanced or standard service.
NEVER = {"review": "never reviewed", "victim-update": "none yet"}
AGREED = ("agreed", "default")
SERVICE = ("enhanced", "standard")


def action(kind: str, row: Mapping[str, Any]) -> str:
    """What to do, in a short sentence (``ACTIONS``)."""
    if kind not in ACTIONS:
        raise ValueError(f"unknown duty kind {kind}")
    return ACTIONS[kind].format(**_action_fields(kind, row))


def _action_fields(kind: str, row: Mapping[str, Any]) -> dict[str, Any]:
    if kind in ("review", "victim-update"):
        last = row.get("last_review" if kind == "review" else "last_update")
        fields = {
            "basis": f"last {last}" if last is not None else NEVER[kind],
            "every": _plural(int(row["limit"]), "day"),
        }
        if kind == "victim-update":
            fields["agreed"] = AGREED[0] if row.get("agreed") else AGREED[1]
        return fields
    if kind == "notification":
        from caseload.domain.events import describe_event

        return {
            "event": describe_event(str(row["kind"])),
            "occurred_on": row["occurred_on"],
            "working_days": _plural(int(row["working_days"]), "working day"),
            "service": SERVICE[0] if row["victim_enhanced"] else SERVICE[1],
        }
    if kind == "referral":
        return {"reported_on": row["reported_on"]}
    if kind == "unallocated":
        return {"since": row["since"]}
    if kind == "absence":
        from caseload.domain.absences import Absence

        absence = Absence(0, str(row["kind"]), row["starts_on"], row["ends_on"])
        return {
            "live": _plural(int(row["live"]), "live crime"),
            "absence": absence.words(),
            "collar": row["collar"],
        }
    return {"inexperienced_limit": row["inexperienced_limit"]}


def duty(kind: str, row: Mapping[str, Any], as_of: date) -> dict[str, Any]:
    """One output row (``COLUMNS``) from a query row of the kind."""
    due = due_on(kind, row)
    return {
        "kind": kind,
        "due_on": due,
        "days_left": (due - as_of).days,
        "team": row.get("team"),
        "collar": row.get("collar"),
        "name": row.get("name"),
        "reference": row.get("reference"),
        "action": action(kind, row),
    }


def in_window(row: Mapping[str, Any], as_of: date, days: int) -> bool:
    """Overdue (any age) or due by the window's last day."""
    return bool(row["due_on"] <= window_end(as_of, days))


def team_key(team: str | None) -> str:
    """How teams sort in ``ordered``: by name, case aside."""
    return str(team or "").lower()


def ordered(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """By due date (overdue first), then kind, team, officer (none last), crime and the
    action (two key events of one crime falling due on one day): deterministic.
    ``store.due`` orders its query so, in SQL."""
    return sorted(
        rows,
        key=lambda r: (
            r["due_on"],
            KIND_ORDER[r["kind"]],
            team_key(r["team"]),
            r["collar"] or "~",
            r["reference"] or "",
            r["action"],
        ),
    )


def overdue(rows: Iterable[Mapping[str, Any]]) -> int:
    """How many rows are overdue (``--fail-on-overdue`` exits 1 when any is)."""
    return sum(1 for r in rows if r["days_left"] < 0)


def summary(rows: Iterable[Mapping[str, Any]]) -> str:
    """``12 duties: 3 overdue, 1 due today, 8 later in the window.``"""
    listed = list(rows)
    late = overdue(listed)
    today = sum(1 for r in listed if r["days_left"] == 0)
    later = len(listed) - late - today
    return (
        f"{_plural(len(listed), 'duty').replace('dutys', 'duties')}: {late} overdue, "
        f"{today} due today, {later} later in the window."
    )
