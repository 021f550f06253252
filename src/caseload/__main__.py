"""Allow ``python -m caseload``."""

from caseload.cli.app import main

main()
