"""Who may do what on a PostgreSQL store, enforced by the database itself.

``setup`` (run by the login that owns the store's tables) creates three roles and
grants them privileges on the store's schema:

* ``admin``: policy, matrix, officers, teams and access grants;
* ``supervisor``: allocations, transfers, rebalances, reviews, key events, victim
  updates and crime edits, only for crimes of the teams granted to the login
  (``access_grant``);
* ``analyst``: reads and exports only.

Every role reads everything. Team scope is enforced twice over, both keyed on
``session_user`` and ``access_grant``: row-level security policies on the tables a
supervisor writes (a new or changed row must belong to a granted team), and a
trigger on the same tables that refuses first with a sentence naming the login,
the crime and its team (and that also refuses a change *out of* a team). A login
with psql and no caseload can do no more than through caseload.

Roles are cluster-wide in PostgreSQL while a store is one schema, so the roles are
named per store: ``caseload_admin`` etc. for a store in the ``public`` schema,
``caseload_admin_<schema>`` otherwise (``role_names``). The store's owner, and
superusers, are not scoped: migrations and bulk loads run as the owner.

A refusal is SQLSTATE 42501 (insufficient_privilege, which row-level security
violations share); ``refusal`` turns it into ``NotPermitted`` (exit 5).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from caseload.errors import InputError, NotFound, NotPermitted

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

ROLES = ("admin", "supervisor", "analyst")
# The tables a supervisor writes (team scope applies to each).
SCOPED = (
    "crime",
    "allocation",
    "finalisation",
    "review",
    "key_event",
    "victim_update",
    "victim_referral",
)
LINKS = "crime_link"
ADMIN_TABLES = (
    "team",
    "officer",
    "officer_history",  # written with every officer change
    "absence",  # officers' absences are officer records (``officer absence``)
    "matrix_entry",
    "policy_setting",
    "team_policy_setting",
    "access_grant",
)
SQLSTATE_NOT_PERMITTED = "42501"


def postgres_only(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        raise InputError(
            "caseload access manages PostgreSQL roles; on SQLite there are no logins to "
            "grant: the file's permissions are the only boundary."
        )


def schema_of(conn: Connection) -> str:
    return str(conn.exec_driver_sql("SELECT current_schema()").scalar_one())


def role_names(schema: str) -> dict[str, str]:
    """The store's three roles, by caseload's name for them (see the module docstring)."""
    suffix = "" if schema == "public" else f"_{schema}"
    return {role: f"caseload_{role}{suffix}"[:63] for role in ROLES}


def _q(conn: Connection, name: str) -> str:
    return str(conn.dialect.identifier_preparer.quote_identifier(name))


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _scope_function(schema: str, roles: dict[str, str]) -> str:
    """The trigger that refuses a supervisor's write outside their teams, naming it."""
    return f"""
CREATE OR REPLACE FUNCTION caseload_team_scope() RETURNS trigger LANGUAGE plpgsql
SET search_path = {_literal(schema)} AS $fn$
DECLARE
  crime_ids int[];
  team_ids int[];
  tid int;
  ref text;
  team_name text;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = session_user AND rolsuper)
     OR EXISTS (SELECT 1 FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
                WHERE c.oid = TG_RELID AND r.rolname = session_user)
     OR pg_has_role(session_user, {_literal(roles["admin"])}, 'MEMBER') THEN
    RETURN NEW;
  END IF;
  IF TG_TABLE_NAME = 'officer' THEN
    RAISE EXCEPTION 'login % may not change officers (that is for %)',
      session_user, {_literal(roles["admin"])} USING ERRCODE = '42501';
  ELSIF TG_TABLE_NAME = 'crime' THEN
    team_ids := ARRAY[NEW.team_id];
    IF TG_OP = 'UPDATE' THEN team_ids := team_ids || OLD.team_id; END IF;
    ref := NEW.reference;
  ELSE
    IF TG_TABLE_NAME = 'crime_link' THEN
      crime_ids := ARRAY[NEW.crime_a_id, NEW.crime_b_id];
    ELSE
      crime_ids := ARRAY[NEW.crime_id];
      IF TG_OP = 'UPDATE' THEN crime_ids := crime_ids || OLD.crime_id; END IF;
    END IF;
    SELECT array_agg(team_id) INTO team_ids FROM crime WHERE id = ANY(crime_ids);
  END IF;
  FOREACH tid IN ARRAY coalesce(team_ids, ARRAY[]::int[]) LOOP
    IF NOT EXISTS (SELECT 1 FROM access_grant g WHERE g.login = session_user
                   AND g.team_id = tid) THEN
      SELECT name INTO team_name FROM team WHERE id = tid;
      IF ref IS NULL THEN
        SELECT string_agg(reference, ', ') INTO ref FROM crime
        WHERE id = ANY(crime_ids) AND team_id = tid;
      END IF;
      RAISE EXCEPTION 'login % may not change crime % of team %, which is not one of theirs',
        session_user, ref, team_name USING ERRCODE = '42501';
    END IF;
  END LOOP;
  RETURN NEW;
END $fn$"""


