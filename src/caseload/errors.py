"""Errors that reach the user, each kind mapped to one documented exit code.

Domain and storage code raise these; the CLI's single handler (``cli.app``)
prints the message as one sentence on stderr and exits with ``exit_code``.
"""

from __future__ import annotations

from collections.abc import Sequence

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_POLICY = 3
EXIT_STORE = 4
EXIT_NOT_PERMITTED = 5


class CaseloadError(Exception):
    """Base class: a problem explained to the user in plain words."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)


class InputError(CaseloadError):
    """Bad usage or bad input: unknown officer, malformed file. Nothing was written."""

    exit_code = EXIT_USAGE


class NotFound(InputError):
    """A named officer, crime or team does not exist."""

    @classmethod
    def officer(cls, collar: str, nearest: str | None = None) -> NotFound:
        if nearest is not None:
            return cls(f"There is no officer with collar {collar}; did you mean {nearest}?")
        return cls(f"There is no officer with collar {collar}.")

    @classmethod
    def crime(cls, reference: str) -> NotFound:
        if not reference.strip():
            return cls("The crime reference is blank; give the crime's reference.")
        return cls(f"There is no crime with reference {reference}.")

    @classmethod
    def team(cls, name: str, nearest: str | None = None) -> NotFound:
        if nearest is not None:
            return cls(
                f"There is no team called '{name}'; did you mean '{nearest}'? "
                f"(add a new team with 'caseload team add')"
            )
        return cls(
            f"There is no team called '{name}' (see 'caseload team list'; "
            "add a new team with 'caseload team add')."
        )


class PolicyRefused(CaseloadError):
    """Refused by a block-mode policy rule; an override with a reason may allow it."""

    exit_code = EXIT_POLICY


class StoreError(CaseloadError):
    """The store cannot be used: missing, not a caseload store, or too new."""

    exit_code = EXIT_STORE


class NotPermitted(CaseloadError):
    """The database refused: this login's role or teams do not allow the action
    (PostgreSQL roles and row-level security; ``caseload access``). Nothing was written."""

    exit_code = EXIT_NOT_PERMITTED
