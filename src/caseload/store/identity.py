"""Who is acting: the login recorded beside the display name (``--actor``).

* On PostgreSQL the login is the database login (``session_user``), always: it is
  what the server authenticated, and migration 0005's triggers refuse a decision-log
  entry naming any other login and stamp each allocation interval with it, so not
  even plain SQL can record a decision under someone else's login.
* On SQLite the login is the operating-system user running caseload. Anyone who can
  write the file can write anything to it: the file's permissions are the only
  boundary (README, "Who may do what").

``--actor``/``CASELOAD_ACTOR`` stay a free display name ("DS Morgan") shown beside
the login ("DS Morgan (login dmorgan)").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

LOGIN_LENGTH = 100


def os_login() -> str:
    """The operating-system user running caseload (the login on SQLite)."""
    import getpass

    try:
        return getpass.getuser()[:LOGIN_LENGTH]
    except Exception:  # no login name in some containers: the uid's passwd entry, else the uid
        import os

        try:
            import pwd

            return pwd.getpwuid(os.getuid()).pw_name[:LOGIN_LENGTH]
        except Exception:
            return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def store_login(conn: Connection) -> str:
    """The login acting on this connection: ``session_user`` on PostgreSQL (asked once
    per connection), the operating-system user on SQLite."""
    if conn.dialect.name != "postgresql":
        return os_login()
    info = conn.connection.info
    if "caseload_login" not in info:
        info["caseload_login"] = str(conn.exec_driver_sql("SELECT session_user").scalar_one())
    return str(info["caseload_login"])


def shown(actor: Any, login: Any) -> str:
    """``DS Morgan (login dmorgan)``; the actor alone where no login was recorded (entries
    made before caseload recorded logins) or where the two are the same."""
    actor = "" if actor is None else str(actor)
    if not login or str(login) == actor:
        return actor or str(login or "")
    return f"{actor} (login {login})"
