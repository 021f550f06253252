"""The floor of the owner's stack: a one-command Typer app that opens a SQLite store
with SQLModel and prints how many officers it holds.

    python benchmarks/floor_app.py [--db PATH|URL]      (default: $CASELOAD_DB)

What any Typer + SQLModel command costs before it does any work of its own: Python,
Typer, SQLModel (pydantic and SQLAlchemy with its ORM), an engine, one connection and
one query. ``run.py`` reports each store command's wall time as a ratio to this.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from sqlmodel import Field, Session, SQLModel, create_engine, func, select


class Officer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    collar: str


app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)


@app.command()
def count(
    db: Annotated[
        str | None, typer.Option("--db", help="The store: a SQLite file or a URL.")
    ] = None,
) -> None:
    """Print the number of officers in the store."""
    path = db or os.environ.get("CASELOAD_DB")
    if not path:
        raise typer.BadParameter("give --db or set CASELOAD_DB")
    engine = create_engine(path if "://" in path else f"sqlite:///{path}")
    with Session(engine) as session:
        officers = session.exec(select(func.count()).select_from(Officer)).one()
    typer.echo(f"{officers} officers")


if __name__ == "__main__":
    app()
