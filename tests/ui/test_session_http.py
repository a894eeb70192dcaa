"""The web UI's session at the HTTP level (fast, in memory, with the injected clock): the
cookie's flags, the CSRF header the API demands with it, missing and expired sessions, and
the security headers of pages and static files."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

from tesserad.core import admins
from tesserad.core.sessions import Identity
from tesserad.radius.config import RadiusClientConfig

from tests.http.people import ADMIN_PASSWORD, PASSWORDS
from tests.http.restapi import Api, resolved


def send(api: Api, method: str, path: str, *, headers: dict[str, str] | None = None, body: Any = None,
         scheme: str = "http") -> tuple[int, dict[str, list[str]], bytes]:
    """One request; answers status, headers (lower-cased names) and the raw body."""
    sent = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    response = resolved(api.http.request(method, f"{scheme}://localhost{path}", data=data, headers=sent,
                                         allow_redirects=False))
    got = {name.decode().lower(): [v.decode() for v in values]
           for name, values in response.headers.getAllRawHeaders()}
    return response.code, got, resolved(response.content())


def login(api: Api, username: str = "root", password: str = ADMIN_PASSWORD, realm: str = "") -> str:
    """Log in through the UI; answers the session cookie's value."""
    status, headers, _ = send(api, "POST", "/ui/login", body={"username": username, "password": password,
                                                                "realm": realm})
    assert status == 200, headers
    return re.match(r"tesserad_session=([^;]+);", headers["set-cookie"][0]).group(1)  # type: ignore[union-attr]


def session(api: Api, identity: Identity = Identity("admin", "root")) -> str:
    """A session token as a login issues it (the login itself is tested above)."""
    return api.token(identity)


def cookie_headers(api: Api, token: str, csrf: str | None = "") -> dict[str, str]:
    headers = {"Cookie": f"tesserad_session={token}"}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf or api.rest.browser.csrf_token(token)
    return headers


def token_count(api: Api) -> int:
    status, _, content = send(api, "GET", "/token/", headers={"Authorization": api.admin()})
    assert status == 200
    return json.loads(content)["result"]["value"]["count"]


def test_login_sets_an_httponly_strict_cookie_and_never_answers_the_token(people: Api) -> None:
    status, headers, content = send(people, "POST", "/ui/login",
                                    body={"username": "root", "password": ADMIN_PASSWORD})
    assert status == 200
    cookie = headers["set-cookie"][0]
    assert re.fullmatch(r"tesserad_session=[\w.-]+; Path=/; HttpOnly; SameSite=Strict", cookie), cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert token.encode() not in content
    assert json.loads(content)["result"]["value"] == {"role": "admin", "username": "root", "realm": "",
                                                      "home": "/ui/dashboard"}
    assert "frame-ancestors 'none'" in headers["content-security-policy"][0]


def test_cookie_is_secure_over_tls(people: Api) -> None:
    _, headers, _ = send(people, "POST", "/ui/login", body={"username": "root", "password": ADMIN_PASSWORD},
                         scheme="https")
    assert headers["set-cookie"][0].endswith("; Secure")


def test_a_user_login_lands_on_the_own_tokens(people: Api) -> None:
    status, headers, content = send(people, "POST", "/ui/login",
                                    body={"username": "dave", "password": PASSWORDS["dave"], "realm": "sales"})
    assert status == 200 and "set-cookie" in headers
    assert json.loads(content)["result"]["value"]["home"] == "/ui/tokens"


