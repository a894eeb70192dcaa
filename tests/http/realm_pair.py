"""Two realms side by side for the authorization tests (issue 27): realm ``a`` over the
passwd resolver ``resa`` (anna) and realm ``b`` over ``resb`` (bert), with tokens,
machine attachments, a challenge, audit entries and a custom attribute of bert; ``admA``
holds every boolean admin right and may set and delete any custom user attribute, bound to
realm ``a``, ``root`` the same bound to no realm, and users get only ``enable, disable, auditlog``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from passlib.hash import sha512_crypt
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tesserad.core.machines import service as machines
from tesserad.core.policy.actions import ADMIN, REGISTRY
from tesserad.core.store.models import CustomUserAttribute, Token, TokenGroup
from tesserad.core.tokens import groups as token_groups

from tests.http.restapi import Api, resolved
from tests.wired import RFC_SEED_HEX

ADMIN_RIGHTS = ", ".join(name for name, action in REGISTRY[ADMIN].items() if action.type == "bool") + \
    ", set_custom_user_attributes=:*: *, delete_custom_user_attributes=*"
USER_RIGHTS = "enable, disable, auditlog"
PASSWORDS = {"anna": "anna-pw-1", "bert": "bert-pw-2"}
# What of realm b no answer to admA or to a user of realm a may contain.
B_MARKERS = ("BTOK", "bert", "Bravo", "resb", "bpasswd")


def _passwd(path: Path, login: str, uid: int, gecos: str) -> Path:
    path.write_text(f"{login}:{sha512_crypt.using(rounds=1000).hash(PASSWORDS[login])}:{uid}:{uid}:"
                    f"{gecos},,,:/home/{login}:/bin/sh\n")
    return path


def send(api: Api, method: str, path: str, token: str | None, params: dict[str, Any]) -> tuple[int, str]:
    """Like ``api.call``, with the answer as text (CSV and file downloads are no JSON)."""
    url = f"http://localhost{path}"
    headers = {"Authorization": token} if token else {}
    data = None
    if method in ("GET", "DELETE"):
        url += "?" + urlencode(params) if params else ""
    else:
        data = urlencode(params).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    response = resolved(api.http.request(method, url, data=data, headers=headers))
    return response.code, resolved(response.content()).decode()


def state(api: Api, *, but: tuple[str, ...] = ()) -> dict[str, Any]:
    """Everything an admin could change through the API, but the audit trail (and the
    tokens ``but``)."""
    with api.core.database.session() as session:
        rows = session.scalars(select(Token).order_by(Token.serial).options(
            selectinload(Token.info), selectinload(Token.owners), selectinload(Token.realms),
            selectinload(Token.groups))).all()
        tokens = [tuple(getattr(row, c.name) for c in Token.__table__.columns)
                  + (sorted((i.key, i.value) for i in row.info), sorted((o.realm_id, o.user_id) for o in row.owners),
                     sorted(r.name for r in row.realms), sorted(g.name for g in row.groups))
                  for row in rows if row.serial not in but]
        directory = api.ctx.directory
        return {"tokens": tokens, "realms": directory.list_realms(session),
                "resolvers": directory.list_resolvers(session), "default": directory.default_realm(session),
                "policies": api.ctx.policies.get_policies(session), "config": api.ctx.sysconfig.listing(session),
                "attachments": machines.list_attachments(session),
                "machine_resolvers": machines.list_resolvers(session), "token_groups": token_groups.listed(session),
                "custom_attributes": sorted((a.realm_id, a.user_id, a.key, a.value)
                                            for a in session.scalars(select(CustomUserAttribute)))}


@pytest.fixture
def pair(api: Api, tmp_path: Path) -> Api:
    core = api.core
    with core.database.session() as session:
        directory = core.directory
        directory.save_resolver(session, "resa", "passwdresolver",
                                {"fileName": str(_passwd(tmp_path / "apasswd", "anna", 1500, "Anna Alpha"))})
        directory.save_resolver(session, "resb", "passwdresolver",
                                {"fileName": str(_passwd(tmp_path / "bpasswd", "bert", 1600, "Bert Bravo"))})
        directory.save_realm(session, "a", [("resa", 1)])
        directory.save_realm(session, "b", [("resb", 1)])
        session.add(TokenGroup(name="vpn"))
        machines.save_resolver(session, "hosts", "hosts", {"filename": str(_hosts(tmp_path))})
        session.commit()
    root = api.admin("root")
    for params in ({"serial": "A1", "user": "anna@a", "pin": "1"}, {"serial": "BTOK1", "user": "bert@b", "pin": "1"},
                   {"serial": "BTOK2", "tokenrealm": "b"}):
        status, body = api.call("POST", "/token/init", root, {"type": "hotp", "otpkey": RFC_SEED_HEX, **params})
        assert status == 200, body
    for serial, host in (("A1", "hosta"), ("BTOK1", "hostb")):
        status, body = api.call("POST", "/machine/token", root, {"serial": serial, "application": "offline",
                                                                 "hostname": host})
        assert status == 200, body
    core.settings(challenge_response=frozenset({"hotp"}))
    assert core.check("1", user="bert", realm="b").transaction_id
    core.check("wrong", user="bert", realm="b")
    core.check("wrong", user="anna", realm="a")
    api.policy("root", scope="admin", action=ADMIN_RIGHTS, adminuser="root")
    api.policy("admA", scope="admin", action=ADMIN_RIGHTS, adminuser="admA", realm="a")
    api.policy("users", scope="user", action=USER_RIGHTS)
    status, body = api.call("POST", "/user/attribute", root, {"user": "bert", "realm": "b", "key": "department",
                                                              "value": "Bravo-sales"})
    assert status == 200, body
    return api


def _hosts(tmp_path: Path) -> Path:
    path = tmp_path / "hosts"
    path.write_text("10.0.0.1 hosta\n10.0.0.2 hostb\n")
    return path


def b_leaks(text: str) -> list[str]:
    return [marker for marker in B_MARKERS if marker in text]


def value(status_body: tuple[int, Any]) -> Any:
    status, body = status_body
    assert status == 200, body
    return body["result"]["value"]


def refused(status_body: tuple[int, Any], code: int = 303) -> str:
    status, body = status_body
    assert (status, body["result"]["error"]["code"]) == ({303: 403, 601: 404}.get(code, 400), code), body
    return str(body["result"]["error"]["message"])


def dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True)