def _in_scope(table: str) -> str:
    mine = "SELECT g.team_id FROM access_grant g WHERE g.login = session_user"
    if table == "crime":
        return f"team_id IN ({mine})"
    in_teams = f"SELECT c.id FROM crime c WHERE c.team_id IN ({mine})"
    if table == LINKS:
        return f"crime_a_id IN ({in_teams}) AND crime_b_id IN ({in_teams})"
    return f"crime_id IN ({in_teams})"


def setup(conn: Connection) -> dict[str, str]:
    """Create (or bring up to date) the roles, privileges, policies and triggers; idempotent.
    Returns the role names."""
    from caseload.store.models import metadata

    postgres_only(conn)
    owner = conn.exec_driver_sql(
        "SELECT pg_get_userbyid(relowner) = session_user "
        "OR (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) "
        "FROM pg_class WHERE oid = 'log_entry'::regclass"
    ).scalar_one()
    login = str(conn.exec_driver_sql("SELECT session_user").scalar_one())
    if not owner:
        raise NotPermitted(
            f"Not permitted: login {login} may not set up access; run 'caseload access setup' "
            "as the login that owns the store's tables; nothing was written."
        )
    schema = schema_of(conn)
    roles = role_names(schema)
    q = lambda name: _q(conn, name)  # noqa: E731
    run = conn.exec_driver_sql
    existing = {str(r) for (r,) in run("SELECT rolname FROM pg_roles")}
    for name in roles.values():
        if name not in existing:
            run(f"CREATE ROLE {q(name)} NOLOGIN")
    s = q(schema)
    everyone = ", ".join(q(r) for r in roles.values())
    run(f"GRANT USAGE ON SCHEMA {s} TO {everyone}")
    run(f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {everyone}")
    writers = f"{q(roles['admin'])}, {q(roles['supervisor'])}"
    run(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {s} TO {writers}")
    run(f"GRANT INSERT ON log_entry TO {writers}")
    admin_tables = ", ".join(ADMIN_TABLES)
    run(f"GRANT INSERT, UPDATE, DELETE ON {admin_tables} TO {q(roles['admin'])}")
    supervised = ", ".join((*SCOPED, LINKS))
    run(f"GRANT INSERT, UPDATE ON {supervised} TO {q(roles['supervisor'])}")
    # Locking an officer row FOR UPDATE (the allocation rules) needs UPDATE; the scope
    # trigger refuses any real change to an officer by a supervisor.
    run(f"GRANT UPDATE ON officer TO {q(roles['supervisor'])}")
    run(f"GRANT INSERT ON audit_run TO {writers}")
    run(_scope_function(schema, roles).replace("%", "%%"))  # the driver's placeholders
    for table in (*SCOPED, LINKS, "officer"):
        run(f"DROP TRIGGER IF EXISTS caseload_team_scope ON {table}")
        run(
            f"CREATE TRIGGER caseload_team_scope BEFORE INSERT OR UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION caseload_team_scope()"
        )
    for table in (*SCOPED, LINKS):
        run(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        for policy in ("caseload_read", "caseload_team_insert", "caseload_team_update"):
            run(f"DROP POLICY IF EXISTS {policy} ON {table}")
        run(f"CREATE POLICY caseload_read ON {table} FOR SELECT USING (true)")
        scope = _in_scope(table)
        run(
            f"CREATE POLICY caseload_team_insert ON {table} FOR INSERT "
            f"TO {q(roles['supervisor'])} WITH CHECK ({scope})"
        )
        run(
            f"CREATE POLICY caseload_team_update ON {table} FOR UPDATE "
            f"TO {q(roles['supervisor'])} USING (true) WITH CHECK ({scope})"
        )
    assert set(metadata.tables) >= {*SCOPED, LINKS, *ADMIN_TABLES}
    return roles


def _role(conn: Connection, role: str) -> str:
    if role not in ROLES:
        raise InputError(f"There is no role '{role}'; the roles are {', '.join(ROLES)}.")
    name = role_names(schema_of(conn))[role]
    found = conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %(n)s", {"n": name})
    if found.first() is None:
        raise InputError(
            f"The role {name} does not exist yet; run 'caseload access setup' first "
            "(as the store's owner)."
        )
    return name


def _login(conn: Connection, login: str) -> str:
    login = login.strip()
    row = conn.exec_driver_sql(
        "SELECT rolcanlogin FROM pg_roles WHERE rolname = %(n)s", {"n": login}
    ).first()
    if row is None or not row[0]:
        raise InputError(
            f"There is no database login called '{login}'; the database administrator "
            "creates it (CREATE ROLE ... LOGIN) before caseload can grant it a role."
        )
    return login


def _team_ids(conn: Connection, teams: Sequence[str]) -> dict[str, int]:
    from caseload.store.reference import team_ids

    known = team_ids(conn)
    found = {}
    for team in teams:
        tid = known.get(team.strip().lower())
        if tid is None:
            raise NotFound.team(team.strip())
        found[team.strip()] = tid
    return found


def grant(conn: Connection, login: str, role: str, teams: Sequence[str]) -> dict[str, Any]:
    """Give a login a role (and, for a supervisor, teams); idempotent."""
    from sqlalchemy import insert, select

    from caseload.store.models import access_grant_table as g

    postgres_only(conn)
    name = _role(conn, role)
    login = _login(conn, login)
    if role == "supervisor" and not teams:
        raise InputError("A supervisor acts within teams: give one or more --team.")
    if role != "supervisor" and teams:
        raise InputError(f"--team is for supervisors; the {role} role is not scoped by team.")
    found = _team_ids(conn, teams)
    conn.exec_driver_sql(f"GRANT {_q(conn, name)} TO {_q(conn, login)}")
    have = {int(t) for (t,) in conn.execute(select(g.c.team_id).where(g.c.login == login))}
    new = [tid for tid in found.values() if tid not in have]
    if new:
        conn.execute(insert(g), [{"login": login, "team_id": tid} for tid in new])
    return {"login": login, "role": role, "teams": sorted(found)}


def revoke(conn: Connection, login: str, role: str | None, teams: Sequence[str]) -> dict[str, Any]:
    """Take teams, a role, or (neither given) every caseload role and team from a login."""
    from sqlalchemy import delete

    from caseload.store.models import access_grant_table as g

    postgres_only(conn)
    login = login.strip()
    found = _team_ids(conn, teams)
    roles = [role] if role else ([] if teams else list(ROLES))
    for each in roles:
        name = _role(conn, each)
        conn.exec_driver_sql(f"REVOKE {_q(conn, name)} FROM {_q(conn, login)}")
    if teams:
        conn.execute(delete(g).where(g.c.login == login, g.c.team_id.in_(list(found.values()))))
    elif "supervisor" in roles:
        conn.execute(delete(g).where(g.c.login == login))
    return {"login": login, "roles": roles, "teams": sorted(found)}


def listing(conn: Connection) -> list[dict[str, Any]]:
    """Each login holding one of the store's roles: login, role, teams (supervisors)."""
    postgres_only(conn)
    roles = role_names(schema_of(conn))
    by_name = {name: role for role, name in roles.items()}
    members = conn.exec_driver_sql(
        "SELECT m.rolname, r.rolname FROM pg_auth_members a "
        "JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member "
        "WHERE r.rolname = ANY(%(roles)s) ORDER BY m.rolname, r.rolname",
        {"roles": list(roles.values())},
    ).all()
    teams: dict[str, list[str]] = {}
    for login, team in conn.exec_driver_sql(
        "SELECT g.login, t.name FROM access_grant g JOIN team t ON t.id = g.team_id "
        "ORDER BY g.login, t.name"
    ):
        teams.setdefault(str(login), []).append(str(team))
    rows = []
    for login, name in members:
        role = by_name[str(name)]
        rows.append(
            {
                "login": str(login),
                "role": role,
                "database_role": str(name),
                "teams": ", ".join(teams.get(str(login), [])) if role == "supervisor" else "",
            }
        )
    return rows


def refuse_without_schema_access(conn: Connection, location: str) -> None:
    """A login without USAGE on the store's schema sees no tables at all: say that it is
    not permitted (exit 5) rather than that the store does not exist."""
    path = str(conn.exec_driver_sql("SHOW search_path").scalar_one())
    for name in (part.strip().strip('"') for part in path.split(",")):
        if not name or name.startswith("$"):
            continue
        row = conn.exec_driver_sql(
            "SELECT has_schema_privilege(%(s)s, 'USAGE') FROM pg_namespace WHERE nspname = %(s)s",
            {"s": name},
        ).first()
        if row is not None and not row[0]:
            login = conn.exec_driver_sql("SELECT session_user").scalar_one()
            raise NotPermitted(
                f"Not permitted: login {login} has no role on the store {location} (schema "
                f"{name}); its administrator grants one with 'caseload access grant'."
            )
        if row is not None:
            return


def refusal(exc: Exception, login: str | None) -> NotPermitted | None:
    """PostgreSQL's insufficient_privilege (also a row-level security violation) as one
    sentence naming the login, the action (the command being run) and, where the team
    scope refused, the crime and its team; None for any other error."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) != SQLSTATE_NOT_PERMITTED:
        return None
    diag = getattr(orig, "diag", None)
    text = str(getattr(diag, "message_primary", None) or orig).strip().rstrip(".")
    action = _action()
    if text.startswith("login "):
        return NotPermitted(f"Not permitted ({action}): {text}; nothing was written.")
    who = login or "this login"
    return NotPermitted(
        f"Not permitted: login {who} may not {action} ({text}); nothing was written."
    )


def _action() -> str:
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    if ctx is None:
        return "do this"
    path = ctx.command_path.split()
    return " ".join(path[1:]) or "do this"
