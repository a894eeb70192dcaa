// The enrolment wizard: the types the caller may enroll (GET /auth/rights), their fields,
// POST /token/init, the QR code of the otpauth URI, and the first OTP where policy asks.
// Everything secret is removed from the page when the wizard is done. A security key
// (webauthn) or passkey is registered between the two /token/init calls (webauthn.js).
import {$, api, el, formValues, guarded, isAdmin, replace, say} from "./lib.js";
import {fillRealms} from "./realms-select.js";
import {registerPasskey, registerSecurityKey} from "./webauthn.js";

const OTP = [
  {name: "otplen", label: "OTP length", options: ["6", "8"]},
  {name: "hashlib", label: "Hash algorithm", options: ["sha1", "sha256", "sha512"]},
];
// Per type: the fields besides description, user and PIN; a type not listed needs none.
const FIELDS = {
  hotp: OTP,
  totp: [...OTP, {name: "timeStep", label: "Time step (seconds)", options: ["30", "60"]}],
  daypassword: [...OTP, {name: "timeStep", label: "Validity (seconds)", value: "86400"}],
  motp: [{name: "otpkey", label: "mOTP secret (16 hex digits)"},
         {name: "motppin", label: "mOTP PIN", type: "password"}],
  pw: [{name: "otpkey", label: "Password", type: "password"}],
  spass: [],
  registration: [],
  paper: [{name: "otplen", label: "OTP length", options: ["6", "8"]}],
  tan: [{name: "tantoken.count", label: "Number of TANs", value: "100"}],
  indexedsecret: [{name: "otpkey", label: "Secret", type: "password"}],
  yubikey: [{name: "otpkey", label: "AES key (32 hex digits)", type: "password"},
            {name: "otplen", label: "OTP length", value: "44"}],
  question: [{name: "questions", label: "Questions and answers (JSON object)", value: "{}"}],
  "4eyes": [{name: "4eyes", label: "Realms and how many tokens of each (realm1:2,realm2:1)"},
            {name: "separator", label: "Separator between the values", value: " "}],
};
// Types whose key the server generates (the QR code carries it).
const GENERATED = new Set(["hotp", "totp", "daypassword", "paper", "tan"]);

const form = $("#enroll");
const typeSelect = $("#type");
let enrolled = null;

function fieldsFor(type) {
  return (FIELDS[type] || []).flatMap((field) => {
    const id = `field-${field.name.replace(/\W/g, "-")}`;
    const input = field.options
      ? el("select", {id, name: field.name}, field.options.map((o) => el("option", {value: o}, o)))
      : el(field.name === "questions" ? "textarea" : "input",
           {id, name: field.name, type: field.type, value: field.value, autocomplete: "off"});
    return [el("label", {for: id}, field.label), input];
  });
}

function showFields() {
  replace($("#type-fields"), fieldsFor(typeSelect.value));
}

// detail entries: QR images (with the URI in a data attribute for scanning), one-time texts.
function showDetail(detail) {
  const parts = [];
  for (const [key, entry] of Object.entries(detail)) {
    if (entry && typeof entry === "object" && entry.img) {
      parts.push(el("figure", {class: "qr"},
        el("img", {src: entry.img, alt: `QR code: ${entry.description || key}`, dataset: {uri: entry.value}}),
        el("figcaption", {}, entry.description || key)));
    } else if (key === "registrationcode" || key === "password") {
      parts.push(el("p", {}, "One-time code (shown only now): ", el("code", {}, entry)));
    } else if (key === "otps" && typeof entry === "object") {
      parts.push(el("ol", {class: "otps", start: 0}, Object.values(entry).map((otp) => el("li", {}, otp))));
    }
  }
  replace($("#details"), parts.length ? parts : el("p", {}, "Nothing more to set up for this token."));
}

async function enroll() {
  const values = formValues(form);
  if (GENERATED.has(values.type)) values.genkey = "1";
  if (values.type === "question" && values.questions) {
    Object.assign(values, {questions: JSON.parse(values.questions)});
  }
  let {detail} = await api("POST", "/token/init", values);
  if (values.type === "webauthn" || values.type === "passkey") detail = await register(values, detail);
  enrolled = {serial: detail.serial, type: values.type};
  $("#serial").textContent = detail.serial;
  showDetail(detail);
  $("#verify").hidden = detail.rollout_state !== "verify";
  form.hidden = true;
  $("#result").hidden = false;
  say(`Token ${detail.serial} enrolled.`);
  $("#result-title").focus();
}

// The authenticator creates the credential; the second /token/init completes the token.
async function register(values, detail) {
  say(values.type === "passkey" ? "Create the passkey with your authenticator." : "Touch your security key.");
  const answer = values.type === "passkey"
    ? {...await registerPasskey(detail.passkey_registration), transaction_id: detail.transaction_id}
    : {...await registerSecurityKey(detail.webAuthnRegisterRequest),
       transaction_id: detail.webAuthnRegisterRequest.transaction_id};
  const second = await api("POST", "/token/init",
    {type: values.type, serial: detail.serial, user: values.user, realm: values.realm, ...answer});
  return {...second.detail, serial: detail.serial};
}

async function verify() {
  const otp = $("#verify").verify.value;
  await api("POST", "/token/init", {serial: enrolled.serial, type: enrolled.type, verify: otp});
  finish(`Token ${enrolled.serial} verified and ready.`);
}

// Forget the secret: the QR code and codes leave the page.
function finish(message) {
  replace($("#details"), el("p", {}, message, " ",
    el("a", {href: `/ui/tokens/${encodeURIComponent(enrolled.serial)}`}, "Show the token")));
  $("#verify").hidden = true;
  $("#verify").reset();
  say(message);
}

form.addEventListener("submit", guarded(enroll, form));
$("#verify").addEventListener("submit", guarded(verify, $("#verify")));
$("#done").addEventListener("click", () => finish($("#verify").hidden ? `Token ${enrolled.serial} enrolled.`
  : `Token ${enrolled.serial} is not verified yet and cannot be used until it is.`));
typeSelect.addEventListener("change", showFields);

guarded(async () => {
  const {value: types} = await api("GET", "/auth/rights");
  const preferred = typeSelect.dataset.default;
  replace(typeSelect, Object.entries(types).map(([name, title]) =>
    el("option", {value: name, selected: name === preferred}, `${name.toUpperCase()}: ${title}`)));
  if (!typeSelect.options.length) {
    form.hidden = true;
    say("Your policies do not allow you to enroll tokens.");
    return;
  }
  showFields();
  if (isAdmin) await fillRealms();
})();
