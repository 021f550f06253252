"""The morning report's charts: SVG drawn by pygal from a section's figures.

Each function takes the figures ``report.figures`` made for its section and returns
one ``<svg>`` element to inline into the page, or None when there is nothing to draw
(no XML declaration, no script: pygal's tooltip script is off, its stylesheet is
inlined in the SVG). Colours are from the
Okabe-Ito palette, which stays distinguishable with the common colour-vision
deficiencies; what matters (over a limit, high severity) also differs in pattern or
line style, and the table beside every chart holds the same figures.
"""

from __future__ import annotations

import math
from typing import Any

BLUE = "#0072B2"
VERMILLION = "#D55E00"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
PURPLE = "#CC79A7"
BLACK = "#000000"
GREY = "#D9D9D9"
INK = "#222222"

# Hatched fills (diagonal stripes): the over-limit part of a bar and the high-severity
# bar differ from the rest in shape, not only in colour. Ids are unique in the page.
OVER_PATTERN = "load-over-hatch"
HIGH_PATTERN = "severity-high-hatch"


def _hatch(pattern_id: str, colour: str) -> str:
    return (
        f'<pattern id="{pattern_id}" patternUnits="userSpaceOnUse" width="8" height="8" '
        f'patternTransform="rotate(45)"><rect width="8" height="8" fill="{colour}"/>'
        f'<rect width="3" height="8" fill="#ffffff" fill-opacity="0.75"/></pattern>'
    )


def _config(**extra: Any) -> dict[str, Any]:
    """What every chart shares: no script, no XML declaration, sized by the page."""
    from pygal.style import Style

    style = Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground=INK,
        foreground_strong=INK,
        foreground_subtle="#666666",
        font_family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
        label_font_size=13,
        major_label_font_size=13,
        value_font_size=13,
        legend_font_size=14,
        title_font_size=16,
        colors=extra.pop("colors", (BLUE, VERMILLION, GREY)),
        opacity="0.9",
        opacity_hover="1",
    )
    return {
        "style": style,
        "js": [],
        "disable_xml_declaration": True,
        "explicit_size": False,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "show_y_guides": True,
        "print_zeroes": False,
        **extra,
    }


def _without_scripts(root: Any) -> Any:
    """pygal writes its tooltip configuration as an inline ``<script>`` even with no
    script to read it; the page runs none (its Content-Security-Policy forbids it)."""
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _svg(chart: Any) -> str:
    chart.add_xml_filter(_without_scripts)
    return str(chart.render(is_unicode=True))


def load_chart(figures: dict[str, Any]) -> str | None:
    """A bar per charted officer (the most overloaded first, at the top): live crimes up
    to their limit or capacity in blue, the part over it hatched vermillion, and the
    headroom left to it in grey; ``*`` marks an inexperienced officer."""
    import pygal

    charted = figures["officers"][: figures["charted"]]
    if not charted:
        return None
    rows = list(reversed(charted))  # pygal draws the first label at the bottom
    chart = pygal.HorizontalStackedBar(
        **_config(
            width=520,
            height=max(140, 24 * len(rows) + 50),
            defs=[_hatch(OVER_PATTERN, VERMILLION)],
            print_values=False,
            show_legend=False,  # the page's caption is the legend (with the hatch)
            margin=8,
            spacing=6,
        )
    )
    chart.x_labels = [
        f"{'* ' if r['inexperienced'] else ''}{r['collar']} {r['name']}"[:30] for r in rows
    ]
    within: list[Any] = []
    over: list[Any] = []
    headroom: list[Any] = []
    for r in rows:
        ceiling = r["ceiling"]
        live = r["live"]
        if ceiling is None:
            within.append(live)
            over.append(None)
            headroom.append(None)
            continue
        within.append(min(live, ceiling))
        excess = max(0, live - ceiling)
        over.append(
            {"value": excess, "style": f"fill: url(#{OVER_PATTERN}); stroke: {INK}"}
            if excess
            else None
        )
        headroom.append(max(0, ceiling - live) or None)
    chart.add("Live, within limit or capacity", within)
    chart.add("Live, over limit or capacity", over)
    chart.add("Headroom to limit or capacity", headroom)
    return _svg(chart)


