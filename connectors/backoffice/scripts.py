"""The in-page JavaScript: the one locator resolver, the ``fast`` fill, and reading screens.

Every input method finds elements with the same resolver, ``find(root, t)`` below: the
``fast`` method inside its single fill script, ``trusted`` and ``type`` by resolving the
element with :data:`FIND` and then acting on the returned handle with Playwright. A target
is a screen-map locator as a plain object (:meth:`~connectors.backoffice.screenmap.Locator.target`)
with ``control`` true when an input is wanted rather than a value shown on screen, or an
element handle. The rules, for map writers:

- ``{css}``: ``root.querySelectorAll(css)``; plain CSS only. A selector the browser refuses
  throws ``rekey: not a valid CSS selector: ...`` (turned into ConfigError by the pages).
- ``{field_name}``: the input, select, textarea or button whose ``name=`` attribute is it.
- ``{placeholder}``: the element whose ``placeholder`` attribute is the text.
- ``{role, name}``: elements of that ARIA role (explicit ``role=``, else the implicit role
  of the element: ``<input>`` text/email/tel/url/password/date... is a textbox, ``search`` a
  searchbox, ``number`` a spinbutton, one with ``list=`` a combobox, submit/button/reset/
  image a button, checkbox and radio themselves; ``<textarea>`` textbox; ``<select>``
  combobox, or listbox when ``multiple`` or ``size`` > 1; ``<button>`` button; ``<a href>``
  link) whose accessible name equals ``name`` when given. The name comes from
  ``aria-labelledby``, ``aria-label``, an ``<input type=submit|button|reset>``'s value, the
  ``<label>``s, the text content (buttons, links, tabs, menu items, options and explicit-role
  checkboxes, radios and switches), ``title``, then ``placeholder``.
- ``{caption}`` for a control, in order: ``<label>`` with that text (its ``control``: the
  ``for=`` target or the wrapped input); ``aria-label``; ``aria-labelledby`` (the referenced
  texts, together or one of them); the legacy table cell (a ``<td>`` with the text, the
  control in the next cell); nearby text (an element whose own text is the caption, then the
  nearest visible input, select or textarea to its right with vertical overlap, or below it
  with horizontal overlap, or a checkbox or radio left of it on the same line, by
  ``getBoundingClientRect``; nearest first, a control below counting the caption's height
  further than one beside it).
- ``{caption}`` for a value: the table cell right of the caption first, then the label
  rules, then nearby text (the nearest visible element with text of its own, or control,
  right of or below the caption).

Texts compare with white space runs as one space and a trailing ``:`` or ``*`` ignored. Of
several matches the first visible one wins, a hidden one only when none is visible. A value
is read as an input's value, a select's chosen option text, a checkbox's ``true``/``false``,
otherwise the element's ``innerText``.
"""

from __future__ import annotations

BAD_CSS = "rekey: not a valid CSS selector: "

