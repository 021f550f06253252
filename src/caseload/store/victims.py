"""The Victims' Code records beyond updates and key events: a crime's enhanced entitlement
with its category (``crime victim``) and Right 4 referrals (``victim-referral``).

Each change is written in the caller's transaction with its decision-log entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from caseload.store import log
from caseload.store.crimes import crime_table, find
from caseload.store.models import duty_start_table, log_table, referral_table


@dataclass(frozen=True)
class Entitlement:
    """What ``set_entitlement`` found and did: the crime, old and new (enhanced, category)."""

    crime: dict[str, Any]
    old: tuple[bool, str | None]
    new: tuple[bool, str | None]

    @property
    def changed(self) -> bool:
        return self.old != self.new


def set_entitlement(
    conn: Connection,
    reference: str,
    *,
    category: str | None,
    reason: str,
    actor: str,
    at: datetime,
) -> Entitlement:
    """Make the victim enhanced in ``category`` (a ``domain.victims`` code), or standard
    with None; logged as ``victim-entitlement`` with the reason. Unchanged writes nothing."""
    crime = find(conn, reference)
    old = (bool(crime["victim_enhanced"]), crime["victim_category"])
    new = (category is not None, category)
    done = Entitlement(crime, old, new)
    if not done.changed:
        return done
    conn.execute(
        update(crime_table)
        .where(crime_table.c.id == crime["id"])
        .values(victim_enhanced=new[0], victim_category=new[1])
    )
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="victim-entitlement",
        crime_ref=crime["reference"],
        collar=crime["holder"],
        reason=reason,
        detail={
            "enhanced": [old[0], new[0]],
            "category": [old[1], new[1]],
        },
    )
    return done


def entitlement_reason_query() -> Any:
    """The reason given with a crime's latest entitlement decision (``crime victim``), the
    crime's reference bound as ``reference`` (the named statement ``crime.entitlement``)."""
    from sqlalchemy import String, bindparam

    g = log_table
    return (
        select(g.c.reason)
        .where(
            g.c.crime_ref == bindparam("reference", "X", String()), g.c.kind == "victim-entitlement"
        )
        .order_by(g.c.id.desc())
        .limit(1)
    )


# --- Right 4: referrals to victim support services --------------------------------------------


def record_referral(
    conn: Connection,
    reference: str,
    *,
    on: date,
    declined: bool,
    actor: str,
    at: datetime,
) -> dict[str, Any]:
    """Record a Right 4 referral (or the victim's decline) dated ``on``; logged as
    ``victim-referral``. Returns the crime with ``due`` (the referral deadline) and
    ``on_time``."""
    from caseload.domain.victims import referral_due
    from caseload.store.reference import load_policy
    from caseload.store.supervision import check_day

    crime = find(conn, reference)
    check_day(crime, on, today=at.date(), what="referral")
    conn.execute(
        insert(referral_table).values(
            crime_id=crime["id"], referred_on=on, declined=declined, at=at, actor=actor
        )
    )
    due = referral_due(crime["reported_on"], load_policy(conn).referral_working_days)
    log.append(
        conn,
        at=at,
        actor=actor,
        kind="victim-referral",
        crime_ref=crime["reference"],
        collar=crime["holder"],
        reason="the victim declined a referral" if declined else "referred",
        detail={"on": on.isoformat(), "declined": declined, "due": due.isoformat()},
    )
    return {**crime, "due": due, "on_time": on <= due}


def referral_start(conn: Connection) -> date | None:
    """The day the store began recording Right 4 referrals (``duty_start``)."""
    row = conn.execute(
        select(duty_start_table.c.start_on).where(duty_start_table.c.duty == REFERRAL_DUTY)
    ).first()
    return None if row is None else row[0]


REFERRAL_DUTY = "victim-referral"
