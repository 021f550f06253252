#!/usr/bin/env bash
# Install caseload with its test extras into .venv and run every check:
# ruff (lint and format), mypy, the pytest suite and a small benchmark smoke run.
# Usage: bash scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c constraints.txt -e '.[test,postgres]'
echo "== ruff"
.venv/bin/ruff check src tests benchmarks migrations scripts sample_data
.venv/bin/ruff format --check src tests benchmarks migrations scripts sample_data
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
if [ -z "${CASELOAD_TEST_PG_URL:-}" ]; then
  echo "   (CASELOAD_TEST_PG_URL is not set: the PostgreSQL variants are skipped;"
  echo "    run 'bash scripts/pg-test-server.sh run bash scripts/test.sh' to include them)"
fi
.venv/bin/python -m pytest -n auto -p no:cacheprovider "$@"
if [ -f benchmarks/run.py ]; then
  echo "== benchmark smoke run (small size; figures not asserted)"
  .venv/bin/python benchmarks/run.py --smoke
fi
