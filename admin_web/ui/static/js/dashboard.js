// The dashboard: server health, token counts by type and state, recent authentications and failures.
import {$, api, el, guarded, replace, table, when} from "./lib.js";

const TYPES = ["hotp", "totp", "spass", "pw", "registration", "paper", "tan", "motp", "daypassword",
               "indexedsecret", "yubikey", "question"];

async function count(params) {
  const {value} = await api("GET", "/token/", {...params, pagesize: 1});
  return value.count;
}

function tile(label, number) {
  return el("div", {class: "tile"}, el("strong", {}, number), label);
}

async function counts() {
  const [all, active, disabled, unassigned] = await Promise.all(
    [{}, {active: "1"}, {active: "0"}, {assigned: "0"}].map(count));
  const byType = await Promise.all(TYPES.map(async (type) => [type, await count({type})]));
  replace($("#counts"), tile("tokens", all), tile("active", active), tile("disabled", disabled),
    tile("unassigned", unassigned),
    byType.filter(([, n]) => n > 0).map(([type, n]) => tile(type.toUpperCase(), n)));
}

async function health() {
  const response = await fetch("/healthz", {credentials: "same-origin"});
  const answer = await response.json();
  $("#health").textContent = response.ok
    ? `OK, version ${answer.version}, database reachable.`
    : `Problem: ${JSON.stringify(answer)}`;
}

const AUDIT_COLUMNS = [
  {title: "Time", value: (e) => when(e.date)}, {title: "User", value: (e) => e.user},
  {title: "Realm", value: (e) => e.realm}, {title: "Serial", value: (e) => e.serial},
  {title: "Client", value: (e) => e.client}, {title: "Info", value: (e) => e.info},
];

async function recent(target, success) {
  const {value} = await api("GET", "/audit/", {action: "*validate*", success, page_size: 10});
  replace($(target), table(AUDIT_COLUMNS, value.auditdata));
}

guarded(() => Promise.all([health(), counts(), recent("#auths", "1"), recent("#failures", "0")]))();
