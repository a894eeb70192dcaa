"""Machine resolvers, machines, and tokens attached to machines for an application.

Functions take the caller's session and leave the commit to it (one API call, one
transaction). A machine is (resolver, machine id); an attachment without one holds for
every machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from tesserad.core.machines.hosts import HostsResolver, Machine
from tesserad.core.store.models import MachineResolver, MachineResolverConfig, MachineToken, MachineTokenOption, Token
from tesserad.core.tokens.base import ParameterError, TokenError, TokenNotFound

RESOLVER_TYPES: dict[str, type[HostsResolver]] = {HostsResolver.rtype: HostsResolver}
MAX_NAME = 64


@dataclass(frozen=True)
class Application:
    """A machine application: the token types it serves and its options (name -> check)."""

    name: str
    token_types: frozenset[str]
    options: tuple[str, ...]


def _int_option(name: str, value: str, low: int, high: int) -> None:
    if not value.isdigit() or not low <= int(value) <= high:
        raise ParameterError(f"option {name} must be a number from {low} to {high}")


APPLICATIONS = {
    "offline": Application("offline", frozenset({"hotp"}), ("user", "count", "rounds")),
    "ssh": Application("ssh", frozenset({"sshkey"}), ("user",)),
    "luks": Application("luks", frozenset({"totp"}), ("slot", "partition")),
}
# Ranges of the numeric options: a bag of at most 1000 values, PBKDF2 rounds a client can afford.
NUMERIC_OPTIONS = {"count": (1, 1000), "rounds": (1, 1_000_000), "slot": (0, 31)}


def application(name: str) -> Application:
    try:
        return APPLICATIONS[name]
    except KeyError:
        raise ParameterError(f"unknown application {name!r} (known: {', '.join(APPLICATIONS)})") from None


def check_option(app: Application, key: str, value: str) -> None:
    if key not in app.options:
        raise ParameterError(f"application {app.name} has no option {key!r} (known: {', '.join(app.options)})")
    if key in NUMERIC_OPTIONS and value != "":
        _int_option(key, value, *NUMERIC_OPTIONS[key])


# ---- machine resolvers ---------------------------------------------------------------------

def _check_name(name: str) -> None:
    if not name or len(name) > MAX_NAME or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ParameterError("resolver name must be up to 64 letters, digits, '.', '-' or '_'")


def resolver_class(rtype: str) -> type[HostsResolver]:
    try:
        return RESOLVER_TYPES[rtype]
    except KeyError:
        raise ParameterError(f"unknown machine resolver type {rtype!r} (known: {', '.join(RESOLVER_TYPES)})") \
            from None


def _resolver_row(session: Session, name: str) -> MachineResolver:
    row = session.scalar(select(MachineResolver).where(MachineResolver.name == name)
                         .options(selectinload(MachineResolver.config)))
    if row is None:
        raise ParameterError(f"machine resolver {name!r} does not exist")
    return row


def save_resolver(session: Session, name: str, rtype: str | None, params: Mapping[str, str]) -> int:
    """Create a resolver or update the settings given (the type cannot change)."""
    _check_name(name)
    row = session.scalar(select(MachineResolver).where(MachineResolver.name == name)
                         .options(selectinload(MachineResolver.config)))
    if row is None:
        if not rtype:
            raise ParameterError("missing parameter: type")
        row = MachineResolver(name=name, rtype=rtype, config=[])
        session.add(row)
    elif rtype and rtype != row.rtype:
        raise ParameterError(f"machine resolver {name} is of type {row.rtype}, not {rtype}")
    cls = resolver_class(row.rtype)
    config = {item.key: item.value for item in row.config}
    config.update({key: str(value) for key, value in params.items() if key in cls.keys})
    cls.check_config(config)
    stored = {item.key: item for item in row.config}
    for key, value in config.items():
        if key in stored:
            stored[key].value = value
        else:
            row.config.append(MachineResolverConfig(key=key, value=value, type=""))
    session.flush()
    return row.id


def resolver_definition(row: MachineResolver) -> dict[str, Any]:
    return {"resolvername": row.name, "type": row.rtype, "data": {item.key: item.value for item in row.config}}


def list_resolvers(session: Session, rtype: str | None = None) -> dict[str, dict[str, Any]]:
    query = select(MachineResolver).options(selectinload(MachineResolver.config)).order_by(MachineResolver.name)
    if rtype:
        query = query.where(MachineResolver.rtype == rtype)
    return {row.name: resolver_definition(row) for row in session.scalars(query)}


def get_resolver(session: Session, name: str) -> dict[str, Any]:
    return resolver_definition(_resolver_row(session, name))


def delete_resolver(session: Session, name: str) -> int:
    """Delete a resolver that no token is attached through."""
    row = _resolver_row(session, name)
    if session.scalar(select(MachineToken.id).where(MachineToken.resolver_id == row.id).limit(1)) is not None:
        raise ParameterError(f"machine resolver {name} is still used by attached tokens")
    session.delete(row)
    return row.id


def test_resolver(rtype: str, params: Mapping[str, str]) -> tuple[bool, str]:
    """Whether a definition works: the file is read and its machines counted."""
    cls = resolver_class(rtype)
    config = {key: str(value) for key, value in params.items() if key in cls.keys}
    cls.check_config(config)
    try:
        count = len(cls("test", config).machines())
    except ParameterError as exc:
        return False, str(exc)
    return True, f"Resolver definition is working: {count} machines"


def _resolvers(session: Session, name: str | None = None) -> list[tuple[MachineResolver, HostsResolver]]:
    query = select(MachineResolver).options(selectinload(MachineResolver.config)).order_by(MachineResolver.name)
    if name is not None:
        query = query.where(MachineResolver.name == name)
    return [(row, resolver_class(row.rtype)(row.name, {c.key: c.value for c in row.config}))
            for row in session.scalars(query)]


# ---- machines --------------------------------------------------------------------------

def list_machines(session: Session, *, hostname: str | None = None, ip: str | None = None,
                  machine_id: str | None = None, resolver: str | None = None,
                  any_field: str | None = None) -> list[Machine]:
    """``/machine/``: hostname, id and resolver match as substrings, ip exactly; ``any``
    matches a substring of hostname, ip or id."""
    found = []
    for row, source in _resolvers(session):
        if resolver and resolver not in row.name:
            continue
        for machine in source.machines():
            if hostname and not any(hostname in h for h in machine.hostnames):
                continue
            if ip and machine.ip != ip:
                continue
            if machine_id and machine_id not in machine.id:
                continue
            if any_field and not (any(any_field in h for h in machine.hostnames) or any_field in machine.ip
                                  or any_field in machine.id):
                continue
            found.append(machine)
    return found


def machines_of_request(session: Session, hostnames: Iterable[str], ip: str) -> set[tuple[int, str]]:
    """(resolver id, machine id) of the machines a request comes from: by an exact host name
    or the client address. Resolvers that cannot be read are skipped here."""
    names = {h.lower() for h in hostnames if h}
    found = set()
    for row, source in _resolvers(session):
        try:
            machines = source.machines()
        except ParameterError:
            continue
        for machine in machines:
            if machine.ip == ip or names.intersection(h.lower() for h in machine.hostnames):
                found.add((row.id, machine.id))
    return found


def _machine(session: Session, hostname: str | None, machine_id: str | None,
             resolver: str | None) -> tuple[int, str] | None:
    """The machine named by ``hostname``, or ``machineid`` and ``resolver``; None: every machine."""
    if hostname:
        matches = [m for m in list_machines(session, hostname=hostname) if hostname in m.hostnames]
        if len(matches) != 1:
            raise ParameterError(f"hostname {hostname!r} names {len(matches)} machines, not exactly one")
        return _resolver_row(session, matches[0].resolver_name).id, matches[0].id
    if machine_id or resolver:
        if not (machine_id and resolver):
            raise ParameterError("give machineid and resolver together")
        return _resolver_row(session, resolver).id, machine_id
    return None


# ---- attached tokens -----------------------------------------------------------------------

def _token(session: Session, serial: str) -> Token:
    row = session.scalar(select(Token).where(Token.serial == serial))
    if row is None:
        raise TokenNotFound(f"The token with serial {serial} does not exist")
    return row


def attach(session: Session, serial: str, app_name: str, options: Mapping[str, str], *,
           hostname: str | None = None, machine_id: str | None = None, resolver: str | None = None) -> int:
    """Attach a token to a machine (or to every machine) for an application."""
    app = application(app_name)
    token = _token(session, serial)
    if token.tokentype not in app.token_types:
        raise TokenError(f"application {app.name} works with {', '.join(sorted(app.token_types))} tokens, "
                         f"not {token.tokentype}")
    for key, value in options.items():
        check_option(app, key, str(value))
    machine = _machine(session, hostname, machine_id, resolver)
    resolver_id, mid = machine if machine else (None, None)
    exists = session.scalar(select(MachineToken.id).where(
        MachineToken.token_id == token.id, MachineToken.application == app.name,
        _is(MachineToken.resolver_id, resolver_id), _is(MachineToken.machine_id, mid)))
    if exists is not None:
        raise TokenError(f"token {serial} is already attached to this machine for {app.name}")
    row = MachineToken(token_id=token.id, resolver_id=resolver_id, machine_id=mid, application=app.name,
                       options=[MachineTokenOption(key=k, value=str(v)) for k, v in options.items() if v != ""])
    session.add(row)
    session.flush()
    return row.id


def _is(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


def _attachment(session: Session, serial: str, app_name: str, machine_id: str | None,
                resolver: str | None) -> MachineToken:
    token = _token(session, serial)
    resolver_id = None if resolver is None else _resolver_row(session, resolver).id
    row = session.scalar(select(MachineToken).where(
        MachineToken.token_id == token.id, MachineToken.application == app_name,
        _is(MachineToken.resolver_id, resolver_id), _is(MachineToken.machine_id, machine_id))
        .options(selectinload(MachineToken.options)))
    if row is None:
        raise ParameterError(f"token {serial} is not attached to this machine for {app_name}")
    return row


def detach(session: Session, serial: str, app_name: str, *, hostname: str | None = None,
           machine_id: str | None = None, resolver: str | None = None) -> int:
    machine = _machine(session, hostname, machine_id, resolver)
    row = _attachment(session, serial, application(app_name).name, *_named(session, machine))
    session.delete(row)
    return row.id


def _named(session: Session, machine: tuple[int, str] | None) -> tuple[str | None, str | None]:
    if machine is None:
        return None, None
    return machine[1], session.get(MachineResolver, machine[0]).name  # type: ignore[union-attr]


def set_options(session: Session, serial: str, app_name: str, options: Mapping[str, str], *,
                hostname: str | None = None, machine_id: str | None = None,
                resolver: str | None = None) -> tuple[int, int]:
    """Set options of an attachment; an empty value deletes the option. (set, deleted)."""
    app = application(app_name)
    machine = _machine(session, hostname, machine_id, resolver)
    row = _attachment(session, serial, app.name, *_named(session, machine))
    stored = {option.key: option for option in row.options}
    added = deleted = 0
    for key, value in options.items():
        value = str(value)
        check_option(app, key, value)
        if value == "":
            if key in stored:
                row.options.remove(stored.pop(key))
                deleted += 1
        elif key in stored:
            stored[key].value = value
            added += 1
        else:
            row.options.append(MachineTokenOption(key=key, value=value))
            added += 1
    return added, deleted


def describe(row: MachineToken) -> dict[str, Any]:
    resolver = row.resolver
    return {"id": row.id, "serial": row.token.serial, "type": row.token.tokentype, "application": row.application,
            "machine_id": row.machine_id, "resolver": resolver.name if resolver else None,
            "options": {option.key: option.value for option in row.options}}


def list_attachments(session: Session, *, serial: str | None = None, application_name: str | None = None,
                     hostname: str | None = None, machine_id: str | None = None,
                     resolver: str | None = None, tokens: Select[Any] | None = None) -> list[dict[str, Any]]:
    """Attachments of a token, or of a machine (with those for every machine); with
    ``tokens`` (a subquery of token ids) only attachments of those tokens."""
    query = (select(MachineToken).join(Token, Token.id == MachineToken.token_id).order_by(MachineToken.id)
             .options(selectinload(MachineToken.options), selectinload(MachineToken.token),
                      selectinload(MachineToken.resolver)))
    if serial:
        query = query.where(Token.serial == serial)
    if tokens is not None:
        query = query.where(Token.id.in_(tokens))
    if application_name:
        query = query.where(MachineToken.application == application(application_name).name)
    machine = _machine(session, hostname, machine_id, resolver)
    if machine is not None:
        query = query.where(((MachineToken.resolver_id == machine[0]) & (MachineToken.machine_id == machine[1]))
                            | MachineToken.resolver_id.is_(None))
    return [describe(row) for row in session.scalars(query)]
