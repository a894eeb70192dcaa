// The audit log: filters, paging, CSV export of the same filter.
import {$, api, body, download, formValues, guarded, pager, replace, table, when} from "./lib.js";

const form = $("#filter");
const COLUMNS = [
  {title: "No.", value: (e) => e.number}, {title: "Time", value: (e) => when(e.date)},
  {title: "Action", value: (e) => e.action}, {title: "Success", value: (e) => (e.success ? "yes" : "no")},
  {title: "Serial", value: (e) => e.serial}, {title: "User", value: (e) => e.user},
  {title: "Realm", value: (e) => e.realm}, {title: "Administrator", value: (e) => e.administrator},
  {title: "Client", value: (e) => e.client}, {title: "Info", value: (e) => e.info},
];

async function show(page) {
  const {value} = await api("GET", "/audit/", {...formValues(form), page: page || 1,
    page_size: body.auditPageSize || 10});
  replace($("#audit"), table(COLUMNS, value.auditdata), pager(value, guarded(show, form)));
}

form.addEventListener("submit", guarded(() => show(1), form));
const csv = $("#csv");
if (csv) csv.addEventListener("click", guarded(() => download("/audit/audit.csv", formValues(form), "audit.csv"), form));
guarded(() => show(1))();