_PRELUDE = r"""
const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
const bare = (s) => norm(s).replace(/[\s:*]+$/, "");
const same = (text, want) => {
  const n = norm(text);
  return n === want || (bare(n) !== "" && bare(n) === bare(want));
};
const CONTROL = "input:not([type=hidden]):not([type=submit]):not([type=button])"
  + ":not([type=reset]):not([type=image]), select, textarea";
const SKIP = new Set(["script", "style", "noscript", "template", "head", "title", "option"]);
const visible = (el) => el.checkVisibility
  ? el.checkVisibility({visibilityProperty: true}) : el.getClientRects().length > 0;
const all = (root, selector) => [...root.querySelectorAll(selector)];
const byId = (el, id) => el.getRootNode().getElementById(id);
const asControl = (el) => el.matches(CONTROL) ? el : el.querySelector(CONTROL);

function ownText(el) {
  return norm([...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.data).join(" "));
}
function labelText(label) {
  let text = "";
  const walk = (node) => {
    for (const c of node.childNodes) {
      if (c.nodeType === 3) text += c.data;
      else if (c.nodeType === 1 && !c.matches("input, select, textarea, button, script, style")) {
        walk(c);
      }
    }
  };
  walk(label);
  return norm(text);
}
function labelledBy(el) {
  const ids = (el.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
  return ids.map((id) => { const x = byId(el, id); return x ? norm(x.textContent) : ""; });
}

const INPUT_ROLES = {button: "button", submit: "button", reset: "button", image: "button",
  checkbox: "checkbox", radio: "radio", number: "spinbutton", range: "slider",
  search: "searchbox", hidden: null, file: null, color: null};
function roleOf(el) {
  const explicit = (el.getAttribute("role") || "").trim().split(/\s+/)[0];
  if (explicit) return explicit;
  const tag = el.localName;
  if (tag === "textarea") return "textbox";
  if (tag === "select") return el.multiple || el.size > 1 ? "listbox" : "combobox";
  if (tag === "button") return "button";
  if (tag === "a") return el.hasAttribute("href") ? "link" : null;
  if (tag !== "input") return null;
  const type = (el.getAttribute("type") || "text").toLowerCase();
  const role = type in INPUT_ROLES ? INPUT_ROLES[type] : "textbox";
  return el.hasAttribute("list") && (role === "textbox" || role === "searchbox")
    ? "combobox" : role;
}
const FROM_CONTENT = new Set(["button", "link", "tab", "menuitem", "option", "checkbox",
  "radio", "switch"]);
function accName(el) {
  const by = norm(labelledBy(el).join(" "));
  if (by) return by;
  const aria = norm(el.getAttribute("aria-label"));
  if (aria) return aria;
  if (el.localName === "input" && ["submit", "button", "reset"].includes(el.type)) {
    return norm(el.value) || {submit: "Submit", reset: "Reset"}[el.type] || "";
  }
  if (el.localName === "input" && el.type === "image") return norm(el.alt || el.value);
  const labels = el.labels ? norm([...el.labels].map(labelText).join(" ")) : "";
  if (labels) return labels;
  const native = ["input", "select", "textarea"].includes(el.localName);
  if (!native && FROM_CONTENT.has(roleOf(el))) {
    const text = norm(el.textContent);
    if (text) return text;
  }
  return norm(el.getAttribute("title") || el.getAttribute("placeholder"));
}

// caption rules: each gives candidates, best first
function byLabel(root, t) {
  return all(root, "label").filter((l) => same(labelText(l), t.caption)).map((l) => l.control);
}
function byAriaLabel(root, t) {
  return all(root, "[aria-label]").filter((el) => same(el.getAttribute("aria-label"), t.caption))
    .map((el) => (t.control ? asControl(el) : el));
}
function byLabelledBy(root, t) {
  return all(root, "[aria-labelledby]").filter((el) => {
    const texts = labelledBy(el);
    return same(texts.join(" "), t.caption) || texts.some((x) => same(x, t.caption));
  }).map((el) => (t.control ? asControl(el) : el));
}
function byCell(root, t) {
  return all(root, "td").filter((td) => same(td.textContent, t.caption)).map((td) => {
    const cell = td.nextElementSibling;
    if (!cell) return null;
    return t.control ? cell.querySelector(CONTROL) : cell;
  });
}

// nearby text: geometry
function textBox(el) {
  let box = null;
  const range = el.ownerDocument.createRange();
  for (const n of el.childNodes) {
    if (n.nodeType !== 3 || !n.data.trim()) continue;
    range.selectNodeContents(n);
    const r = range.getBoundingClientRect();
    box = box ? {left: Math.min(box.left, r.left), top: Math.min(box.top, r.top),
      right: Math.max(box.right, r.right), bottom: Math.max(box.bottom, r.bottom)} : r;
  }
  return box;
}
function distance(c, r, tick) {
  // right of the caption on the same line, or below it: the gap; a checkbox or radio may
  // also sit left of its caption on the same line; anything else: null
  const sameLine = r.top < c.bottom && r.bottom > c.top;
  if (sameLine && r.left >= c.right - 1) return Math.max(0, r.left - c.right);
  if (r.left < c.right && r.right > c.left && r.top >= c.bottom - 1) {
    // a line lower: beside the caption comes first, then under it
    return Math.max(0, r.top - c.bottom) + (c.bottom - c.top);
  }
  if (tick && sameLine && r.right <= c.left + 1) return Math.max(0, c.left - r.right);
  return null;
}
const tickable = (el) => el.localName === "input"
  && (el.type === "checkbox" || el.type === "radio");
function captionsOf(root, caption) {
  return all(root, "*").filter((el) => !SKIP.has(el.localName) && same(ownText(el), caption)
    && visible(el));
}
function valuesNear(root, caption) {
  return all(root, "*").filter((el) => !SKIP.has(el.localName) && visible(el)
    && !el.contains(caption) && !caption.contains(el)
    && (el.matches(CONTROL) || ownText(el) !== ""));
}
function byNearby(root, t) {
  const pairs = [];
  for (const cap of captionsOf(root, t.caption)) {
    const c = textBox(cap);
    if (!c) continue;
    const found = t.control ? all(root, CONTROL).filter(visible) : valuesNear(root, cap);
    for (const el of found) {
      const r = el.matches(CONTROL) ? el.getBoundingClientRect() : textBox(el);
      const d = r ? distance(c, r, t.control && tickable(el)) : null;
      if (d !== null) pairs.push([d, el]);
    }
  }
  return pairs.sort((a, b) => a[0] - b[0]).map((p) => p[1]);
}

function byCss(root, t) {
  try {
    return all(root, t.css);
  } catch (e) {
    throw new Error("__BAD_CSS__" + t.css);
  }
}
function byRole(root, t) {
  return all(root, "input, select, textarea, button, a[href], [role]").filter(
    (el) => roleOf(el) === t.role && (t.name == null || same(accName(el), t.name)));
}
const byPlaceholder = (root, t) => all(root, "[placeholder]").filter(
  (el) => same(el.getAttribute("placeholder"), t.placeholder));
const byFieldName = (root, t) => all(root, "input, select, textarea, button").filter(
  (el) => el.getAttribute("name") === t.field_name);

function rulesFor(t) {
  if (t.css != null) return [byCss];
  if (t.field_name != null) return [byFieldName];
  if (t.placeholder != null) return [byPlaceholder];
  if (t.role != null) return [byRole];
  if (t.caption == null) return [];
  return t.control ? [byLabel, byAriaLabel, byLabelledBy, byCell, byNearby]
    : [byCell, byLabel, byAriaLabel, byLabelledBy, byNearby];
}
// every element the target names, best first (rule order, then document order)
function findAll(root, t) {
  if (!t) return [];
  if (t.nodeType) return [t];
  const found = [];
  for (const rule of rulesFor(t)) {
    for (const el of rule(root, t)) if (el && !found.includes(el)) found.push(el);
  }
  return found;
}
// the element the target names: the first visible match, else the first match
function find(root, t) {
  if (!t) return null;
  if (t.nodeType) return t;
  let hidden = null;
  for (const rule of rulesFor(t)) {
    for (const el of rule(root, t)) {
      if (!el) continue;
      if (visible(el)) return el;
      hidden = hidden || el;
    }
  }
  return hidden;
}
function textOf(el) {
  if (el.localName === "select") {
    const option = el.selectedOptions[0];
    return option ? option.text : "";
  }
  if (el.localName === "input" && (el.type === "checkbox" || el.type === "radio")) {
    return el.checked ? "true" : "false";
  }
  if (el.localName === "input" || el.localName === "textarea") return el.value;
  return el.innerText;
}
function columns(table, headers) {
  const heads = [...table.querySelectorAll("thead th, thead td")].map((h) => norm(h.textContent));
  const index = {};
  for (const [key, header] of Object.entries(headers)) index[key] = heads.indexOf(header);
  return index;
}
function missingOf(targets) {
  return Object.entries(targets).filter(([, t]) => !find(document, t)).map(([key]) => key);
}
""".replace("__BAD_CSS__", BAD_CSS)

