// The policies: list, switch, delete, and an editor whose actions come from /policy/defs.
// Policies of one scope and priority that may apply together and give one action different
// values are shown as conflicts (the engine refuses such requests).
import {$, api, can, el, formValues, guarded, replace, say, table} from "./lib.js";

const form = $("#policy");
let defs = {};

function overlap(a, b) {
  return !a.length || !b.length || a.some((x) => b.includes(x));
}

function conflicts(policies) {
  const found = [];
  const active = policies.filter((p) => p.active);
  for (let i = 0; i < active.length; i++) {
    for (let j = i + 1; j < active.length; j++) {
      const [a, b] = [active[i], active[j]];
      if (a.scope !== b.scope || a.priority !== b.priority) continue;
      if (!["realm", "resolver", "user", "adminrealm", "client"].every((key) => overlap(a[key] || [], b[key] || []))) {
        continue;
      }
      for (const [action, value] of Object.entries(a.action || {})) {
        const other = (b.action || {})[action];
        if (other !== undefined && typeof value !== "boolean" && String(other) !== String(value)) {
          found.push(`${a.name} and ${b.name} (scope ${a.scope}, priority ${a.priority}) set ${action} ` +
                     `to ${value} and ${other}.`);
        }
      }
    }
  }
  return found;
}

function actionText(action) {
  return Object.entries(action || {}).map(([k, v]) => (v === true ? k : `${k}=${v}`)).join(", ");
}

async function load() {
  const {value: policies} = await api("GET", "/policy/");
  const problems = conflicts(policies);
  replace($("#conflicts"), problems.length ? el("div", {class: "card", role: "alert"},
    el("p", {class: "conflict"}, "Conflicting policies:"), el("ul", {}, problems.map((p) => el("li", {}, p)))) : null);
  const write = can("policywrite");
  replace($("#policies"), table([
    {title: "Name", value: (p) => (write ? el("button", {type: "button", class: "secondary",
      onclick: () => edit(p)}, p.name) : p.name)},
    {title: "Scope", value: (p) => p.scope}, {title: "Priority", value: (p) => p.priority},
    {title: "Active", value: (p) => (p.active ? "yes" : "no")},
    {title: "Realms", value: (p) => (p.realm || []).join(", ")}, {title: "Actions", value: (p) => actionText(p.action)},
    {title: "", value: (p) => el("span", {class: "actions"},
      write ? el("button", {type: "button", class: "secondary", onclick: guarded(async () => {
        await api("POST", `/policy/${p.active ? "disable" : "enable"}/${encodeURIComponent(p.name)}`);
        await load();
      })}, p.active ? "Disable" : "Enable") : null,
      can("policydelete") ? el("button", {type: "button", class: "danger", onclick: guarded(async () => {
        if (!window.confirm(`Delete policy ${p.name}?`)) return;
        await api("DELETE", `/policy/${encodeURIComponent(p.name)}`);
        await load();
      })}, "Delete") : null)},
  ], policies));
}

// The action inputs of a scope, grouped as the registry groups them. Actions of the policy
// that the server does not offer (stored by an earlier version) are shown apart: saving
// them is refused, with the reason, until they are removed.
const UNSUPPORTED = "not supported yet: clear before saving";

function showActions(current) {
  const groups = {};
  const offered = defs[form.scope.value] || {};
  for (const [name, def] of Object.entries(offered).sort()) {
    (groups[def.group || "miscellaneous"] ||= []).push([name, def]);
  }
  for (const [name, value] of Object.entries(current || {})) {
    if (name in offered) continue;
    (groups[UNSUPPORTED] ||= []).push([name, {type: value === true ? "bool" : "str", desc: UNSUPPORTED}]);
  }
  replace($("#policy-actions"), Object.entries(groups).sort().map(([group, actions]) =>
    el("fieldset", {class: "group"}, el("legend", {}, group), actions.map(([name, def]) => {
      const id = `action-${name}`;
      const value = (current || {})[name];
      if (def.type === "bool") {
        return el("label", {title: def.desc}, el("input", {type: "checkbox", id, "data-action": name,
          checked: value === true}), ` ${name}`);
      }
      return el("label", {title: def.desc}, `${name} `,
        el("input", {id, "data-action": name, value: value === undefined ? "" : String(value), size: 12}));
    }))));
}

function edit(policy) {
  form.name.value = policy.name;
  form.scope.value = policy.scope;
  form.priority.value = policy.priority;
  for (const key of ["realm", "resolver", "user", "adminrealm", "client"]) form[key].value = (policy[key] || []).join(",");
  form.active.checked = policy.active;
  showActions(policy.action);
  form.name.focus();
}

form.addEventListener("submit", guarded(async () => {
  const values = formValues(form);
  const action = {};
  for (const input of form.querySelectorAll("[data-action]")) {
    if (input.type === "checkbox" ? input.checked : input.value !== "") {
      action[input.dataset.action] = input.type === "checkbox" ? true : input.value;
    }
  }
  const {name, active, priority, ...lists} = values;
  await api("POST", `/policy/${encodeURIComponent(name)}`, {...lists, action, active: active === "1",
    priority: Number(priority || 1)});
  say(`Policy ${name} saved.`);
  await load();
}, form));

form.hidden = !can("policywrite");
guarded(async () => {
  ({value: defs} = await api("GET", "/policy/defs"));
  replace(form.scope, Object.keys(defs).sort().map((scope) => el("option", {value: scope}, scope)));
  form.scope.addEventListener("change", () => showActions({}));
  showActions({});
  await load();
})();
