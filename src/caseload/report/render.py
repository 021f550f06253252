"""The morning report as one self-contained HTML page (jinja2), or its figures as JSON.

The page inlines everything it shows: the stylesheet, and each chart as an ``<svg>``
element. It loads nothing (no script, font, stylesheet or image from anywhere), and
its Content-Security-Policy says so to the browser, so it opens the same from a file
share, an e-mail attachment or a laptop with no network.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from caseload import __version__
from caseload.report.figures import SECTIONS

TEMPLATES = Path(__file__).resolve().parent / "templates"


def to_json(document: dict[str, Any], *, generated_at: datetime) -> str:
    """The figures every section shows, as one JSON document (ISO dates)."""
    from caseload.cli.output import json_value

    body = {"generated_at": generated_at, **document}
    return json.dumps(body, default=json_value, indent=2) + "\n"


def _bytecode_cache() -> Any:
    """jinja2's cache of the compiled templates (its per-user folder in the temporary
    directory, keyed by each template's source, so an upgrade never reads a stale one):
    compiling the page's templates costs more than rendering a team's page. None (compile
    each time) where that folder cannot be made safely."""
    from jinja2 import FileSystemBytecodeCache

    try:
        return FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


def to_html(document: dict[str, Any], *, generated_at: datetime) -> str:
    """The page: each section's template partial with its figures and its chart."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        bytecode_cache=_bytecode_cache(),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    charts: dict[str, str | None] = {
        section.key: section.chart(document[section.key]) if section.chart else None
        for section in SECTIONS
    }
    team = document["team"]
    return env.get_template("morning.html.j2").render(
        figures=document,
        sections=SECTIONS,
        charts=charts,
        scope=f"Team {team}" if team else "Whole store",
        team=team,
        day=document["as_of"].isoformat(),
        generated_at=generated_at.isoformat(sep=" ", timespec="minutes"),
        version=__version__,
    )
