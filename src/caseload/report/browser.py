"""Headless Chromium for checking the morning report as a browser shows it.

Used by the browser tests (tests/test_report_browser.py) and the README's screenshot
(scripts/report_screenshot.py), through Playwright for Python (a test extra) driving
the distribution's Chromium: Playwright's own browser download cannot run on every
machine, and the page must work in the browser people have anyway.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

CHROMIUM = "/usr/bin/chromium"
# No first-run work, no background requests of the browser's own: any request the
# tests see comes from the page.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    """The Chromium to drive: CASELOAD_CHROMIUM, else /usr/bin/chromium, else on PATH."""
    wanted = os.environ.get("CASELOAD_CHROMIUM")
    if wanted:
        return wanted if os.path.exists(wanted) else None
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    return shutil.which("chromium") or shutil.which("chromium-browser")


def launch(playwright: Any, executable: str) -> Any:
    """A headless Chromium browser (Playwright's ``Browser``)."""
    return playwright.chromium.launch(executable_path=executable, args=ARGS, headless=True)
