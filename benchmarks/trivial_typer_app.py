"""The start-up baseline: a one-command Typer app that imports nothing else.

``python benchmarks/trivial_typer_app.py --help``, ``--version`` or ``NAME``:
what any Typer CLI costs before it does any work.
"""

from typing import Annotated

import typer

app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)


def _version(value: bool) -> None:
    if value:
        typer.echo("trivial 1.0")
        raise typer.Exit()


@app.command()
def hello(
    name: Annotated[str, typer.Argument(help="Who to greet.")] = "world",
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Greet NAME."""
    typer.echo(f"Hello {name}")


if __name__ == "__main__":
    app()
