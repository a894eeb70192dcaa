// The login form: POST /ui/login sets the session cookie; a token login may first answer a
// challenge, whose transaction id goes back with the one-time password. A challenge that
// enrolls a token (enroll_via_multichallenge) shows its QR code (detail.image).
import {$, guarded} from "./lib.js";

const form = $("#login");
let transaction = null;

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

async function signIn() {
  const values = {username: form.username.value, password: form.password.value, realm: form.realm.value};
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
}
const remote = $("#remote-login");
if (remote) {
  remote.addEventListener("submit", guarded(signInRemote, null));
}