# (target) → the element it names, or null; with wait_for_function it waits for it
FIND = "(t) => {" + _PRELUDE + "\n  return find(document, t);\n}"

# [target] → the element each names (null where none), in one round trip
FIND_ALL = "(ts) => {" + _PRELUDE + "\n  return ts.map((t) => find(document, t));\n}"

COVER_ATTRIBUTE = "data-rekey-cover"

# [target] → how many of the elements they name are on the screen; those (and only those)
# carry COVER_ATTRIBUTE afterwards, for a screenshot's mask to find
COVER = (
    "(ts) => {"
    + _PRELUDE
    + f"""
  const mark = "{COVER_ATTRIBUTE}";
  for (const el of document.querySelectorAll("[" + mark + "]")) el.removeAttribute(mark);
  let found = 0;
  for (const t of ts) {{
    const el = find(document, t);
    if (el) {{ el.setAttribute(mark, ""); found += 1; }}
  }}
  return found;
}}"""
)

# ({key: target}) → the keys whose targets are not on the screen
MISSING = "(targets) => {" + _PRELUDE + "\n  return missingOf(targets);\n}"

# ({key: target}) → true once every target is on the screen (for wait_for_function)
ALL_SHOWN = "(targets) => {" + _PRELUDE + "\n  return missingOf(targets).length === 0;\n}"

