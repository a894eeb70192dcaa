// Fill every <select class="realms"> with the realms the caller may see (GET /realm/).
import {api, el} from "./lib.js";

export async function fillRealms() {
  const selects = document.querySelectorAll("select.realms, select#tokenrealm");
  if (!selects.length) return {};
  const {value: realms} = await api("GET", "/realm/");
  for (const select of selects) {
    const keep = [...select.options].filter((option) => option.value === "");
    select.replaceChildren(...keep, ...Object.keys(realms).sort().map((name) =>
      el("option", {value: name, selected: realms[name].default && !keep.length}, name)));
  }
  return realms;
}
