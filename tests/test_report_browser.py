"""The morning report as a browser shows it: the sample force's page in headless Chromium.

Playwright for Python drives the distribution's Chromium (``/usr/bin/chromium``; .ci/run
installs Debian's package where it is missing). Without a browser these tests skip
locally and fail under CI=true.

Checked: no console error, no request but the file itself (every request is routed and
anything else aborted), each section and chart present, the page's figures equal to
``workload``/``audit``/``audit trend``/``team list`` JSON for the same store and day, no
horizontal overflow at 390 and 1280 px (nor printed on A4), and screenshots that are not
blank.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import invoke
from tests.helpers.sample import RECORDED, TEAM, TODAY

pytestmark = pytest.mark.slow


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run; see .ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    from caseload.report.browser import chromium_path, launch

    executable = chromium_path()
    if executable is None:
        _unavailable("no Chromium at /usr/bin/chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = launch(playwright, str(executable))
        yield launched
        launched.close()


def cli(db: Path, *args: str) -> Any:
    result = invoke(["--db", str(db), *args], env={"NO_COLOR": "1"})
    assert result.exit_code in (0, 1), result.output
    return result


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sample force with four recorded audits, its report, and the commands' JSON."""
    folder = tmp_path_factory.mktemp("report-browser")
    db = folder / "caseload.db"
    cli(db, "init", "--sample")
    for day in RECORDED:
        cli(db, "audit", "--team", TEAM, "--as-of", day.isoformat(), "--record", "-f", "json")
    # An absence coming (leave from in three days) and one in force (reduced duties).
    soon, since = TODAY + timedelta(days=3), TODAY - timedelta(days=2)
    cli(db, "officer", "absence", "add", "XA1667", "--from", soon.isoformat(), "--kind", "leave",
        "--to", (soon + timedelta(days=7)).isoformat(), "-r", "test")  # fmt: skip
    cli(db, "officer", "absence", "add", "PG5019", "--from", since.isoformat(),
        "--kind", "reduced", "--percent", "50", "-r", "test")  # fmt: skip
    page = folder / "morning.html"
    cli(db, "report", "morning", "--team", TEAM, "-o", str(page))

    def as_json(*args: str) -> Any:
        return json.loads(cli(db, *args, "-f", "json").stdout)

    return {
        "page": page,
        "workload": as_json("workload", "--team", TEAM),
        "audit": as_json("audit", "--team", TEAM),
        "trend": as_json("audit", "trend", "--team", TEAM),
        "teams": {t["team"]: t for t in as_json("team", "list")},
        "absences": as_json("officer", "absence", "list", "--team", TEAM, "--from",
                            TODAY.isoformat(), "--to", (TODAY + timedelta(days=7)).isoformat()),
        "compliance": as_json("report", "compliance", "--team", TEAM, "--from",
                              (TODAY - timedelta(days=27)).isoformat(), "--to", TODAY.isoformat()),
        "live": {w["collar"]: w["live"] for w in as_json("workload")},
        "due": as_json("due", "--team", TEAM, "--days", "7"),
    }  # fmt: skip


class Visit:
    """One page load, with every console message, page error and request seen."""

    def __init__(self, browser: Any, page_file: Path, width: int, media: str = "screen") -> None:
        self.url = page_file.as_uri()
        self.console: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.context.route("**/*", self._route)
        self.page.emulate_media(media=media)
        self.page.goto(self.url, wait_until="load")

    def _route(self, route: Any) -> None:
        if route.request.url == self.url:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: Any, sample: dict[str, Any]) -> Iterator[Any]:
    opened: list[Visit] = []

    def _visit(width: int = 1280, media: str = "screen") -> Visit:
        opened.append(Visit(browser, sample["page"], width, media))
        return opened[-1]

    yield _visit
    for one in opened:
        one.close()


def test_the_page_loads_offline_without_errors(visit: Any) -> None:
    seen = visit()
    seen.page.wait_for_timeout(300)  # anything late (a font, a beacon) would show by now
    assert seen.requests == [seen.url]
    assert seen.blocked == []
    assert seen.errors == []
    assert [m for m in seen.console if m.startswith(("error", "warning"))] == []


