// The token list: server-side search, filters and paging (GET /token/).
import {$, api, body, el, formValues, guarded, isAdmin, pager, replace, table} from "./lib.js";
import {fillRealms} from "./realms-select.js";

const form = $("#filter");
const columns = [
  {title: "Serial", value: (t) => el("a", {href: `/ui/tokens/${encodeURIComponent(t.serial)}`}, t.serial)},
  {title: "Type", value: (t) => t.tokentype},
  {title: "State", value: (t) => (t.revoked ? "revoked" : t.active ? "active" : "disabled") +
    (t.rollout_state ? ` (${t.rollout_state})` : "")},
  {title: "Description", value: (t) => t.description},
  {title: "User", value: (t) => (t.username ? `${t.username}@${t.user_realm}` : "")},
  {title: "Fail count", value: (t) => `${t.failcount} / ${t.maxfail}`},
  {title: "Realms", value: (t) => (t.realms || []).join(", ")},
];

async function show(page) {
  const params = {...formValues(form), page: page || 1, pagesize: body.tokenPageSize || 15};
  if (params.serial && !params.serial.includes("*")) params.serial = `*${params.serial}*`;
  const {value} = await api("GET", "/token/", params);
  replace($("#tokens"), table(columns, value.tokens), pager(value, guarded(show, form)));
}

form.addEventListener("submit", guarded(() => show(1), form));
guarded(async () => {
  if (isAdmin) await fillRealms();
  await show(1);
})();