# (target) → the text of the element it names, or null
TEXT = "(t) => {" + _PRELUDE + "\n  const el = find(document, t);\n  return el && textOf(el);\n}"

# table, {key: header} → {key: column index, -1 if no such header}
COLUMNS = "(table, headers) => {" + _PRELUDE + "\n  return columns(table, headers);\n}"

# table, [row, column] → the input, select or textarea in that body cell, or null
CELL_CONTROL = r"""(table, [r, c]) => {
  const row = table.tBodies[0] && table.tBodies[0].rows[r];
  const cell = row && row.cells[c];
  return cell ? cell.querySelector("input, select, textarea") : null;
}"""

BODY_ROWS = "(table) => table.tBodies[0] ? table.tBodies[0].rows.length : 0"

# what tells an error page from a screen: its title, first heading, and whether it is empty
PAGE = r"""() => {
  const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
  const h = document.querySelector("h1, h2");
  const body = document.body;
  const empty = !body || (!norm(body.innerText) && !body.querySelector("input, select, textarea"));
  return {title: norm(document.title), heading: h ? norm(h.textContent) : "", empty};
}"""

FILL = (
    "([fields, lines, submit]) => {"
    + _PRELUDE
    + r"""
  const missing = [], badOptions = {}, todo = [], ticks = [];
  const button = submit ? find(document, submit) : null;
  if (submit && !button) missing.push(submit.key);
  for (const f of fields) {
    const el = find(document, f.target);
    if (!el) { missing.push(f.key); continue; }
    if (f.action === "select") {
      if (!f.value) continue;
      const options = el.options ? [...el.options] : [];
      const option = options.find((o) => norm(o.text) === f.value);
      if (!option) { badOptions[f.name] = options.map((o) => norm(o.text)); continue; }
      todo.push([el, option.value]);
    } else if (f.action === "check") {
      if (f.value && el.checked !== (f.value === "true")) ticks.push(el);
    } else {
      todo.push([el, f.value]);
    }
  }
  if (missing.length || Object.keys(badOptions).length) return {missing, badOptions};
  if (lines) {
    const table = find(document, lines.table);
    if (!table) return {missing: [lines.table.key], badOptions};
    const body = table.tBodies[0];
    const index = columns(table, lines.headers);
    for (const [key, i] of Object.entries(index)) {
      if (i < 0) missing.push(`lines.columns.${key}.header`);
    }
    const add = lines.add ? find(document, lines.add) : null;
    if (lines.add && !add) missing.push(lines.add.key);
    if (missing.length) return {missing, badOptions};
    if (lines.rows.length > body.rows.length && !add) {
      return {missing, badOptions, rowsShown: body.rows.length};
    }
    while (body.rows.length < lines.rows.length) {
      const before = body.rows.length;
      add.click();
      if (body.rows.length === before) return {missing, badOptions, rowsShown: before};
    }
    lines.rows.forEach((row, r) => {
      for (const [key, value] of Object.entries(row)) {
        const cell = body.rows[r].cells[index[key]];
        const el = cell && cell.querySelector("input, select, textarea");
        if (el) todo.push([el, value]); else missing.push(`lines.columns.${key}`);
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
  for (const el of ticks) el.click();
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
    if (el) out.fields[f.name] = textOf(el); else out.missing.push(f.key);
  }
  if (lines) {
    const table = find(document, lines.table);
    if (!table) { out.missing.push(lines.table.key); return out; }
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

# the rows a target names, and per row the text of each cell target looked up inside it;
# missing: the cell keys found in no row at all (when there are rows)
ROWS = (
    "([rows, cells]) => {"
    + _PRELUDE
    + r"""
  const seen = new Set();
  const out = findAll(document, rows).map((row) => {
    const values = {};
    for (const [key, t] of Object.entries(cells)) {
      const el = find(row, t);
      if (el) seen.add(key);
      values[key] = el ? textOf(el) : "";
    }
    return values;
  });
  const missing = out.length ? Object.keys(cells).filter((k) => !seen.has(k)) : [];
  return {rows: out, missing};
}"""
)

# After a step is submitted: the validation messages shown, and the new reference (if asked).
OUTCOME = (
    "([errors, reference]) => {"
    + _PRELUDE
    + r"""
  const shown = errors.css ? findAll(document, errors) : [find(document, errors)].filter(Boolean);
  const ref = reference ? find(document, reference) : null;
  return {
    errors: shown.map((el) => el.innerText),
    reference: reference ? (ref ? textOf(ref) : null) : null,
  };
}"""
)

# Submits that load no page: what the screen map's ``done`` signal waits on. MARK stamps
# what is on the screen before the submit (so a toast or text left over from before does
# not count); SIGNAL, polled by wait_for_function, answers "done" once the signal shows,
# "errors" once validation messages show, the name of a stop (``signin``, ``outage``) once
# one of those shows, else false.
_SIGNAL_PRELUDE = r"""
const stamp = "__rekeyBefore";
const shownAll = (t) => findAll(document, t).filter((el) => visible(el));
const withText = (t) => shownAll(t).some((el) => norm(el.innerText || textOf(el)) !== "");
function stopOf(stops) {
  for (const [name, t] of Object.entries(stops || {})) if (withText(t)) return name;
  return null;
}
const textual = (el) => el.localName !== "input" || !["checkbox", "radio"].includes(el.type);
"""

MARK = (
    "(signal) => {"
    + _PRELUDE
    + _SIGNAL_PRELUDE
    + r"""
  if (signal.shown) for (const el of findAll(document, signal.shown)) el[stamp] = true;
  if (signal.text) {
    for (const el of document.querySelectorAll("*")) {
      if (norm(el.textContent).includes(signal.text)) el[stamp] = true;
    }
  }
  if (signal.cleared) for (const el of all(document, CONTROL)) el[stamp] = true;
  return true;
}"""
)

SIGNAL = (
    "({signal, errors, stops}) => {"
    + _PRELUDE
    + _SIGNAL_PRELUDE
    + r"""
  let done = false;
  if (signal.shown) done = shownAll(signal.shown).some((el) => !el[stamp]);
  else if (signal.hidden) done = shownAll(signal.hidden).length === 0;
  else if (signal.text) {
    done = [...document.querySelectorAll("body *")].some((el) => !el[stamp] && visible(el)
      && norm(el.textContent).includes(signal.text));
  } else if (signal.cleared) {
    const shown = all(document, CONTROL).filter((el) => visible(el));
    done = shown.length > 0 && (shown.every((el) => !el[stamp])
      || shown.filter(textual).every((el) => el.value === ""));
  }
  if (done) return "done";
  if (errors && withText(errors)) return "errors";
  return stopOf(stops) || false;
}"""
)

# {t, stops} → the element t names, or the name of a stop shown instead (for
# wait_for_function: it waits for either)
FIND_OR_STOP = (
    "({t, stops}) => {"
    + _PRELUDE
    + _SIGNAL_PRELUDE
    + "\n  return find(document, t) || stopOf(stops);\n}"
)

# {targets, stops} → true once every target is on the screen, or the name of a stop shown
ALL_SHOWN_OR_STOP = (
    "({targets, stops}) => {"
    + _PRELUDE
    + _SIGNAL_PRELUDE
    + "\n  return missingOf(targets).length === 0 || stopOf(stops);\n}"
)

# (stops) → the name of the stop shown, or null; with the text it shows
STOP_SHOWN = (
    "(stops) => {"
    + _PRELUDE
    + _SIGNAL_PRELUDE
    + r"""
  const name = stopOf(stops);
  if (!name) return null;
  const el = shownAll(stops[name]).find((x) => norm(x.innerText || textOf(x)) !== "");
  return {name, text: norm(el ? el.innerText || textOf(el) : "")};
}"""
)
