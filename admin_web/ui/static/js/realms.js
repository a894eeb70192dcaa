// Resolvers (with a connection test) and the realms over them.
import {$, api, can, el, guarded, replace, say, table} from "./lib.js";

const resolverForm = $("#resolver");
const realmForm = $("#realm");

function settings() {
  const values = {};
  for (const line of resolverForm.settings.value.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) values[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return values;
}

function remove(path) {
  return can("resolverdelete")
    ? el("button", {type: "button", class: "danger", onclick: guarded(async () => {
      if (!window.confirm(`Delete ${path}?`)) return;
      await api("DELETE", path);
      say(`Deleted ${path}.`);
      await load();
    })}, "Delete") : "";
}

async function load() {
  const [{value: resolvers}, {value: realms}] = await Promise.all([api("GET", "/resolver/"), api("GET", "/realm/")]);
  replace($("#resolvers"), table([
    {title: "Name", value: (r) => r.resolvername}, {title: "Type", value: (r) => r.type},
    {title: "Settings", value: (r) => Object.entries(r.data || {}).map(([k, v]) => `${k}=${v}`).join("; ")},
    {title: "", value: (r) => remove(`/resolver/${encodeURIComponent(r.resolvername)}`)},
  ], Object.values(resolvers)));
  replace($("#realms"), table([
    {title: "Name", value: ([name]) => name},
    {title: "Default", value: ([, r]) => (r.default ? "yes" : "")},
    {title: "Resolvers", value: ([, r]) => r.resolver.map((x) => x.name).join(", ")},
    {title: "", value: ([name]) => remove(`/realm/${encodeURIComponent(name)}`)},
  ], Object.entries(realms)));
  replace($("#realm-resolvers"), Object.keys(resolvers).sort().map((name) =>
    el("label", {}, el("input", {type: "checkbox", name: "resolvers", value: name}), ` ${name}`)));
}

resolverForm.addEventListener("submit", guarded(async () => {
  const name = resolverForm.resolver.value;
  await api("POST", `/resolver/${encodeURIComponent(name)}`, {type: resolverForm.type.value, ...settings()});
  say(`Resolver ${name} saved.`);
  await load();
}, resolverForm));

$("#resolver-test").addEventListener("click", guarded(async () => {
  const {value, detail} = await api("POST", "/resolver/test", {type: resolverForm.type.value, ...settings()});
  say(`${value ? "Connection OK" : "Connection failed"}: ${detail.description}`);
}, resolverForm));

realmForm.addEventListener("submit", guarded(async () => {
  const name = realmForm.realm.value;
  const chosen = [...realmForm.querySelectorAll("input[name=resolvers]:checked")].map((box) => box.value);
  const {value} = await api("POST", `/realm/${encodeURIComponent(name)}`, {resolvers: chosen.join(",")});
  say(`Realm ${name} saved${value.failed.length ? `; unknown resolvers: ${value.failed.join(", ")}` : ""}.`);
  await load();
}, realmForm));

for (const form of [resolverForm, realmForm]) form.hidden = !can(form.dataset.right);
guarded(load)();