def test_each_section_and_chart_is_there(visit: Any) -> None:
    page = visit().page
    sections = page.eval_on_selector_all(
        "section[data-section]",
        "els => els.map(e => [e.dataset.section, e.querySelector('h2').textContent])",
    )
    assert sections == [
        ["headline", "Headline"],
        ["load", "Officers' load"],
        ["findings", "Findings by severity"],
        ["trend", "Trend over recorded audits"],
        ["due", "What falls due in the next 7 days"],
        ["absences", "Absences coming"],
        ["compliance", "Victims' Code compliance, last 28 days"],
    ]
    drawn_as = (
        ("load", "rect"),
        ("findings", "rect"),
        ("trend", "path"),
        ("due", "rect"),
        ("absences", "rect"),
        ("compliance", "rect"),
    )
    for chart, shape in drawn_as:
        svg = page.locator(f'figure[data-chart="{chart}"] svg')
        assert svg.count() == 1, chart
        box = svg.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100, chart
        drawn = page.locator(f'figure[data-chart="{chart}"] svg .plot {shape}').count()
        assert drawn > 3, chart
    # every chart has its table beside or under it
    tables = ("load", "severity", "trend", "due-days", "due", "absences", "absent-days")
    for table in (*tables, "compliance"):
        assert page.locator(f'table[data-table="{table}"] tbody tr').count() > 0, table


def _table(page: Any, selector: str, key: str) -> list[dict[str, Any]]:
    """Rows of a table: the row's data-KEY, and each cell's data-field text."""
    return list(
        page.eval_on_selector_all(
            f"{selector} tbody tr",
            """(rows, key) => rows.map(r => {
                const out = {key: r.dataset[key] ?? null};
                r.querySelectorAll('[data-field]').forEach(c => {
                    out[c.dataset.field] = c.textContent.trim();
                });
                return out;
            })""",
            key,
        )
    )


def _number(text: str) -> int | None:
    return int(text) if text else None


def test_the_figures_equal_workload_audit_and_trend(visit: Any, sample: dict[str, Any]) -> None:
    page = visit().page
    workload, audit, trend = sample["workload"], sample["audit"], sample["trend"]

    load = _table(page, 'table[data-table="load"]', "collar")
    assert [row["key"] for row in load] == [w["collar"] for w in workload]
    for row, theirs in zip(load, workload, strict=True):
        assert _number(row["live"]) == theirs["live"]
        assert _number(row["weighted_load"]) == theirs["weighted_load"]
        ceilings = [v for v in (theirs["limit"], theirs["capacity"]) if v is not None]
        assert _number(row["ceiling"]) == (min(ceilings) if ceilings else None)
        assert ("inexperienced" in row) == theirs["inexperienced"]
    over = page.eval_on_selector_all(
        'table[data-table="load"] tr.over', "rows => rows.map(r => r.dataset.collar)"
    )
    assert over == [
        w["collar"] for w in workload if {"over-limit", "over-capacity"} & set(w["flags"].split())
    ]
    assert over, "the sample force has an officer over capacity"

    severity = _table(page, 'table[data-table="severity"]', "severity")
    counts = {row["key"]: _number(row["count"]) for row in severity if row["key"]}
    assert counts == audit["counts"]["by_severity"]
    codes = _table(page, 'table[data-table="severity"]', "code")
    by_code = {row["key"]: _number(row["count"]) for row in codes if row["key"]}
    assert by_code == {code: n for code, n in audit["counts"]["by_code"].items() if n}
    for code in by_code:
        listed = _table(page, f'table[data-table="findings"][data-code="{code}"]', "none")
        theirs = [f for f in audit["findings"] if f["code"] == code]
        assert [(r["reference"] or None, r["collar"] or None) for r in listed] == [
            (f["reference"], f["collar"]) for f in theirs[:50]
        ]

    runs = _table(page, 'table[data-table="trend"]', "asOf")
    assert [row["key"] for row in runs] == [t["as_of"] for t in trend]
    assert [_number(row["total"]) for row in runs] == [t["total"] for t in trend]

    tiles = dict(
        page.eval_on_selector_all(
            "[data-tile]",
            "els => els.map(e => [e.dataset.tile, e.querySelector('[data-field=value]')"
            ".textContent.trim()])",
        )
    )
    by_code_all = audit["counts"]["by_code"]
    assert tiles == {
        "live": str(sample["teams"][TEAM]["live"]),
        "unallocated": str(by_code_all["unallocated"]),
        "over_limit": str(by_code_all["inexperienced-over-limit"] + by_code_all["over-capacity"]),
        "high": str(audit["counts"]["by_severity"]["high"]),
    }


