// SMS gateway definitions (/smsgateway/): list, save, delete, send a test SMS.
import {$, api, can, el, guarded, replace, say, table} from "./lib.js";

const form = $("#gateway");
const testForm = $("#testsms");
let providers = {};

function lines(text, prefix) {
  const values = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) values[`${prefix}.${line.slice(0, at).trim()}`] = line.slice(at + 1).trim();
  }
  return values;
}

const shown = (values) => Object.entries(values || {}).map(([k, v]) => `${k}=${v}`).join("\n");

function describe() {
  const provider = providers[form.module.value];
  replace($("#gateway-parameters"), provider ? Object.entries(provider.parameters)
    .map(([name, p]) => `${name}${p.required ? " (required)" : ""}: ${p.description}`).join(" · ") : "");
}

async function load() {
  const {value: gateways} = await api("GET", "/smsgateway/");
  replace($("#gateways"), table([
    {title: "Name", value: (g) => g.name},
    {title: "Provider", value: (g) => g.providermodule.split(".").pop()},
    {title: "Description", value: (g) => g.description},
    {title: "Options", value: (g) => shown(g.options).replaceAll("\n", "; ")},
    {title: "", value: (g) => (can("smsgateway_write") ? el("span", {},
      el("button", {type: "button", class: "secondary", onclick: () => {
        form.name.value = g.name;
        form.module.value = g.providermodule;
        form.description.value = g.description;
        form.options.value = shown(g.options);
        form.headers.value = shown(g.headers);
        describe();
      }}, "Edit"),
      el("button", {type: "button", class: "danger", onclick: guarded(async () => {
        if (!window.confirm(`Delete the SMS gateway ${g.name}?`)) return;
        await api("DELETE", `/smsgateway/${encodeURIComponent(g.name)}`);
        say(`Deleted ${g.name}.`);
        await load();
      })}, "Delete")) : "")},
  ], gateways));
  replace(testForm.identifier, ...gateways.map((g) => el("option", {value: g.name}, g.name)));
}

form.addEventListener("submit", guarded(async () => {
  await api("POST", "/smsgateway", {name: form.name.value, module: form.module.value,
    description: form.description.value, ...lines(form.options.value, "option"),
    ...lines(form.headers.value, "header")});
  say(`SMS gateway ${form.name.value} saved.`);
  await load();
}, form));

testForm.addEventListener("submit", guarded(async () => {
  await api("POST", "/smsgateway/send_test_sms", {identifier: testForm.identifier.value, phone: testForm.phone.value});
  say(`Test SMS queued for ${testForm.phone.value}; the audit log shows how it went.`);
}, testForm));

form.module.addEventListener("change", describe);
for (const f of [form, testForm]) f.hidden = !can(f.dataset.right);
guarded(async () => {
  ({value: providers} = await api("GET", "/smsgateway/providers"));
  replace(form.module, ...Object.keys(providers).map((m) => el("option", {value: m}, m.split(".").pop())));
  describe();
  await load();
})();
