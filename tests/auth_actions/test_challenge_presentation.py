"""How a challenge is presented: ``preferred_client_mode`` (detail.preferred_client_mode,
which privacyIDEA's php-client reads) and ``challenge_text_header`` / ``_footer`` (the
message, over HTTP and in the RADIUS Reply-Message)."""

from __future__ import annotations

from typing import Any

import pytest
from pyrad import packet as rp

from tesserad.core.auth.presentation import challenge_message, preferred_client_mode
from tesserad.core.tokens.registry import token_class

from tests.auth_actions.conftest import Radius, check
from tests.http.restapi import Api
from tests.http.test_token_api import enroll
from tests.radius.nas import access_request
from tests.wired import RFC_SEED_HEX


def two_challenge_tokens(api: Api) -> None:
    """alice gets an HOTP and a TOTP token with PIN 1234, both challenge-response."""
    enroll(api, api.admin(), user="alice", pin="1234", serial="HOTP1")
    enroll(api, api.admin(), user="alice", pin="1234", serial="TOTP1", type="totp")
    api.policy("cr", scope="authentication", action="challenge_response=hotp totp")


def challenge_detail(api: Api) -> dict[str, Any]:
    body = check(api, "1234")
    assert body["result"]["authentication"] == "CHALLENGE", body
    return body["detail"]


@pytest.mark.policy_action("authentication", "preferred_client_mode")
def test_every_challenge_answer_names_the_preferred_client_mode(stored: Api) -> None:
    two_challenge_tokens(stored)
    detail = challenge_detail(stored)
    # Without a policy: privacyIDEA's order interactive webauthn poll u2f.
    assert detail["preferred_client_mode"] == "interactive"
    assert [c["client_mode"] for c in detail["multi_challenge"]] == ["interactive", "interactive"]
    status, body = stored.call("POST", "/validate/triggerchallenge", stored.admin(), {"user": "alice"})
    assert body["detail"]["preferred_client_mode"] == "interactive"
    assert "preferred_client_mode" not in check(stored, "wrong")["detail"]  # not a challenge


@pytest.mark.policy_action("authentication", "preferred_client_mode")
def test_the_policy_picks_the_first_mode_a_challenge_has(stored: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # No shipped type polls yet (push): TOTP stands in for one here.
    monkeypatch.setattr(token_class("totp"), "client_mode", "poll")
    two_challenge_tokens(stored)
    modes = {c["serial"]: c["client_mode"] for c in challenge_detail(stored)["multi_challenge"]}
    assert modes == {"HOTP1": "interactive", "TOTP1": "poll"}
    assert challenge_detail(stored)["preferred_client_mode"] == "interactive"  # the default order
    stored.policy("prefer", scope="authentication", action="preferred_client_mode=webauthn poll interactive")
    assert challenge_detail(stored)["preferred_client_mode"] == "poll"
    # None of the preferred modes among the challenges: interactive, as privacyIDEA falls back.
    stored.policy("prefer", scope="authentication", action="preferred_client_mode=u2f webauthn")
    assert challenge_detail(stored)["preferred_client_mode"] == "interactive"


def test_preferred_client_mode_rule() -> None:
    assert preferred_client_mode(["interactive", "webauthn"], ["webauthn", "interactive"]) == "webauthn"
    assert preferred_client_mode(["poll"], ["interactive", "u2f"]) == "interactive"


def test_challenge_message_rule() -> None:
    texts = ["enter b", "enter a", "enter b"]
    assert challenge_message(texts, None, "ignored without a header") == "enter b, enter a"
    assert challenge_message(texts, "Choose:", "bye") == "Choose:\nenter a, enter b\nbye"
    assert challenge_message(texts, "<p>Choose</p><UL>", "</ul>") == (
        "<p>Choose</p><UL><li>enter a</li>\n<li>enter b</li>\n</ul>")


@pytest.mark.policy_action("authentication", "challenge_text_header")
@pytest.mark.policy_action("authentication", "challenge_text_footer")
def test_header_and_footer_frame_the_joined_texts_over_http(stored: Api) -> None:
    two_challenge_tokens(stored)
    stored.policy("hotp-text", scope="authentication", action="challenge_text=Code from your token")
    assert challenge_detail(stored)["message"] == "Code from your token"
    stored.policy("frame", scope="authentication",
                  action="challenge_text_header='Please answer one of:<ul>', challenge_text_footer='</ul>'")
    detail = challenge_detail(stored)
    assert detail["message"] == "Please answer one of:<ul><li>Code from your token</li>\n</ul>"
    assert detail["messages"] == ["Code from your token", "Code from your token"]  # each token's own
    stored.policy("frame", scope="authentication",
                  action="challenge_text_header=Answer:, challenge_text_footer=Thanks")
    assert challenge_detail(stored)["message"] == "Answer:\nCode from your token\nThanks"
    # The footer alone changes nothing (privacyIDEA needs the header).
    stored.policy("frame", scope="authentication", action="challenge_text_footer=Thanks")
    assert challenge_detail(stored)["message"] == "Code from your token"


@pytest.mark.policy_action("authentication", "challenge_text_header")
@pytest.mark.policy_action("authentication", "challenge_text_footer")
def test_header_and_footer_reach_the_radius_reply_message(radius: Radius) -> None:
    api = radius.api
    api.core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234", serial="HOTP1")
    api.core.enroll("alice", type="indexedsecret", otpkey="abcdefghij", pin="1234", serial="IDX1")
    api.policy("cr", scope="authentication", action="challenge_response=hotp")
    api.policy("frame", scope="authentication",
               action="challenge_text_header=Answer one:, challenge_text_footer=(RADIUS)")
    challenge = radius.ask(access_request("alice", "1234"))
    assert challenge.code == rp.AccessChallenge
    text = "".join(challenge["Reply-Message"])
    assert text.startswith("Answer one:\n") and text.endswith("\n(RADIUS)")
    # Both tokens' texts, sorted and comma-joined on their own line.
    middle = text.removeprefix("Answer one:\n").removesuffix("\n(RADIUS)")
    positions, otp = middle.split(".,")
    assert positions.startswith("Please enter the positions ") and otp == " please enter otp: "