def test_absences_and_compliance_equal_their_commands(visit: Any, sample: dict[str, Any]) -> None:
    page = visit().page
    listed = sample["absences"]
    absences = _table(page, 'table[data-table="absences"]', "id")
    assert [int(row["key"]) for row in absences] == [a["id"] for a in listed]
    assert [row["collar"] for row in absences] == ["PG5019", "XA1667"]
    for row, theirs in zip(absences, listed, strict=True):
        assert row["collar"] == theirs["collar"] and row["state"] == theirs["state"]
        assert row["kind"].split()[0] == theirs["kind"]
        assert row["from"] == theirs["from"]
        assert row["to"] == (theirs["to"] or "open")
        assert _number(row["live"]) == sample["live"].get(theirs["collar"], 0)
    days = _table(page, 'table[data-table="absent-days"]', "day")
    assert [row["key"] for row in days] == [
        (TODAY + timedelta(days=n)).isoformat() for n in range(8)
    ]
    assert [(_number(r["away"]), _number(r["reduced"])) for r in days] == [(0, 1)] * 3 + [
        (1, 1)
    ] * 5

    duties = _table(page, 'table[data-table="compliance"]', "duty")
    theirs = sample["compliance"]
    assert [row["key"] for row in duties] == [r["duty"] for r in theirs]
    for row, duty in zip(duties, theirs, strict=True):
        for key in ("due", "on_time", "late", "outstanding"):
            assert _number(row[key]) == duty[key], (duty["duty"], key)
        rate = duty["on_time_rate"]
        assert row["on_time_rate"] == ("" if rate is None else str(rate))
    assert any(duty["due"] for duty in theirs)


def test_what_falls_due_equals_the_due_command(visit: Any, sample: dict[str, Any]) -> None:
    """The chart is SVG with its table beside it; the table's counts per day and kind (and
    overdue) and the list of the soonest are ``caseload due --days 7``'s rows."""
    page = visit().page
    theirs = sample["due"]
    section = page.locator('section[data-section="due"]')
    assert section.locator('figure[data-chart="due"] svg').count() == 1
    assert section.locator('table[data-table="due-days"]').count() == 1
    days = _table(page, 'table[data-table="due-days"]', "day")
    assert [row["key"] for row in days] == ["overdue"] + [
        (TODAY + timedelta(days=n)).isoformat() for n in range(8)
    ]
    kinds = [k for k in days[0] if k not in ("key", "total")]
    expected = {(row["key"], kind): 0 for row in days for kind in kinds}
    for duty in theirs:
        expected["overdue" if duty["days_left"] < 0 else duty["due_on"], duty["kind"]] += 1
    assert {(row["key"], k): _number(row[k]) for row in days for k in kinds} == expected
    assert sum(_number(row["total"]) or 0 for row in days) == len(theirs)
    # each kind drawn is a series of bars in the chart, in its own pattern
    drawn = {k for k in kinds if any(d["due_on"] == r["key"] and d["kind"] == k
                                      for d in theirs for r in days[1:])}  # fmt: skip
    for kind in drawn:
        bars = section.locator(
            f'figure[data-chart="due"] svg .plot .bar[style*="#due-{kind}"] rect'
        )
        assert bars.count() > 0, kind
    listed = _table(page, 'table[data-table="due"]', "daysLeft")
    assert [
        (r["reference"] or None, r["kind"], r["due_on"], r["collar"] or None) for r in listed
    ] == [(d["reference"], d["kind"], d["due_on"], d["collar"]) for d in theirs[: len(listed)]]
    assert [int(r["key"]) for r in listed] == [d["days_left"] for d in theirs[: len(listed)]]
    more = section.locator('[data-field="more"]').text_content() or ""
    assert f"And {len(theirs) - len(listed)} more" in more


def test_what_falls_due_fits_a_phone(visit: Any) -> None:
    page = visit(390).page
    right = page.evaluate(
        "document.querySelector('section[data-section=due]').getBoundingClientRect().right"
    )
    assert right <= 390
    box = page.locator('figure[data-chart="due"] svg').bounding_box()
    assert box is not None and 200 < box["width"] <= 390
    shot = page.locator('figure[data-chart="due"]').screenshot()
    assert _distinct_colours(shot) > 10


def _distinct_colours(png: bytes) -> int:
    """Distinct RGB colours in an 8-bit RGB or RGBA PNG (what Chromium writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = data
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour_type in (2, 6)
    bpp = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    previous, colours = bytearray(stride), set()
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + best) & 255
        colours.update(bytes(line[i : i + 3]) for i in range(0, stride, bpp * 2))
        previous = line
    return len(colours)


@pytest.mark.parametrize("width", [390, 1280])
def test_no_horizontal_overflow_and_the_screen_is_not_blank(visit: Any, width: int) -> None:
    page = visit(width).page
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{scroll} px wide in a {inner} px window"
    # nothing sticks out of the page either (a chart or table wider than the screen)
    widest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('main > section')]"
        ".map(s => s.getBoundingClientRect().right))"
    )
    assert widest <= inner
    shot = page.screenshot(full_page=False)
    assert _distinct_colours(shot) > 40  # text, tiles, bars in several colours
    charts = page.locator('figure[data-chart="load"]').screenshot()
    assert _distinct_colours(charts) > 10


def test_printed_on_a4_nothing_is_cut_off(visit: Any) -> None:
    # A4 is 210 mm wide; with the page's 12 mm margins 186 mm, about 703 CSS px.
    seen = visit(703, media="print")
    scroll, inner = seen.page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert scroll <= inner
    pdf = seen.page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
