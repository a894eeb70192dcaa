// One token: its properties, every lifecycle action the caller's rights allow, its audit trail.
import {$, api, can, el, formValues, guarded, isAdmin, replace, say, table, when} from "./lib.js";
import {fillRealms} from "./realms-select.js";

const serial = $("#token").dataset.serial;
const path = (action) => `/token/${action}/${encodeURIComponent(serial)}`;

async function load() {
  const {value} = await api("GET", "/token/", {serial});
  const token = value.tokens[0];
  if (!token) {
    replace($("#token"), el("p", {}, `There is no token ${serial} that you may see.`));
    return;
  }
  const shown = {
    "Type": token.tokentype, "State": token.revoked ? "revoked" : token.active ? "active" : "disabled",
    "Rollout state": token.rollout_state, "Description": token.description,
    "User": token.username ? `${token.username}@${token.user_realm}` : "(not assigned)",
    "Realms": (token.realms || []).join(", "), "Fail count": `${token.failcount} of ${token.maxfail}`,
    "Counter": token.count, "Count window": token.count_window, "Sync window": token.sync_window,
    "OTP length": token.otplen, "Locked": token.locked ? "yes" : "no",
  };
  replace($("#props"), Object.entries(shown).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v ?? "")]));
  $("#description").description.value = token.description || "";
  buttons(token);
  await trail();
}

function action(label, right, run, style) {
  if (!can(right)) return null;
  return el("button", {type: "button", class: style, onclick: guarded(async () => {
    await run();
    say(`${label}: done.`);
    await load();
  })}, label);
}

function buttons(token) {
  const post = (name) => () => api("POST", path(name));
  replace($("#buttons"),
    token.active ? action("Disable", "disable", post("disable"), "secondary")
      : action("Enable", "enable", post("enable"), "secondary"),
    action("Reset fail counter", "reset", post("reset"), "secondary"),
    isAdmin && token.username ? action("Unassign", "unassign", post("unassign"), "secondary") : null,
    token.revoked ? null : action("Revoke", "revoke", async () => {
      if (window.confirm(`Revoke ${serial} for good?`)) await api("POST", path("revoke"));
    }, "danger"),
    can("delete") ? el("button", {type: "button", class: "danger", onclick: guarded(async () => {
      if (!window.confirm(`Delete ${serial}?`)) return;
      await api("DELETE", `/token/${encodeURIComponent(serial)}`);
      window.location.assign("/ui/tokens");
    })}, "Delete") : null);
}

async function trail() {
  const {value} = await api("GET", "/audit/", {serial, page_size: 20});
  replace($("#trail"), table([
    {title: "Time", value: (e) => when(e.date)}, {title: "Action", value: (e) => e.action},
    {title: "Success", value: (e) => (e.success ? "yes" : "no")},
    {title: "By", value: (e) => e.administrator || e.user}, {title: "Info", value: (e) => e.info},
  ], value.auditdata));
}

// The forms: each posts its fields to its endpoint; a form whose right is missing is hidden.
const forms = {
  setpin: (v) => api("POST", path("setpin"), v),
  resync: (v) => api("POST", path("resync"), v),
  description: (v) => api("POST", path("description"), {description: v.description || ""}),
  properties: (v) => api("POST", path("set"), v),
  assign: (v) => api("POST", "/token/assign", {...v, serial}),
};
for (const [id, send] of Object.entries(forms)) {
  const form = $(`#${id}`);
  if (!form) continue;
  if (!can(form.dataset.right)) {
    form.hidden = true;
    continue;
  }
  form.addEventListener("submit", guarded(async () => {
    await send(formValues(form));
    form.reset();
    say(`${form.querySelector("button").textContent}: done.`);
    await load();
  }, form));
}

guarded(async () => {
  if (isAdmin) await fillRealms();
  await load();
})();
