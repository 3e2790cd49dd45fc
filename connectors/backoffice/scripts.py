"""The in-page scripts of the ``fast`` input method and of reading screens back.

Each runs in one ``page.evaluate`` round trip. Targets are screen-map locators sent as
plain objects (``{caption}``, ``{css}``, ``{role, name}`` for buttons and links) or element
handles resolved beforehand; they are found the way :func:`connectors.backoffice.pages.locate`
finds them (a caption is the table cell whose text equals it; the target is the next cell).
"""

from __future__ import annotations

_PRELUDE = r"""
const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
function find(root, t) {
  if (!t) return null;
  if (t.nodeType) return t;
  if (t.css) return root.querySelector(t.css);
  if (t.caption) {
    for (const td of root.querySelectorAll("td")) {
      if (norm(td.textContent) === t.caption) {
        const cell = td.nextElementSibling;
        if (!cell) return null;
        return t.control ? cell.querySelector("input, select, textarea") : cell;
      }
    }
    return null;
  }
  if (t.role === "button") {
    const buttons = root.querySelectorAll(
      "button, input[type=submit], input[type=button], input[type=reset], [role=button]");
    for (const el of buttons) {
      const name = el.tagName === "INPUT"
        ? el.value : (el.getAttribute("aria-label") || el.textContent);
      if (t.name == null || norm(name) === t.name) return el;
    }
    return null;
  }
  if (t.role === "link") {
    for (const el of root.querySelectorAll("a[href]")) {
      if (t.name == null || norm(el.textContent) === t.name) return el;
    }
    return null;
  }
  return null;
}
function columns(table, headers) {
  const heads = [...table.querySelectorAll("thead th, thead td")].map((h) => norm(h.textContent));
  const index = {};
  for (const [key, header] of Object.entries(headers)) index[key] = heads.indexOf(header);
  return index;
}
"""

FILL = (
    "([fields, lines, submit]) => {"
    + _PRELUDE
    + r"""
  const missing = [], badOptions = {}, todo = [];
  const button = submit ? find(document, submit) : null;
  if (submit && !button) missing.push("(submit button)");
  for (const f of fields) {
    const el = find(document, f.target);
    if (!el) { missing.push(f.name); continue; }
    if (f.action === "select") {
      if (!f.value) continue;
      const option = [...el.options].find((o) => norm(o.text) === f.value);
      if (!option) { badOptions[f.name] = [...el.options].map((o) => norm(o.text)); continue; }
      todo.push([el, option.value]);
    } else {
      todo.push([el, f.value]);
    }
  }
  if (missing.length || Object.keys(badOptions).length) return {missing, badOptions};
  if (lines) {
    const table = find(document, lines.table);
    if (!table) return {missing: [lines.field], badOptions};
    const body = table.tBodies[0];
    const index = columns(table, lines.headers);
    for (const [key, i] of Object.entries(index)) if (i < 0) missing.push(`${lines.field}.${key}`);
    const add = lines.add ? find(document, lines.add) : null;
    if (lines.rows.length > body.rows.length && !add) missing.push(`${lines.field} (add button)`);
    if (missing.length) return {missing, badOptions};
    while (body.rows.length < lines.rows.length) {
      const before = body.rows.length;
      add.click();
      if (body.rows.length === before) {
        return {missing: [`${lines.field} (row ${before + 1})`], badOptions};
      }
    }
    lines.rows.forEach((row, r) => {
      for (const [key, value] of Object.entries(row)) {
        const cell = body.rows[r].cells[index[key]];
        const el = cell && cell.querySelector("input, select, textarea");
        if (el) todo.push([el, value]); else missing.push(`${lines.field}[${r + 1}].${key}`);
      }
    });
    if (missing.length) return {missing, badOptions};
  }
  for (const [el, value] of todo) {
    const proto = Object.getPrototypeOf(el);
    Object.getOwnPropertyDescriptor(proto, "value").set.call(el, value);
    el.dispatchEvent(new Event("input", {bubbles: true}));
    el.dispatchEvent(new Event("change", {bubbles: true}));
  }
  if (button) setTimeout(() => button.click(), 0);
  return {missing, badOptions};
}"""
)

READ = (
    "([fields, lines]) => {"
    + _PRELUDE
    + r"""
  const out = {fields: {}, lines: null, missing: []};
  for (const f of fields) {
    const el = find(document, f.target);
    if (el) out.fields[f.name] = el.innerText; else out.missing.push(f.name);
  }
  if (lines) {
    const table = find(document, lines.table);
    if (!table) { out.missing.push(lines.field); return out; }
    const index = columns(table, lines.headers);
    out.lines = [...table.tBodies[0].rows].map((tr) => {
      const row = {};
      for (const [key, i] of Object.entries(index)) {
        row[key] = i >= 0 && tr.cells[i] ? tr.cells[i].innerText : "";
      }
      return row;
    });
  }
  return out;
}"""
)

ROWS = (
    "([rows, cells]) => {"
    + _PRELUDE
    + r"""
  return [...document.querySelectorAll(rows)].map((row) => {
    const out = {};
    for (const [key, t] of Object.entries(cells)) {
      const el = find(row, t);
      out[key] = el ? el.innerText : "";
    }
    return out;
  });
}"""
)

# After a step is submitted: the validation messages shown, and the new reference (if asked).
OUTCOME = (
    "([errors, reference]) => {"
    + _PRELUDE
    + r"""
  const shown = errors.css
    ? [...document.querySelectorAll(errors.css)]
    : [find(document, errors)].filter(Boolean);
  const ref = reference ? find(document, reference) : null;
  return {
    errors: shown.map((el) => el.innerText),
    reference: reference ? (ref ? ref.innerText : null) : null,
  };
}"""
)
