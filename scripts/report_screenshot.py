"""Regenerate the README's screenshot of the sample force's morning report.

    python scripts/report_screenshot.py [--out docs/morning-report.png] [--width 1280]

Builds the sample force in a temporary folder (``caseload init --sample``), records a
week of nightly audits for Lewisham CID (``audit --record --as-of``), writes the team's
morning report and photographs its top in headless Chromium (the distribution's
package: ``apt-get install chromium``; Playwright comes with the test extras).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEAM = "Lewisham CID"


def caseload(db: Path, *args: str, ok: tuple[int, ...] = (0,)) -> None:
    command = [sys.executable, "-m", "caseload", "--db", str(db), *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode not in ok:
        sys.exit(f"caseload {' '.join(args)} failed: {result.stderr.strip()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "morning-report.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1500, help="How much of the page.")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from caseload.report.browser import chromium_path, launch

    executable = chromium_path()
    if executable is None:
        sys.exit("No Chromium found: apt-get install chromium (or set CASELOAD_CHROMIUM).")
    with tempfile.TemporaryDirectory(prefix="caseload-shot-") as tmp:
        db, page_file = Path(tmp) / "caseload.db", Path(tmp) / "morning.html"
        caseload(db, "init", "--sample")
        today = date.today()
        for days in (7, 6, 5, 4, 3, 2, 1):
            day = (today - timedelta(days=days)).isoformat()
            caseload(db, "audit", "--team", TEAM, "--as-of", day, "--record", "-f", "json",
                     ok=(0, 1))  # fmt: skip
        caseload(db, "report", "morning", "--team", TEAM, "-o", str(page_file))
        with sync_playwright() as playwright:
            browser = launch(playwright, executable)
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            page.goto(page_file.as_uri())
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=False)
            browser.close()
    sys.stderr.write(f"Wrote {args.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
