"""Run the README's console blocks on a fresh sample store and compare them with the README.

Usage: python scripts/readme_tour.py [--check | --write | --show]
  --check  exit 1, showing the first difference, if a block's output differs (tests run this)
  --write  regenerate the README's screenshot blocks from the commands they name
  --show   print what every console block's commands write now (to help edit the README)

Every ```console block runs, in README order, in one temporary folder with a store loaded
by ``caseload init --sample`` (dated to today) at COLUMNS=100 and NO_COLOR. ``$ `` lines are
commands, run by bash with stdout and stderr together as a terminal shows them; ``$ export``
sets variables for the commands after it and ``$ echo $?`` shows the last exit code. The
lines up to the next ``$ `` are the expected output, with these placeholders:

  {date}  a date, 2026-11-27       {time}  a time, 13:47:08      {plan}  a plan id
  {path}  a path or other text without spaces                     {hash}  a SHA-256 hash
  {n}     a whole number, 1,055    ...     (a line of its own) any lines, or none

A command may name the plan id last shown as ``{plan}``. A block preceded by
``<!-- tour: skip REASON -->`` is not run. A screenshot is an HTML
comment ``<!-- screenshot: caseload ARGS -->`` followed by a ```text block: ``--write``
fills it with what the command shows at 100 columns, and ``--check`` fails when it drifts
(dates and plan ids may differ; the sample is dated to the day it is loaded).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
WIDTH = "100"

PLACEHOLDERS = {
    "{date}": r"\d{4}-\d{2}-\d{2}",
    "{time}": r"\d{2}:\d{2}:\d{2}",
    "{plan}": r"[0-9a-f]{12}",
    "{path}": r"\S+",
    "{hash}": r"[0-9a-f]{64}",
    "{n}": r"\d+(?:,\d{3})*",
}
ELISION = ("...", "…")
FENCE = re.compile(r"^```(\w*)\s*$")
SCREENSHOT = re.compile(r"^<!-- screenshot: (caseload .+?) -->\s*$")
SKIP = re.compile(r"^<!-- tour: skip\b.*-->\s*$")


@dataclass
class Block:
    kind: str  # "console" or "screenshot"
    start: int  # index of the first line inside the fence
    lines: list[str]
    skip: bool = False
    command: str = ""  # for a screenshot
    steps: list[tuple[str, list[str]]] = field(default_factory=list)


def blocks(text: str) -> list[Block]:
    """The README's console blocks and screenshot blocks, in order."""
    lines = text.splitlines()
    found: list[Block] = []
    n = 0
    while n < len(lines):
        match = FENCE.match(lines[n])
        if match and match.group(1) in ("console", "text"):
            end = next(i for i in range(n + 1, len(lines)) if lines[i].startswith("```"))
            before = next((lines[i] for i in range(n - 1, -1, -1) if lines[i].strip()), "")
            body = lines[n + 1 : end]
            shot = SCREENSHOT.match(before)
            if match.group(1) == "console":
                block = Block("console", n + 1, body, skip=bool(SKIP.match(before)))
                block.steps = steps(body)
                found.append(block)
            elif shot:
                found.append(Block("screenshot", n + 1, body, command=shot.group(1)))
            n = end
        n += 1
    return found


def steps(body: list[str]) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for line in body:
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def pattern(line: str) -> re.Pattern[str]:
    parts = re.split(r"(\{date\}|\{time\}|\{plan\}|\{path\}|\{hash\}|\{n\})", line.rstrip())
    return re.compile("".join(PLACEHOLDERS.get(part, re.escape(part)) for part in parts) + r"\s*")


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether the actual lines are the expected ones, placeholders and elisions allowed."""
    if not expected:
        return not actual
    head = expected[0]
    if head.strip() in ELISION:
        return any(matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return (
        bool(actual)
        and bool(pattern(head).fullmatch(actual[0]))
        and matches(expected[1:], actual[1:])
    )


class Shell:
    """Runs the tour's commands in one folder, keeping exported variables and $?."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        bin_dir = str(Path(sys.executable).parent)
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "COLUMNS": WIDTH,
            "NO_COLOR": "1",
            "PYTHONUNBUFFERED": "1",  # stdout and stderr interleave as on a terminal
            "HOME": str(folder),
            "XDG_CONFIG_HOME": str(folder / ".config"),
        }
        for name in ("CASELOAD_DB", "CASELOAD_ACTOR", "CASELOAD_DIRECT"):
            self.env.pop(name, None)
        self.status = 0
        self.plan = ""  # the last plan id shown, for a command that names it as {plan}

    def run(self, command: str) -> list[str]:
        command = command.replace("{plan}", self.plan)
        if command.startswith("export "):
            for assignment in shlex.split(command)[1:]:
                name, _, value = assignment.partition("=")
                self.env[name] = value
            return []
        if command.strip() == "echo $?":
            return [str(self.status)]
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=self.folder,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
        )
        self.status = done.returncode
        plans = re.findall(r"^Plan ([0-9a-f]{12})", done.stdout, flags=re.MULTILINE)
        self.plan = plans[-1] if plans else self.plan
        return done.stdout.splitlines()


def run_tour(text: str) -> list[tuple[Block, list[tuple[str, list[str], list[str]]]]]:
    """Every block with, for each of its commands, the expected and the actual lines."""
    results = []
    with tempfile.TemporaryDirectory(prefix="caseload-tour-") as tmp:
        shell = Shell(Path(tmp))
        for block in blocks(text):
            if block.kind == "screenshot":
                actual = shell.run(block.command)
                results.append((block, [(block.command, block.lines, actual)]))
            elif not block.skip:
                ran = [(cmd, expected, shell.run(cmd)) for cmd, expected in block.steps]
                results.append((block, ran))
    return results


def normalised(lines: list[str]) -> list[str]:
    """A screenshot with what varies from day to day (dates, plan ids) blanked."""
    out = []
    for line in lines:
        line = re.sub(PLACEHOLDERS["{date}"], "{date}", line.rstrip())
        out.append(re.sub(r"\b[0-9a-f]{12}\b", "{plan}", line))
    return out


def check(text: str) -> list[str]:
    problems = []
    for block, ran in run_tour(text):
        for command, expected, actual in ran:
            same = (
                normalised(expected) == normalised(actual)
                if block.kind == "screenshot"
                else matches(expected, actual)
            )
            if not same:
                problems.append(
                    f"README line {block.start + 1}: $ {command}\n--- README\n"
                    + "\n".join(expected)
                    + "\n--- now\n"
                    + "\n".join(actual)
                )
    return problems


def write(text: str) -> str:
    lines = text.splitlines()
    for block, ran in reversed(run_tour(text)):
        if block.kind == "screenshot":
            actual = ran[0][2]
            lines[block.start : block.start + len(block.lines)] = actual
    return "\n".join(lines) + "\n"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    if "--write" in sys.argv:
        README.write_text(write(text), encoding="utf-8")
        return 0
    if "--show" in sys.argv:
        for block, ran in run_tour(text):
            sys.stdout.write(f"--- README line {block.start + 1} ({block.kind})\n")
            for command, _, actual in ran:
                sys.stdout.write(f"$ {command}\n" + "".join(line + "\n" for line in actual))
        return 0
    problems = check(text)
    for problem in problems:
        sys.stderr.write(problem + "\n\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
