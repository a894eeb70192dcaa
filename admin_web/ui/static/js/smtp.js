// SMTP server definitions (/smtpserver/): list, define, delete, and queue a test email.
import {$, api, can, el, formValues, guarded, replace, say, table} from "./lib.js";

const form = $("#smtpserver");
const testForm = $("#testmail");

async function load() {
  const {value} = await api("GET", "/smtpserver/");
  const rows = Object.entries(value).sort();
  replace($("#smtpservers"), table([
    {title: "Identifier", value: ([name]) => name},
    {title: "Server", value: ([, s]) => `${s.server}:${s.port}`},
    {title: "Sender", value: ([, s]) => s.sender},
    {title: "TLS", value: ([, s]) => (s.implicit_tls ? "implicit" : s.tls ? "STARTTLS" : "none")},
    {title: "User", value: ([, s]) => s.username},
    {title: "Timeout", value: ([, s]) => `${s.timeout} s`},
    {title: "Description", value: ([, s]) => s.description},
    {title: "", value: ([name]) => (can("smtpserver_write") ? el("button", {type: "button", class: "danger",
      onclick: guarded(async () => {
        await api("DELETE", `/smtpserver/${encodeURIComponent(name)}`);
        say(`${name} deleted.`);
        await load();
      })}, "Delete") : "")},
  ], rows, "SMTP servers"));
  replace($("#test-identifier"), rows.map(([name]) => el("option", {value: name}, name)));
}

form.addEventListener("submit", guarded(async () => {
  const {identifier, ...settings} = formValues(form);
  await api("POST", `/smtpserver/${encodeURIComponent(identifier)}`, settings);
  form.password.value = "";
  say(`${identifier} saved.`);
  await load();
}, form));

testForm.addEventListener("submit", guarded(async () => {
  const {detail} = await api("POST", "/smtpserver/send_test_email", formValues(testForm));
  say(`Test email queued (message ${detail.message_id}); the audit log shows whether it was sent.`);
}, testForm));

for (const each of [form, testForm]) each.hidden = !can(each.dataset.right);
guarded(load)();
