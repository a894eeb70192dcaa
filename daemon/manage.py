"""``tesserad-manage``: administration from the shell, working directly on the store.

Exit status: 0 on success, 1 when the operation was refused or failed (the reason is
printed), 2 for a usage or configuration error.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from collections.abc import Callable

import tomli_w
from sqlalchemy.orm import Session

from tesserad import __version__
from tesserad.core import admins, bootstrap
from tesserad.core.clock import SystemClock
from tesserad.core.config import effective
from tesserad.core.context import Context
from tesserad.core.errors import AdminError, ConfigError, SchemaError, TesseraError
from tesserad.core.security.keystore import KeyStore
from tesserad.core.sessions import Sessions
from tesserad.core.store import Database
from tesserad.daemon import config as configuration
from tesserad.daemon import manage_policy
from tesserad.daemon.config import Config
from tesserad.radius.clients import load_clients


class UsageError(TesseraError):
    """Bad command-line input (exit status 2)."""


def read_password(prompt: str = "Password: ") -> str:
    """From a prompt (typed twice) on a terminal, else one line of standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Repeat password: ") != first:
            raise UsageError("the two passwords differ")
        return first
    line = sys.stdin.readline()
    if not line:
        raise UsageError("no password on standard input")
    return line.rstrip("\r\n")


def open_current(config: Config) -> Context:
    """A context over a database whose schema is this version's."""
    ctx = Context.open(config)
    state = ctx.database.schema_state()
    if state != "current":
        ctx.close()
        raise SchemaError(f"the database schema is {state}; run `tesserad-manage db upgrade` first")
    return ctx


def cmd_db_upgrade(config: Config, args: argparse.Namespace) -> str:
    bootstrap.check_writable(config.data_dir)
    bootstrap.ensure_data_dir(config.data_dir)
    database = Database(config.database.url)
    try:
        before = database.current_revision()
        done = bootstrap.prepare_schema(database, auto_upgrade=True)
        return f"database {database.url}: schema {done} (was {before or 'empty'}, now {database.head_revision()})"
    finally:
        database.dispose()


def cmd_db_status(config: Config, args: argparse.Namespace) -> str:
    database = Database(config.database.url)
    try:
        state = database.schema_state()
        return (f"database {database.url}: {state} "
                f"(revision {database.current_revision() or '-'}, this version needs {database.head_revision()})")
    finally:
        database.dispose()


def cmd_keys_create(config: Config, args: argparse.Namespace) -> str:
    bootstrap.check_writable(config.data_dir)
    created = KeyStore(config.key_dir).create()
    return "created " + ", ".join(str(p) for p in created)


AdminAction = Callable[[Context, Session, argparse.Namespace], str]


def with_admins(action: AdminAction) -> Callable[[Config, argparse.Namespace], str]:
    """Run an admin action in one transaction over a current schema."""
    def command(config: Config, args: argparse.Namespace) -> str:
        ctx = open_current(config)
        try:
            with ctx.database.session() as session:
                message = action(ctx, session, args)
                session.commit()
                return message
        finally:
            ctx.close()
    return command


@with_admins
def cmd_admin_add(ctx: Context, session: Session, args: argparse.Namespace) -> str:
    admins.add(session, ctx.hasher, args.username, read_password(), email=args.email, clock=ctx.clock)
    return f"added admin {args.username}"


@with_admins
def cmd_admin_list(ctx: Context, session: Session, args: argparse.Namespace) -> str:
    rows = admins.list_all(session)
    lines = [f"{a.username}\t{a.email or '-'}\t{a.created_at:%Y-%m-%d %H:%M:%S}" if a.created_at
             else f"{a.username}\t{a.email or '-'}\t-" for a in rows]
    return "\n".join(lines) if lines else "no admins"


@with_admins
def cmd_admin_delete(ctx: Context, session: Session, args: argparse.Namespace) -> str:
    admins.delete(session, args.username)
    return f"deleted admin {args.username}"


@with_admins
def cmd_admin_passwd(ctx: Context, session: Session, args: argparse.Namespace) -> str:
    admins.set_password(session, ctx.hasher, args.username, read_password("New password: "))
    return f"changed the password of admin {args.username}"


@with_admins
def cmd_admin_verify(ctx: Context, session: Session, args: argparse.Namespace) -> str:
    if not admins.verify(session, ctx.hasher, args.username, read_password()):
        raise AdminError(f"wrong name or password for admin {args.username}")
    return f"the password of admin {args.username} is right"