def test_failed_or_form_logins_set_no_cookie(people: Api) -> None:
    status, headers, content = send(people, "POST", "/ui/login", body={"username": "root", "password": "wrong"})
    assert status == 401 and "set-cookie" not in headers
    assert b"wrong" not in content
    # A form post (what another site could make the browser send) is refused before any check.
    status, headers, content = send(people, "POST", "/ui/login", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and "set-cookie" not in headers
    assert json.loads(content)["result"]["error"]["message"].endswith("the login expects a JSON body")


def test_the_api_accepts_the_cookie_only_with_its_csrf_header(people: Api) -> None:
    token = login(people)
    init = {"type": "spass"}
    for csrf, expected in ((None, "Missing or wrong CSRF token"), ("forged", "Missing or wrong CSRF token"),
                           (people.rest.browser.csrf_token(login(people)), "Missing or wrong CSRF token")):
        status, _, content = send(people, "POST", "/token/init", headers=cookie_headers(people, token, csrf),
                                  body=init)
        assert status == 401, content
        assert expected in json.loads(content)["result"]["error"]["message"]
    assert token_count(people) == 0
    status, _, content = send(people, "POST", "/token/init", headers=cookie_headers(people, token), body=init)
    assert status == 200, content
    assert token_count(people) == 1


def test_reading_the_api_needs_the_csrf_header_too(people: Api) -> None:
    token = session(people)
    assert send(people, "GET", "/token/", headers=cookie_headers(people, token, None))[0] == 401
    assert send(people, "GET", "/token/", headers=cookie_headers(people, token))[0] == 200


def test_authorization_header_clients_are_unchanged(people: Api) -> None:
    headers = {"Authorization": people.admin(), "Cookie": "tesserad_session=garbage"}
    status, _, _ = send(people, "GET", "/token/", headers=headers)
    assert status == 200


def test_missing_session(people: Api) -> None:
    status, headers, _ = send(people, "GET", "/ui/tokens")
    assert status == 303 and headers["location"] == ["/ui/login"]
    status, _, content = send(people, "GET", "/token/")
    assert status == 401 and json.loads(content)["result"]["error"]["code"] == 4033
    status, headers, _ = send(people, "GET", "/ui/tokens", headers={"Cookie": "tesserad_session=forged.jwt.x"})
    assert status == 303 and headers["location"] == ["/ui/login"]


def test_expired_session(people: Api) -> None:
    token = session(people)
    assert send(people, "GET", "/ui/tokens", headers=cookie_headers(people, token, None))[0] == 200
    people.core.clock.advance(people.rest.sessions.lifetime + 1)
    status, headers, _ = send(people, "GET", "/ui/tokens", headers=cookie_headers(people, token, None))
    assert status == 303 and headers["location"] == ["/ui/login?expired=1"]
    assert "Max-Age=0" in headers["set-cookie"][0]
    status, _, content = send(people, "GET", "/token/", headers=cookie_headers(people, token))
    assert status == 401 and json.loads(content)["result"]["error"]["code"] == 4305
    status, _, content = send(people, "GET", "/ui/login?expired=1")
    assert status == 200 and b"Your session has expired" in content


def test_a_password_change_ends_the_browser_session(people: Api) -> None:
    token = login(people)
    assert send(people, "GET", "/ui/tokens", headers=cookie_headers(people, token, None))[0] == 200
    with people.core.database.session() as db:
        admins.set_password(db, people.core.tokens.hasher, "root", "An0ther-secret")
        db.commit()
    status, headers, _ = send(people, "GET", "/ui/tokens", headers=cookie_headers(people, token, None))
    assert status == 303 and headers["location"] == ["/ui/login"]
    assert send(people, "GET", "/token/", headers=cookie_headers(people, token))[0] == 401


def test_pages_carry_the_csrf_value_and_strict_headers(people: Api) -> None:
    token = session(people)
    status, headers, content = send(people, "GET", "/ui/dashboard", headers=cookie_headers(people, token, None))
    assert status == 200
    csrf = people.rest.browser.csrf_token(token)
    assert f'<meta name="csrf-token" content="{csrf}">'.encode() in content
    assert headers["x-frame-options"] == ["DENY"] and headers["x-content-type-options"] == ["nosniff"]
    policy = headers["content-security-policy"][0]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy and "unsafe-inline" not in policy
    assert b"<script>" not in content and b"style=" not in content and token.encode() not in content


def test_the_logout_clears_the_cookie_with_the_csrf_header_only(people: Api) -> None:
    token = session(people)
    status, headers, _ = send(people, "POST", "/ui/logout", headers=cookie_headers(people, token, "forged"))
    assert status == 401 and "set-cookie" not in headers
    status, headers, _ = send(people, "POST", "/ui/logout", headers=cookie_headers(people, token))
    assert status == 200 and "Max-Age=0" in headers["set-cookie"][0]


def test_role_and_menu_decide_which_pages_open(people: Api) -> None:
    user = login(people, "dave", PASSWORDS["dave"], "sales")
    status, _, content = send(people, "GET", "/ui/dashboard", headers=cookie_headers(people, user, None))
    assert status == 403 and b"Your policies do not allow" in content
    status, _, content = send(people, "GET", "/ui/tokens", headers=cookie_headers(people, user, None))
    assert status == 200 and b'href="/ui/policies"' not in content and b'data-role="user"' in content
    assert send(people, "GET", "/ui/nonsense", headers=cookie_headers(people, user, None))[0] == 404


def test_the_root_leads_to_the_ui(people: Api) -> None:
    status, headers, _ = send(people, "GET", "/")
    assert status == 303 and headers["location"] == ["/ui/"]
    assert send(people, "GET", "/ui/")[1]["location"] == ["/ui/login"]


def test_the_radius_page_never_shows_secrets(people: Api) -> None:
    radius = dataclasses.replace(people.rest.config.radius, clients=[
        RadiusClientConfig(name="vpn", address="10.0.0.0/8", secret="s3cret-shared", realm="sales")])
    people.rest.config = dataclasses.replace(people.rest.config, radius=radius)
    token = session(people)
    status, _, content = send(people, "GET", "/ui/radius", headers=cookie_headers(people, token, None))
    assert status == 200 and b"10.0.0.0/8" in content and b"vpn" in content
    assert b"s3cret-shared" not in content


def test_custom_templates_stay_in_their_directory_and_sandbox(api: Api, tmp_path: Path) -> None:
    """custom_baseline names a template of web.customization_dir: one that escapes the
    directory or reaches for Python internals is not shown (the built-in baseline is)."""
    custom = tmp_path / "custom"
    custom.mkdir()
    (tmp_path / "outside.html").write_text('<p id="outside">outside</p>')
    (custom / "probe.html").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    (custom / "fine.html").write_text('<p id="fine">{{ "<b>" }}</p>')
    api.configure(customization_dir=str(custom))
    for name, expected in (("fine.html", '<p id="fine">&lt;b&gt;</p>'), ("../outside.html", "multi-factor"),
                           ("probe.html", "multi-factor")):
        api.policy("frame", scope="webui", action=f"custom_baseline={name}")
        status, _, content = send(api, "GET", "/ui/login")
        footer = content.decode().split('<footer class="baseline">')[1]
        assert status == 200 and expected in footer and "subclasses" not in footer and "outside" not in footer, name
