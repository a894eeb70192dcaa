// The login form: POST /ui/login sets the session cookie; a token login may first answer a
// challenge, whose transaction id goes back with the one-time password. A challenge that
// enrolls a token (enroll_via_multichallenge) shows its QR code (detail.image). A security
// key's challenge (webAuthnSignRequest) is answered by the authenticator, and a passkey signs
// in without a user name (/validate/initialize, then its assertion to /ui/login).
import {$, guarded} from "./lib.js";
import {signChallenge, signPasskey} from "./webauthn.js";

const form = $("#login");
let transaction = null;
let securityKey = null;

// POST /ui/login; on success the browser goes to its home page (and the answer is null).
async function post(values) {
  const response = await fetch("/ui/login", {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "Accept": "application/json"}, body: JSON.stringify(values)});
  const answer = await response.json();
  if (answer.result && answer.result.status) {
    window.location.assign(answer.result.value.home);
    return null;
  }
  return answer;
}

function user() {
  return {username: form.username.value, realm: form.realm.value};
}

async function signIn() {
  const values = {...user(), password: form.password.value};
  if (transaction) {
    values.password = form.otp.value;
    values.transaction_id = transaction;
  }
  const answer = await post(values);
  if (!answer) {
    return;
  }
  const detail = answer.detail || {};
  if (detail.transaction_id) {
    transaction = detail.transaction_id;
    securityKey = (detail.multi_challenge || []).find((c) => c.attributes && c.attributes.webAuthnSignRequest);
    $("#use-key").hidden = !securityKey;
    if (securityKey && detail.preferred_client_mode === "webauthn") {
      $("#challenge-message").textContent = securityKey.message;
      await signInWithKey();
      return;
    }
    $("#challenge-message").textContent = detail.message || "Enter the one-time password.";
    const image = $("#challenge-image");
    const qr = detail.image || "";
    image.hidden = !qr.startsWith("data:image/png;base64,");
    if (image.hidden) image.removeAttribute("src"); else image.src = qr;
    form.otp.value = "";
    $("#challenge").hidden = false;
    form.otp.focus();
    return;
  }
  refused(answer);
}

// The security key signs the challenge its PIN started; the answer goes with the user's name.
async function signInWithKey() {
  const signed = await signChallenge(securityKey.attributes.webAuthnSignRequest);
  const answer = await post({...user(), password: "", transaction_id: securityKey.transaction_id, ...signed});
  if (answer) {
    transaction = null;
    $("#challenge").hidden = true;
    refused(answer);
  }
}

// Usernameless: any passkey of this site; the session is its user's.
async function signInWithPasskey() {
  const response = await fetch("/validate/initialize", {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "Accept": "application/json"}, body: JSON.stringify({type: "passkey"})});
  const started = await response.json();
  if (!started.result || !started.result.status) refused(started);
  const signed = await signPasskey(started.detail.passkey);
  const answer = await post({transaction_id: started.detail.transaction_id, ...signed});
  if (answer) refused(answer);
}

function refused(answer) {
  throw new Error((answer.result.error && answer.result.error.message) || "Login failed");
}

// The user a trusted proxy authenticated (webui policy remote_user): no credentials to send.
async function signInRemote() {
  const answer = await post({});
  if (answer) {
    refused(answer);
  }
}

if (form) {
  form.addEventListener("submit", guarded(signIn, null));
  $("#use-key").addEventListener("click", guarded(signInWithKey, null));
  $("#passkey-login").addEventListener("submit", guarded(signInWithPasskey, null));
}
const remote = $("#remote-login");
if (remote) {
  remote.addEventListener("submit", guarded(signInRemote, null));
}
