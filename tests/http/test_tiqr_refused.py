"""The tiqr token stays refused: the spec names the TiQR protocol without giving it, so
enrolment, the app's endpoint and a policy that enables it say why and change nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from tesserad.core.store.models import Policy, Token

from tests.http.restapi import Api

REASON = "ERR905: token type tiqr is not supported: the specification names the TiQR protocol but does not give it"


def stored(api: Api) -> tuple[int, int]:
    with api.core.database.session() as session:
        return session.scalar(select(func.count(Token.id))) or 0, session.scalar(select(func.count(Policy.id))) or 0


def test_enrolment_and_the_app_endpoint_say_why(api: Api) -> None:
    before = stored(api)
    for method, path, params in (("POST", "/token/init", {"type": "tiqr", "user": "alice"}),
                                 ("GET", "/ttype/tiqr", {"action": "metadata", "serial": "TiQR0001"}),
                                 ("POST", "/ttype/tiqr", {"operation": "login", "response": "123456"})):
        status, body = api.call(method, path, api.admin() if path == "/token/init" else None, params)
        assert status == 400 and body["result"]["error"]["code"] == 905, body
        assert body["result"]["error"]["message"].startswith(REASON), body
    assert stored(api) == before


def test_a_policy_that_would_enable_tiqr_is_refused(api: Api) -> None:
    before = stored(api)
    status, body = api.call("POST", "/policy/tiqr", api.admin(), {"scope": "admin", "action": "enrollTIQR"})
    assert status == 400 and "enrollTIQR" in body["result"]["error"]["message"], body
    assert stored(api) == before
