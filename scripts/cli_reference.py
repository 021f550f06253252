"""Write docs/cli-reference.md from the commands' own --help, so the reference cannot drift.

Usage: python scripts/cli_reference.py [--check]
With --check, exit 1 if docs/cli-reference.md differs from what the commands say.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from typer.main import get_command

from caseload.cli.app import app

TARGET = Path(__file__).resolve().parent.parent / "docs" / "cli-reference.md"


def _walk(command: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    found = [(path, command)]
    for name in sorted(getattr(command, "commands", {})):
        found.extend(_walk(command.commands[name], (*path, name)))
    return found


def reference() -> str:
    root = get_command(app)
    parts = [
        "# caseload command reference\n",
        "Generated from each command's `--help` by `python scripts/cli_reference.py`; "
        "a test fails when it drifts.\n",
    ]
    for path, command in _walk(root, ()):
        ctx = root.context_class(
            command,
            info_name=" ".join(("caseload", *path)),
            terminal_width=100,
            max_content_width=100,
        )
        title = " ".join(("caseload", *path))
        parts.append(f"\n## {title}\n\n```text\n{command.get_help(ctx).rstrip()}\n```\n")
    return "".join(parts)


def main() -> int:
    text = reference()
    if "--check" in sys.argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            sys.stderr.write(
                "docs/cli-reference.md is out of date: run python scripts/cli_reference.py\n"
            )
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
