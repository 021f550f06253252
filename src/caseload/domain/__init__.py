"""Domain rules: plain functions over plain values. No typer, no rich, no database."""
