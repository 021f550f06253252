"""The sample force (``caseload init --sample``) as the report tests use it: the team
they look at and the days they record an audit for."""

from __future__ import annotations

from datetime import date, timedelta

TEAM = "Lewisham CID"
TODAY = date.today()
RECORDED = [TODAY - timedelta(days=n) for n in (8, 5, 3, 1)]
