// phiguard review page: detect, switch spans off, add missed ones, keep allow/deny lists,
// download the masked text. Every call goes to the /v1 API with the key typed above (kept in
// sessionStorage, never in a cookie). Note text is only ever set with textContent.
//
// Offsets: the API speaks Python str indices (code points); JavaScript strings index UTF-16
// units. `units[cp]` is the UTF-16 index of code point `cp`, so both directions are exact even
// for characters outside the BMP.
"use strict";
(() => {
  const TYPES = ["NAME", "AGE", "DATE", "PHONE_OR_FAX", "EMAIL", "ID", "URL", "ADDRESS",
    "PROFESSION", "LOCATION", "ORGANIZATION", "OTHER"];
  const $ = (id) => document.getElementById(id);
  const state = { key: sessionStorage.getItem("phiguard-key") || "", text: "", units: [0],
    spans: [], allow: [], deny: [] };

  function unitsOf(text) {
    const units = [0];
    let i = 0;
    for (const ch of text) { i += ch.length; units.push(i); }
    return units;
  }

  function codePoint(utf16) {  // the code point offset at (or just after) a UTF-16 index
    let lo = 0, hi = state.units.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (state.units[mid] < utf16) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  function slice(start, end) { return state.text.slice(state.units[start], state.units[end]); }

  function say(message, isError = false) {
    $("status").textContent = message;
    $("status").className = isError ? "error" : "";
  }

  async function api(path, body) {
    const headers = { Authorization: "Bearer " + state.key };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(path, {
      method: body === undefined ? "GET" : "POST", headers, cache: "no-store",
      credentials: "omit", body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const e = data.error || {};
      throw new Error(`${res.status} ${e.code || res.statusText}: ${e.message || ""}`);
    }
    return data;
  }

  function download(name, content) {
    const url = URL.createObjectURL(new Blob([content], { type: "text/plain;charset=utf-8" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function addTerm(list, term) {
    term = term.trim();
    if (term && !list.some((t) => t.toLowerCase() === term.toLowerCase())) list.push(term);
  }

  // -- rendering ------------------------------------------------------------------------------

  function segment(start, end) {
    const el = document.createElement("span");
    el.dataset.start = String(start);
    el.textContent = slice(start, end);
    return el;
  }

  function renderView() {
    const view = $("view");
    view.replaceChildren();
    let pos = 0;
    const ordered = state.spans.map((s, i) => [s, i]).sort((a, b) => a[0].start - b[0].start);
    for (const [s, i] of ordered) {
      if (s.start < pos) continue;  // overlaps one already drawn: listed in the table only
      if (s.start > pos) view.append(segment(pos, s.start));
      const mark = document.createElement("mark");
      mark.className = `t-${s.type}` + (s.keep ? "" : " off") + (s.added ? " added" : "");
      mark.dataset.start = String(s.start);
      mark.dataset.index = String(i);
      mark.title = `${s.type} · score ${s.score} · ${s.source}`;
      mark.textContent = slice(s.start, s.end);
      view.append(mark);
      pos = s.end;
    }
    if (pos < state.units.length - 1) view.append(segment(pos, state.units.length - 1));
  }

  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    row.append(td);
    return td;
  }

  function renderTable() {
    const body = $("spans").tBodies[0];
    body.replaceChildren();
    state.spans.forEach((s, i) => {
      const row = document.createElement("tr");
      row.dataset.index = String(i);
      const keep = document.createElement("input");
      keep.type = "checkbox";
      keep.checked = s.keep;
      keep.className = "keep";
      keep.addEventListener("change", () => { s.keep = keep.checked; render(); });
      cell(row, "").append(keep);
      cell(row, s.type, `type t-${s.type}`);
      cell(row, slice(s.start, s.end), "text");
      cell(row, `${s.start}–${s.end}`);
      cell(row, String(s.score));
      cell(row, s.source);
      const allow = document.createElement("button");
      allow.type = "button";
      allow.className = "allow";
      allow.textContent = "Allow term";
      allow.addEventListener("click", () => allowTerm(slice(s.start, s.end)));
      cell(row, "").append(allow);
      body.append(row);
    });
  }

  function renderLists() {
    for (const [id, list] of [["allow-list", state.allow], ["deny-list", state.deny]]) {
      const ul = $(id);
      ul.replaceChildren();
      list.forEach((term, i) => {
        const li = document.createElement("li");
        li.textContent = term;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "remove";
        remove.addEventListener("click", () => { list.splice(i, 1); render(); });
        li.append(remove);
        ul.append(li);
      });
    }
  }

  function renderLegend() {
    const legend = $("legend");
    legend.replaceChildren();
    for (const t of TYPES.filter((t) => state.spans.some((s) => s.type === t))) {
      const chip = document.createElement("span");
      chip.className = `t-${t}`;
      chip.textContent = `${t} ${state.spans.filter((s) => s.type === t && s.keep).length}`;
      legend.append(chip);
    }
  }

  function render() {
    for (const id of ["review", "lists", "output"]) $(id).hidden = false;
    renderView();
    renderTable();
    renderLists();
    renderLegend();
  }

  // -- actions --------------------------------------------------------------------------------

  async function detect() {
    state.text = $("note").value;
    state.units = unitsOf(state.text);
    if (!state.text) { say("Paste or choose a note first.", true); return; }
    const body = { text: state.text, allow: state.allow, deny: state.deny };
    const threshold = $("threshold").value;
    if (threshold !== "") body.threshold = Number(threshold);
    say("Detecting…");
    try {
      const data = await api("/v1/detect", body);
      state.spans = data.spans.map((s) => ({ ...s, keep: true, added: false }));
      render();
      say(`${state.spans.length} PHI span(s) found.`);
    } catch (e) { say(e.message, true); }
  }

  function allowTerm(term) {
    addTerm(state.allow, term);
    const lower = term.trim().toLowerCase();
    for (const s of state.spans) {
      if (slice(s.start, s.end).trim().toLowerCase() === lower) s.keep = false;
    }
    render();
    say(`"${term}" is on the allow list and its spans are off.`);
  }

  function selection() {  // [start, end) in code points, or null
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    const at = (node, offset) => {
      const el = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
      if (!el || !$("view").contains(el) || el.dataset.start === undefined) return null;
      const base = state.units[Number(el.dataset.start)];
      return codePoint(base + (node.nodeType === Node.TEXT_NODE ? offset : 0));
    };
    const start = at(range.startContainer, range.startOffset);
    const end = at(range.endContainer, range.endOffset);
    if (start === null || end === null || end <= start) return null;
    return [start, end];
  }

  function addSpan() {
    const picked = selection();
    if (!picked) { say("Select the missed text in the note first.", true); return; }
    const [start, end] = picked;
    state.spans.push({ start, end, type: $("add-type").value, score: 1, source: "reviewer",
      keep: true, added: true });
    render();
    say(`Added ${$("add-type").value} span ${start}–${end}.`);
  }

  function denySelection() {
    const picked = selection();
    if (!picked) { say("Select the text to deny-list first.", true); return; }
    addTerm(state.deny, slice(picked[0], picked[1]));
    render();
    say("Added to the deny list: detect again to apply it everywhere.");
  }

  async function downloadMasked() {
    const spans = state.spans.filter((s) => s.keep)
      .map(({ start, end, type }) => ({ start, end, type }));
    try {
      const data = await api("/v1/mask", { text: state.text, spans, style: $("style").value });
      $("preview").textContent = data.text;
      download("masked.txt", data.text);
      say(`Masked text downloaded (${data.spans.length} span(s)).`);
    } catch (e) { say(e.message, true); }
  }

  async function downloadSurrogate() {
    try {
      const data = await api("/v1/surrogate", { text: state.text });
      $("preview").textContent = data.text;
      download("surrogate.txt", data.text);
    } catch (e) { say(e.message, true); }
  }

  async function useKey(event) {
    event.preventDefault();
    state.key = $("key").value.trim();
    sessionStorage.setItem("phiguard-key", state.key);
    try {
      const who = await api("/v1/me");
      $("who").textContent = `${who.actor} (${who.scopes.join(", ")})`;
      say("Key accepted.");
    } catch (e) { $("who").textContent = ""; say(e.message, true); }
  }

  function readFile() {
    const file = $("file").files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => { $("note").value = reader.result; say(`Loaded ${file.size} bytes.`); };
    reader.onerror = () => say("The file could not be read.", true);
    reader.readAsText(file, "utf-8");
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const t of TYPES) {
      const o = document.createElement("option");
      o.value = o.textContent = t;
      $("add-type").append(o);
    }
    $("key").value = state.key;
    $("key-form").addEventListener("submit", useKey);
    $("file").addEventListener("change", readFile);
    $("detect").addEventListener("click", detect);
    $("redetect").addEventListener("click", detect);
    $("add-span").addEventListener("click", addSpan);
    $("deny-selection").addEventListener("click", denySelection);
    $("download-allow").addEventListener("click",
      () => download("allow-list.txt", state.allow.map((t) => t + "\n").join("")));
    $("download-deny").addEventListener("click",
      () => download("deny-list.txt", state.deny.map((t) => t + "\n").join("")));
    $("download-masked").addEventListener("click", downloadMasked);
    $("download-surrogate").addEventListener("click", downloadSurrogate);
    $("view").addEventListener("click", (event) => {
      const mark = event.target.closest("mark");
      if (!mark || !window.getSelection().isCollapsed) return;
      const s = state.spans[Number(mark.dataset.index)];
      s.keep = !s.keep;
      render();
    });
  });
})();