def findings_chart(figures: dict[str, Any]) -> str | None:
    """One bar per severity, its count printed on it; high is hatched."""
    import pygal

    by_severity = figures["by_severity"]
    if not any(by_severity.values()):
        return None
    chart = pygal.Bar(
        **_config(
            width=480,
            height=260,
            colors=(VERMILLION, ORANGE, SKY),
            defs=[_hatch(HIGH_PATTERN, VERMILLION)],
            print_values=True,
            show_legend=False,
            margin=8,
        )
    )
    chart.x_labels = list(by_severity)
    colours = {"high": VERMILLION, "medium": ORANGE, "low": SKY}
    styles = {
        "high": f"fill: url(#{HIGH_PATTERN}); stroke: {INK}",
        "medium": f"fill: {ORANGE}; stroke: {INK}",
        "low": f"fill: {SKY}; stroke: {INK}",
    }
    chart.add(
        "Findings",
        [
            {"value": n, "color": colours[severity], "style": styles[severity]}
            for severity, n in by_severity.items()
        ],
    )
    return _svg(chart)


def trend_chart(figures: dict[str, Any]) -> str | None:
    """Findings by severity per recorded audit, oldest first: a line each, told apart by
    colour and by dash pattern (solid high, dashed medium, dotted low)."""
    import pygal

    runs = figures["runs"]
    if not runs:
        return None
    top = max(max(run["by_severity"].values()) for run in runs)
    chart = pygal.Line(
        **_config(
            range=(0, max(4, math.ceil(top * 1.1))),
            width=640,
            height=300,
            colors=(VERMILLION, ORANGE, BLUE),
            x_label_rotation=30,
            show_minor_x_labels=len(runs) <= 10,
            x_labels_major_every=max(1, len(runs) // 6),
            margin=8,
            dots_size=4,
        )
    )
    chart.x_labels = [run["as_of"].isoformat() for run in runs]
    dashes = {"high": None, "medium": "8, 4", "low": "2, 4"}
    for severity, dash in dashes.items():
        stroke: dict[str, Any] = {"width": 3}
        if dash:
            stroke["dasharray"] = dash
        chart.add(severity, [run["by_severity"][severity] for run in runs], stroke_style=stroke)
    return _svg(chart)


ABSENT_PATTERN = "absences-reduced-hatch"
OUTSTANDING_PATTERN = "compliance-outstanding-hatch"


def absences_chart(figures: dict[str, Any]) -> str | None:
    """Officers away on each day from the day to a week on, a bar a day; those on reduced
    duties stacked above, hatched."""
    import pygal

    if not figures["absences"]:
        return None
    days = figures["by_day"]
    top = max(d["away"] + d["reduced"] for d in days)
    chart = pygal.StackedBar(
        **_config(
            width=520,
            height=240,
            colors=(BLUE, SKY),
            defs=[_hatch(ABSENT_PATTERN, SKY)],
            range=(0, max(2, top)),
            y_labels=list(range(max(2, top) + 1)),
            print_values=False,
            show_legend=False,  # the caption is the legend (with the hatch)
            margin=8,
        )
    )
    chart.x_labels = [d["day"].strftime("%a %d") for d in days]
    chart.add("Away", [d["away"] or None for d in days])
    chart.add(
        "Reduced duties",
        [
            {"value": d["reduced"], "style": f"fill: url(#{ABSENT_PATTERN}); stroke: {INK}"}
            if d["reduced"]
            else None
            for d in days
        ],
    )
    return _svg(chart)


def compliance_chart(figures: dict[str, Any]) -> str | None:
    """A bar per duty: met on time (blue), met late (orange) and outstanding (hatched
    vermillion), as counts of the duties that fell due in the period."""
    import pygal

    rows = figures["rows"]
    if not any(row["due"] for row in rows):
        return None
    shown = list(reversed(rows))  # pygal draws the first label at the bottom
    chart = pygal.HorizontalStackedBar(
        **_config(
            width=560,
            height=max(160, 44 * len(shown) + 60),
            colors=(BLUE, ORANGE, VERMILLION),
            defs=[_hatch(OUTSTANDING_PATTERN, VERMILLION)],
            print_values=False,
            show_legend=False,  # the caption is the legend (with the hatch)
            margin=8,
            spacing=8,
        )
    )
    chart.x_labels = [row["duty"] for row in shown]
    chart.add("Met on time", [row["on_time"] or None for row in shown])
    chart.add("Met late", [row["late"] or None for row in shown])
    chart.add(
        "Outstanding",
        [
            {
                "value": row["outstanding"],
                "style": f"fill: url(#{OUTSTANDING_PATTERN}); stroke: {INK}",
            }
            if row["outstanding"]
            else None
            for row in shown
        ],
    )
    return _svg(chart)


# What falls due: a colour and a fill pattern per kind (domain.due.KINDS), so that two
# kinds never differ in colour alone; the page's legend (morning.css, .legend-key.due-*)
# draws the same swatches.
DUE_STYLES: dict[str, tuple[str, str]] = {
    "notification": (VERMILLION, "hatch"),
    "referral": (PURPLE, "dots"),
    "review": (BLUE, "solid"),
    "victim-update": (ORANGE, "backhatch"),
    "unallocated": (GREEN, "horizontal"),
    "absence": (SKY, "vertical"),
    "experienced": (BLACK, "cross"),
}


def _due_pattern(kind: str) -> str:
    colour, fill = DUE_STYLES[kind]
    head = f'<pattern id="due-{kind}" patternUnits="userSpaceOnUse" width="8" height="8"'
    base = f'<rect width="8" height="8" fill="{colour}"/>'
    light = 'fill="#ffffff" fill-opacity="0.75"'
    marks = {
        "solid": "",
        "hatch": f'<rect width="3" height="8" {light}/>',
        "backhatch": f'<rect width="3" height="8" {light}/>',
        "horizontal": f'<rect width="8" height="3" {light}/>',
        "vertical": f'<rect width="3" height="8" {light}/>',
        "dots": f'<circle cx="4" cy="4" r="2" {light}/>',
        "cross": f'<rect width="8" height="2" {light}/><rect width="2" height="8" {light}/>',
    }[fill]
    turn = {
        "hatch": ' patternTransform="rotate(45)"',
        "backhatch": ' patternTransform="rotate(-45)"',
    }
    return f"{head}{turn.get(fill, '')}>{base}{marks}</pattern>"


def due_chart(figures: dict[str, Any]) -> str | None:
    """A stacked bar a day, from the day to the window's last: the duties falling due that
    day by kind, each kind in its own colour and fill pattern. Overdue duties are not
    drawn (they are in the table and the findings)."""
    import pygal

    days = figures["by_day"]
    kinds = [k for k in figures["kinds"] if any(d["counts"][k] for d in days)]
    if not kinds:
        return None
    top = max(d["total"] for d in days)
    chart = pygal.StackedBar(
        **_config(
            width=520,
            height=260,
            colors=tuple(DUE_STYLES[k][0] for k in kinds),
            defs=[_due_pattern(k) for k in kinds],
            range=(0, max(2, top)),
            print_values=False,
            show_legend=False,  # the caption is the legend (with the patterns)
            margin=8,
        )
    )
    chart.x_labels = [d["day"].strftime("%a %d") for d in days]
    for kind in kinds:
        style = f"fill: url(#due-{kind}); stroke: {INK}"
        chart.add(
            kind,
            [
                {"value": d["counts"][kind], "style": style} if d["counts"][kind] else None
                for d in days
            ],
        )
    return _svg(chart)
