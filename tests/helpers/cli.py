"""Running caseload as a user does: in process through Typer's CliRunner (``invoke``,
behind the ``run`` fixture) or as the installed command in a subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import typer.main
from typer.testing import CliRunner, Result

from caseload.cli.app import app

REPO = Path(__file__).resolve().parent.parent.parent

Runner = Callable[..., Result]


@cache
def command() -> Any:
    """The Click command Typer builds from caseload's signatures (about 0.3 s); the app
    does not change during a test run, so it is built once per process."""
    return typer.main.get_command(app)


def invoke(
    args: Sequence[str], *, input: str | bytes | None = None, env: Mapping[str, str] | None = None
) -> Result:
    """``CliRunner().invoke(app, args, input=..., env=...)`` on the command built once:
    the same isolation (``CliRunner.isolation``), exit code, exception and streams."""
    runner = CliRunner()
    cli = command()
    exception: BaseException | None = None
    exc_info: Any = None
    exit_code = 0
    with runner.isolation(input=input, env=env) as (stdout, stderr, output):
        try:
            cli.main(args=list(args), prog_name=runner.get_default_prog_name(cli))
        except SystemExit as exc:
            exc_info = sys.exc_info()
            code: Any = 0 if exc.code is None else exc.code
            if code != 0:
                exception = exc
            if not isinstance(code, int):
                sys.stdout.write(f"{code}\n")
                code = 1
            exit_code = code
        except Exception as exc:
            exception, exit_code, exc_info = exc, 1, sys.exc_info()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        streams = stdout.getvalue(), stderr.getvalue(), output.getvalue()
    return Result(
        runner=runner,
        stdout_bytes=streams[0],
        stderr_bytes=streams[1],
        output_bytes=streams[2],
        return_value=None,
        exit_code=exit_code,
        exception=exception,
        exc_info=exc_info,
    )


def caseload_exe() -> list[str]:
    """The installed ``caseload`` command, as a user types it."""
    exe = shutil.which("caseload", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "caseload"]


def loaded_after(args: list[str], modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported after ``caseload ARGS``."""
    code = (
        "import sys\n"
        "from caseload.cli.app import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
        f"print('LOADED:' + ','.join(m for m in {modules!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    found = result.stdout.strip().splitlines()[-1].removeprefix("LOADED:")
    return [name for name in found.split(",") if name]