def cmd_api_createtoken(config: Config, args: argparse.Namespace) -> str:
    """An API key: a JWT signed with this install's keys, valid ``--days``; it is not stored."""
    keys = KeyStore(config.key_dir).load()
    sessions = Sessions(keys.security, SystemClock(), config.web.session_lifetime)
    username = args.username or f"api-{secrets.token_hex(4)}"
    token = sessions.issue_api_key(args.role, username, args.realm, args.days)
    return f"role: {args.role}\nusername: {username}\nrealm: {args.realm}\nvalid for: {args.days} days\n{token}"


def cmd_config_check(config: Config, args: argparse.Namespace) -> str:
    load_clients(config.radius, config.source)  # secret files, dictionaries, reply rules
    header = f"# configuration is valid: {config.source}\n# effective values, secrets masked\n"
    return header + tomli_w.dumps(effective(config)).rstrip("\n") + policy_report(config)


def policy_report(config: Config) -> str:
    """Stored policies with actions tesserad does not enforce (from an earlier version), as
    comment lines; a note when the store cannot be read (not created yet: nothing to check)."""
    try:
        ctx = open_current(config)
    except TesseraError as exc:
        return f"\n# stored policies not checked: {exc}"
    try:
        with ctx.database.session() as session:
            lines = ctx.policies.unsupported_report(session)
    finally:
        ctx.close()
    return "".join(f"\n# warning: {line}" for line in lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tesserad-manage",
        description="Administer a tesserad installation: database schema, keys, admins, config, policies.",
        epilog="Exit status: 0 success, 1 refused or failed, 2 usage or configuration error. "
               "Passwords are prompted for on a terminal, or read as one line from standard input.")
    p.add_argument("-c", "--config", metavar="FILE",
                   help=f"TOML configuration (default: ${configuration.CONFIG_ENV}, then "
                        f"{configuration.SYSTEM_CONFIG_PATH}, then the embedded default)")
    p.add_argument("--version", action="version", version=f"tesserad-manage {__version__}")
    groups = p.add_subparsers(dest="group", required=True, metavar="COMMAND")

    db = groups.add_parser("db", help="database schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="create or migrate the schema to this version").set_defaults(
        run=cmd_db_upgrade)
    db.add_parser("status", help="show the schema revision").set_defaults(run=cmd_db_status)

    keys = groups.add_parser("keys", help="encryption and signing keys").add_subparsers(
        dest="action", required=True)
    keys.add_parser("create", help="generate the key files (refuses to overwrite)").set_defaults(
        run=cmd_keys_create)

    admin = groups.add_parser("admin", help="administrator accounts").add_subparsers(
        dest="action", required=True)
    add = admin.add_parser("add", help="add an admin (password from prompt or stdin)")
    add.add_argument("username")
    add.add_argument("--email")
    add.set_defaults(run=cmd_admin_add)
    admin.add_parser("list", help="list admins").set_defaults(run=cmd_admin_list)
    delete = admin.add_parser("delete", help="delete an admin")
    delete.add_argument("username")
    delete.set_defaults(run=cmd_admin_delete)
    passwd = admin.add_parser("passwd", help="set an admin's password")
    passwd.add_argument("username")
    passwd.set_defaults(run=cmd_admin_passwd)
    verify = admin.add_parser("verify", help="check an admin's password (exit 0 if right, 1 if not)")
    verify.add_argument("username")
    verify.set_defaults(run=cmd_admin_verify)

    api = groups.add_parser("api", help="API keys").add_subparsers(dest="action", required=True)
    create = api.add_parser("createtoken", help="print a long-lived API token (JWT); it is not stored")
    create.add_argument("-r", "--role", choices=("admin", "validate"), default="admin",
                        help="validate: for /validate/* under api_key_required; admin: for scripts")
    create.add_argument("-d", "--days", type=int, default=365, help="days the token is valid (default 365)")
    create.add_argument("-R", "--realm", default="API", help="the admin realm policies see (default API)")
    create.add_argument("-u", "--username", help="the name policies and the audit see (default random)")
    create.set_defaults(run=cmd_api_createtoken)

    cfg = groups.add_parser("config", help="configuration").add_subparsers(dest="action", required=True)
    cfg.add_parser("check", help="validate and print the effective configuration, and name stored "
                                 "policies with actions tesserad does not enforce").set_defaults(run=cmd_config_check)
    manage_policy.add_parser(groups, with_admins)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = configuration.load(args.config)
    except ConfigError as exc:
        print(f"tesserad-manage: {exc}", file=sys.stderr)
        return 2
    try:
        print(args.run(config, args))
    except (UsageError, ConfigError) as exc:
        print(f"tesserad-manage: {exc}", file=sys.stderr)
        return 2
    except TesseraError as exc:
        print(f"tesserad-manage: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
