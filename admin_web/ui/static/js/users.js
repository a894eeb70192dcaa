// Users per realm, and a user's tokens.
import {$, api, body, el, formValues, guarded, replace, table} from "./lib.js";
import {fillRealms} from "./realms-select.js";

const form = $("#filter");
const TOKEN_COLUMNS = [
  {title: "Serial", value: (t) => el("a", {href: `/ui/tokens/${encodeURIComponent(t.serial)}`}, t.serial)},
  {title: "Type", value: (t) => t.tokentype}, {title: "Active", value: (t) => (t.active ? "yes" : "no")},
  {title: "Description", value: (t) => t.description},
];

async function tokensOf(user) {
  const {value} = await api("GET", "/token/", {user: user.username, realm: form.realm.value, pagesize: 50});
  $("#user-name").textContent = `${user.username}@${form.realm.value}`;
  replace($("#user-token-list"), table(TOKEN_COLUMNS, value.tokens));
  $("#user-tokens").hidden = false;
}

async function show() {
  const values = formValues(form);
  const {value: users} = await api("GET", "/user/", values);
  const limit = Number(body.userPageSize || 15) * 10;
  replace($("#users"), table([
    {title: "User name", value: (u) => el("button", {type: "button", class: "secondary",
      onclick: guarded(() => tokensOf(u))}, u.username)},
    {title: "Given name", value: (u) => u.givenname}, {title: "Surname", value: (u) => u.surname},
    {title: "Email", value: (u) => u.email}, {title: "Resolver", value: (u) => u.resolver},
  ], users.slice(0, limit), users.length > limit ? `The first ${limit} of ${users.length} users` : null));
}

form.addEventListener("submit", guarded(show, form));
guarded(async () => {
  await fillRealms();
  if (form.realm.value) await show();
})();
