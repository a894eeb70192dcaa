// Shared helpers of the UI pages: API calls with the CSRF header, DOM building (text only,
// never HTML from data), tables, pagers, errors next to their fields, logout and idle timeout.

const csrfMeta = document.querySelector('meta[name="csrf-token"]');
export const csrf = csrfMeta ? csrfMeta.content : "";
export const body = document.body.dataset;
export const isAdmin = body.role === "admin";
const rights = new Set((body.rights || "").split(" ").filter(Boolean));

export function can(right) {
  return rights.has(right);
}

export class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

function query(params) {
  const pairs = Object.entries(params || {}).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return pairs.length ? "?" + new URLSearchParams(pairs).toString() : "";
}

// Call the REST API; answers {value, detail}. A lost session goes back to the login page.
export async function api(method, path, params) {
  const init = {method, credentials: "same-origin", headers: {"X-CSRF-Token": csrf, "Accept": "application/json"}};
  let url = path;
  if (method === "GET" || method === "DELETE") {
    url += query(params);
  } else {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(params || {});
  }
  const response = await fetch(url, init);
  if (response.status === 401) {
    window.location.assign("/ui/login?expired=1");
    throw new ApiError("Your session has ended.", 401, 401);
  }
  const answer = await response.json();
  if (!answer.result || !answer.result.status) {
    const error = (answer.result && answer.result.error) || {};
    throw new ApiError(error.message || `Request failed (${response.status})`, error.code, response.status);
  }
  return {value: answer.result.value, detail: answer.detail || {}};
}

// The response of a download endpoint as a file the browser saves.
export async function download(path, params, filename) {
  const response = await fetch(path + query(params), {credentials: "same-origin", headers: {"X-CSRF-Token": csrf}});
  if (!response.ok) {
    throw new ApiError(`Download failed (${response.status})`, null, response.status);
  }
  const link = el("a", {href: URL.createObjectURL(await response.blob()), download: filename});
  document.body.append(link);
  link.click();
  link.remove();
}

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

export function $(selector) {
  return document.querySelector(selector);
}

// Messages: the page's status line, or an error next to the field it concerns.
export function say(message) {
  $("#status").textContent = message;
  hideError();
}

export function hideError() {
  const box = $("#error");
  box.hidden = true;
  box.textContent = "";
  document.querySelectorAll(".field-error").forEach((node) => node.remove());
  document.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
}

export function showError(error, form) {
  const message = error instanceof Error ? error.message : String(error);
  const field = form && fieldNamed(form, message);
  if (field) {
    const id = `${field.id}-error`;
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", id);
    field.after(el("span", {id, class: "field-error", role: "alert"}, message));
    field.focus();
    return;
  }
  const box = $("#error");
  box.textContent = message;
  box.hidden = false;
}

// The field an API error message names ("missing parameter: otp1", "pin: too short").
function fieldNamed(form, message) {
  for (const field of form.querySelectorAll("input[name], select[name], textarea[name]")) {
    if (new RegExp(`(^|[^A-Za-z_])${field.name}([^A-Za-z_]|$)`).test(message)) return field;
  }
  return null;
}

// Run an async action from a form or button: errors are shown, never thrown away.
export function guarded(action, form) {
  return async (event) => {
    if (event) event.preventDefault();
    hideError();
    try {
      await action(event);
    } catch (error) {
      if (error.status !== 401) showError(error, form);
    }
  };
}

export function formValues(form) {
  const values = {};
  for (const field of form.elements) {
    if (!field.name || field.disabled) continue;
    if (field.type === "checkbox") values[field.name] = field.checked ? "1" : "0";
    else if (field.value !== "") values[field.name] = field.value;
  }
  return values;
}

// A table of rows; columns: [{title, value: row => text or Node}].
export function table(columns, rows, caption) {
  return el("table", {},
    caption ? el("caption", {}, caption) : null,
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", {scope: "col"}, c.title)))),
    el("tbody", {}, rows.length ? rows.map((row) => el("tr", {}, columns.map((c) => el("td", {}, c.value(row)))))
      : el("tr", {}, el("td", {colspan: columns.length}, "Nothing found."))));
}

// Previous/next buttons for an answer with {count, current, prev, next}.
export function pager(answer, go) {
  return el("nav", {class: "pager", "aria-label": "Pages"},
    el("button", {type: "button", disabled: !answer.prev, onclick: () => go(answer.prev)}, "Previous"),
    el("span", {}, `Page ${answer.current}, ${answer.count} in all`),
    el("button", {type: "button", disabled: !answer.next, onclick: () => go(answer.next)}, "Next"));
}

export function replace(container, ...children) {
  container.replaceChildren(...children.flat().filter(Boolean));
}

export function when(value) {
  return value ? String(value).replace("T", " ").slice(0, 19) : "";
}

export async function logout(expired) {
  await fetch("/ui/logout", {method: "POST", credentials: "same-origin", headers: {"X-CSRF-Token": csrf}});
  window.location.assign(expired ? "/ui/login?expired=1" : "/ui/login");
}

// Log out after logout_time seconds without a key press, click or scroll (webui policy).
function idleTimeout() {
  const seconds = Number(body.logoutTime || 0);
  if (!seconds) return;
  let timer;
  const restart = () => {
    clearTimeout(timer);
    timer = setTimeout(() => logout(true), seconds * 1000);
  };
  for (const name of ["keydown", "pointerdown", "scroll"]) {
    document.addEventListener(name, restart, {passive: true});
  }
  restart();
}

const logoutButton = $("#logout");
if (logoutButton) {
  logoutButton.addEventListener("click", () => logout(false));
  idleTimeout();
}
