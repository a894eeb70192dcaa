// The system configuration (GET/POST /system/) and the default realm.
import {$, api, can, el, formValues, guarded, replace, say, table} from "./lib.js";
import {fillRealms} from "./realms-select.js";

const setForm = $("#setconfig");
const realmForm = $("#defaultrealm");

async function load() {
  const {value} = await api("GET", "/system/");
  replace($("#config"), table([
    {title: "Key", value: ([key]) => key}, {title: "Value", value: ([, v]) => String(v)},
    {title: "", value: ([key]) => (can("configdelete") ? el("button", {type: "button", class: "danger",
      onclick: guarded(async () => {
        await api("DELETE", `/system/${encodeURIComponent(key)}`);
        await load();
      })}, "Delete") : "")},
  ], Object.entries(value).sort()));
}

setForm.addEventListener("submit", guarded(async () => {
  const {key, value} = formValues(setForm);
  await api("POST", "/system/setConfig", {[key]: value ?? ""});
  say(`${key} set.`);
  await load();
}, setForm));

realmForm.addEventListener("submit", guarded(async () => {
  await api("POST", `/defaultrealm/${encodeURIComponent(realmForm.realm.value)}`);
  say(`${realmForm.realm.value} is the default realm.`);
}, realmForm));

for (const form of [setForm, realmForm]) form.hidden = !can(form.dataset.right);
guarded(async () => {
  await Promise.all([load(), fillRealms()]);
})();
