"""A real browser speaks privacyIDEA's WebAuthn wire protocol with tesserad: headless
Chromium with a CDP virtual authenticator (CTAP2) registers a token through both
/token/init steps and logs in through /validate/check, with the JavaScript a privacyIDEA
client runs (web-safe base64, serialNumber as user id, the Origin header of the page)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui.browser import Ui, running_ui

ROOT_PASSWORD = "root-Secret-1"
FLOW = """async ({token, user}) => {
  const bytes = s => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), c => c.charCodeAt(0));
  const websafe = buf => btoa(String.fromCharCode(...new Uint8Array(buf)))
      .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const post = async (path, params, auth) => {
    const headers = {'Content-Type': 'application/x-www-form-urlencoded'};
    if (auth) headers.Authorization = auth;
    const answer = await fetch(path, {method: 'POST', headers, body: new URLSearchParams(params)});
    return answer.json();
  };
  const first = await post('/token/init', {type: 'webauthn', user, pin: '1234'}, token);
  const rr = first.detail.webAuthnRegisterRequest;
  const created = await navigator.credentials.create({publicKey: {
    challenge: bytes(rr.nonce), rp: rr.relyingParty,
    user: {id: Uint8Array.from(rr.serialNumber, c => c.charCodeAt(0)), name: rr.name, displayName: rr.displayName},
    pubKeyCredParams: rr.pubKeyCredAlgorithms, authenticatorSelection: rr.authenticatorSelection,
    timeout: rr.timeout, attestation: rr.attestation}});
  const second = await post('/token/init', {type: 'webauthn', user, transaction_id: rr.transaction_id,
    clientdata: websafe(created.response.clientDataJSON), regdata: websafe(created.response.attestationObject)},
    token);
  const asked = await post('/validate/check', {user, pass: '1234'});
  const challenge = asked.detail.multi_challenge[0];
  const sign = challenge.attributes.webAuthnSignRequest;
  const got = await navigator.credentials.get({publicKey: {
    challenge: bytes(sign.challenge), rpId: sign.rpId, userVerification: sign.userVerification,
    timeout: sign.timeout,
    allowCredentials: sign.allowCredentials.map(c => ({id: bytes(c.id), type: c.type, transports: c.transports}))}});
  const answer = {user, pass: '', transaction_id: challenge.transaction_id, credentialid: got.id,
    clientdata: websafe(got.response.clientDataJSON), authenticatordata: websafe(got.response.authenticatorData),
    signaturedata: websafe(got.response.signature)};
  if (got.response.userHandle) answer.userhandle = new TextDecoder().decode(got.response.userHandle);
  const done = await post('/validate/check', answer);
  return {second: second.result, client_mode: challenge.client_mode, done: done.result, serial: done.detail.serial};
}"""


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    with running_ui(tmp_path_factory.mktemp("webauthn"), {"root": ROOT_PASSWORD}) as ui:
        yield ui


def test_chromium_registers_and_logs_in(ui: Ui) -> None:
    root = ui.rest.login("root", ROOT_PASSWORD)
    root.call("POST", "/policy/rp", {"scope": "enrollment", "action": {
        "webauthn_relying_party_id": "localhost", "webauthn_relying_party_name": "Tessera"}})
    page = ui.page()
    authenticator = page.context.new_cdp_session(page)
    authenticator.send("WebAuthn.enable")
    added = authenticator.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "usb", "hasResidentKey": False, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    page.goto(ui.url.replace("127.0.0.1", "localhost") + "/ui/login")
    result: dict[str, Any] = page.evaluate(FLOW, {"token": root.token, "user": "alice"})
    assert result["second"] == {"status": True, "value": True}, result
    assert result["client_mode"] == "webauthn"
    assert result["done"]["authentication"] == "ACCEPT", result
    credentials = authenticator.send("WebAuthn.getCredentials", {"authenticatorId": added["authenticatorId"]})
    [credential] = credentials["credentials"]
    assert credential["signCount"] >= 1
    token = root.call("GET", "/token/", {"serial": result["serial"]})["tokens"][0]
    assert token["count"] == credential["signCount"] and token["info"]["origin"].startswith("http://localhost:")
    assert ui.problems == []
