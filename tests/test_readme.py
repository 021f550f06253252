"""The README runs: every console block, in order, on a fresh sample store dated to today.

``scripts/readme_tour.py`` holds the machinery and documents its placeholders; this test
runs its ``--check`` (and the screenshots' drift check with it) and tests the matcher.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent


def tour() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "readme_tour", REPO / "scripts" / "readme_tour.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["readme_tour"] = module
    spec.loader.exec_module(module)
    return module


def test_every_console_block_of_the_readme_prints_what_it_shows() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "readme_tour.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr


def test_the_tour_starts_from_a_fresh_sample_and_runs_its_first_line_twice() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first = next(b for b in tour().blocks(readme) if b.kind == "console")
    commands = [command for command, _ in first.steps]
    assert commands[1] == commands[2] == "caseload init --sample"


def test_placeholders_and_elisions_match_only_what_they_say() -> None:
    matches = tour().matches
    assert matches(
        ["Plan {plan}: 3 moves on {date}."], ["Plan 1d32568e568a: 3 moves on 2026-11-27."]
    )
    assert not matches(["Plan {plan}: 3 moves."], ["Plan 1d32568e568a: 4 moves."])
    assert not matches(["{date}"], ["27/11/2026"])
    assert matches(["a", "...", "z"], ["a", "b", "c", "z"])
    assert matches(["a", "...", "z"], ["a", "z"])
    assert not matches(["a", "z"], ["a", "b", "z"])
    assert matches(["{n} findings"], ["1,055 findings"]) and matches(["{n}"], ["2047"])
    assert not matches(["a (b)"], ["a xbx"])  # the rest is literal text, not a pattern


def test_a_screenshot_that_drifts_fails(tmp_path: Path) -> None:
    module = tour()
    readme = "<!-- screenshot: caseload --version -->\n```text\ncaseload 0.0.0-not-this\n```\n"
    assert module.check(readme) != []
    fixed = module.write(readme)
    assert module.check(fixed) == []
