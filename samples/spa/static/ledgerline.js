/* Ledgerline: the whole front end, plain JavaScript of the fetch() years, no framework.
 *
 * Every screen is drawn here from the JSON the API sends (/api/screens/{id}); saving posts
 * JSON with fetch and never reloads the page. The markup keeps the habits of the era on
 * purpose: captions are <span>s (no <label>, no "for"), inputs have no id and a random
 * name or none, some are described only by a placeholder or an aria-label, and captions
 * sit left of or above their input by CSS alone. A robot has to read the page as a person
 * does.
 *
 * After a save the new record's reference shows in a toast (role="status") until the next
 * action (a menu choice, Save, Find, Sign out), and the form is drawn afresh, empty.
 * When the API answers 401 the sign-in screen comes back.
 */
(function () {
  "use strict";

  var app = document.getElementById("app");
  var notices = document.getElementById("notices");
  var state = { csrf: "", user: null };
  var SESSION_ENDED = "Your session has ended. Please sign in again.";
  var signedOut = new Error("signed out");

  // --- the API ------------------------------------------------------------------------

  function api(method, path, body) {
    var init = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method !== "GET") init.headers["X-CSRF-Token"] = state.csrf;
    return fetch(path, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (data && data.csrf) state.csrf = data.csrf;
        return { status: response.status, data: data || {} };
      });
    });
  }

  /* An API call made while signed in: a 401 or 403 ends the session on this page. */
  function call(method, path, body) {
    return api(method, path, body).then(function (r) {
      if (r.status === 401 || r.status === 403) {
        showSignIn(SESSION_ENDED);
        throw signedOut;
      }
      return r;
    });
  }

  function failed(error) {
    if (error !== signedOut) showAlert("Ledgerline could not reach the server (" + error.message + ").");
  }

  function serverError(status, what) {
    showAlert("The server could not complete the request (HTTP " + status + "). " + (what || ""));
  }

  // --- building blocks ----------------------------------------------------------------

  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      var value = props[key];
      if (value === undefined || value === null || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else if (key === "onclick") node.addEventListener("click", value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  /* Half the inputs get a throwaway name, the rest none: names carry no meaning here. */
  function junkName() {
    return Math.random() < 0.5 ? "x" + Math.random().toString(36).slice(2, 8) : undefined;
  }

  function clearNotices() { notices.textContent = ""; }

  /* One toast and one alert at most; both stay until the next action clears them. */
  function notice(className, role, text) {
    var old = notices.querySelector("." + className);
    if (old) notices.removeChild(old);
    notices.appendChild(el("div", { className: className, role: role, text: text }));
  }

  function showToast(text) { notice("toast", "status", text); }

  function showAlert(text) { notice("alert", "alert", text); }

  // --- sign-in, the bar and the Start menu ------------------------------------------------

  function showSignIn(message) {
    state.user = null;
    var user = el("input", { type: "text", name: junkName(), autocomplete: "off" });
    var password = el("input", { type: "password", name: junkName() });
    var problem = el("p", { className: "message", role: "alert", text: message || "" });
    var button = el("button", { type: "submit", text: "Sign in" });
    var form = el("form", { className: "signin" }, [
      el("h1", { text: "Ledgerline" }),
      problem,
      el("div", { className: "fld above" }, [el("span", { className: "cap", text: "User name" }), user]),
      el("div", { className: "fld above" }, [el("span", { className: "cap", text: "Password" }), password]),
      button,
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      clearNotices();
      signIn(user.value, password.value, true).then(function (r) {
        if (r.status === 200) {
          state.user = r.data.user;
          showHome();
        } else {
          problem.textContent = r.status === 401 ? "Invalid user name or password." : "Sign-in failed (HTTP " + r.status + ").";
          password.value = "";
          button.disabled = false;
        }
      }).catch(function (error) {
        button.disabled = false;
        failed(error);
      });
    });
    app.textContent = "";
    app.appendChild(form);
    user.focus();
  }

  /* POST the credentials; a 403 (stale CSRF token, now refreshed by api()) is retried once. */
  function signIn(username, password, retry) {
    return api("POST", "/api/session", { username: username, password: password }).then(function (r) {
      return r.status === 403 && retry ? signIn(username, password, false) : r;
    });
  }

  function signOut() {
    clearNotices();
    api("POST", "/api/session/end").then(function () { showSignIn(""); }).catch(failed);
  }

  function showHome() {
    var main = el("main", {}, [
      el("h1", { text: "Welcome" }),
      el("p", { text: "Signed in as " + state.user + ". Press Start to open a screen." }),
    ]);
    var menu = el("ul", { className: "menu", role: "menu", hidden: true });
    var start = el("button", { type: "button", className: "start", "aria-haspopup": "menu", text: "Start" });
    start.addEventListener("click", function () { toggleMenu(menu, start); });
    var bar = el("header", { className: "bar" }, [
      start,
      el("span", { className: "brand", text: "Ledgerline" }),
      el("span", { className: "who", text: state.user }),
      el("button", { type: "button", text: "Sign out", onclick: signOut }),
    ]);
    app.textContent = "";
    [bar, menu, main].forEach(function (node) { app.appendChild(node); });
  }

  function toggleMenu(menu, start) {
    if (!menu.hidden) {
      menu.hidden = true;
      return;
    }
    call("GET", "/api/screens").then(function (r) {
      if (r.status !== 200) return serverError(r.status);
      menu.textContent = "";
      var entries = r.data.concat([["find", "Find record"]]);
      entries.forEach(function (entry) {
        var item = el("button", { type: "button", role: "menuitem", text: entry[1] });
        item.addEventListener("click", function () {
          menu.hidden = true;
          clearNotices();
          var opened = entry[0] === "find" ? showFind() : openScreen(entry[0]);
          opened.catch(failed);
        });
        menu.appendChild(el("li", { role: "none" }, [item]));
      });
      menu.hidden = false;
      menu.querySelector("button").focus();
    }).catch(failed);
  }

  function setMain(node) {
    var old = app.querySelector("main");
    if (old) app.replaceChild(node, old);
    else app.appendChild(node);
  }

  // --- entry screens --------------------------------------------------------------------

  function control(field) {
    var props = { name: junkName(), autocomplete: "off" };
    if (field.place === "placeholder") props.placeholder = field.caption;
    if (field.place === "aria") props["aria-label"] = field.caption;
    if (field.kind === "select") {
      var options = [el("option", { value: "", text: "" })].concat(field.options.map(function (o) {
        return el("option", { value: o[0], text: o[1] });
      }));
      return el("select", props, options);
    }
    if (field.kind === "textarea") return el("textarea", Object.assign(props, { rows: 2 }));
    if (field.kind === "checkbox") return el("input", Object.assign(props, { type: "checkbox" }));
    return el("input", Object.assign(props, { type: "text" }));
  }

  function fieldRow(field, input) {
    var caption = el("span", { className: "cap", text: field.caption });
    var hint = field.hint ? el("span", { className: "hint", text: field.hint }) : null;
    var error = el("span", { className: "err" });
    var parts;
    if (field.place === "right") parts = [input, caption];
    else if (field.place === "placeholder" || field.place === "aria") parts = [input, hint];
    else parts = [caption, input, hint];
    var place = field.place === "placeholder" || field.place === "aria" ? "bare" : field.place;
    return el("div", { className: "fld " + place }, parts.concat([error]));
  }

  function lineRow(view, number) {
    var inputs = {};
    var cells = [el("td", { text: String(number) })];
    view.form.line_fields.forEach(function (field) {
      inputs[field.key] = el("input", { type: "text", name: junkName(), autocomplete: "off" });
      cells.push(el("td", {}, [inputs[field.key]]));
    });
    view.lines.push(inputs);
    return el("tr", {}, cells);
  }

  function linesTable(view) {
    var head = [el("th", { text: "#" })].concat(view.form.line_fields.map(function (f) {
      return el("th", { text: f.caption });
    }));
    var body = el("tbody");
    body.appendChild(lineRow(view, 1));
    var add = el("button", { type: "button", text: "Add line" });
    add.addEventListener("click", function () {
      body.appendChild(lineRow(view, view.lines.length + 1));
      add.disabled = view.lines.length >= view.form.max_lines;
    });
    return el("div", {}, [
      el("table", { className: "lines" }, [el("thead", {}, [el("tr", {}, head)]), body]),
      el("div", { className: "actions" }, [add]),
    ]);
  }

  function openScreen(id) {
    return call("GET", "/api/screens/" + id).then(function (r) {
      if (r.status !== 200) return serverError(r.status, "Open the screen again from the Start menu.");
      drawScreen(r.data);
    });
  }

  function drawScreen(form) {
    var view = { form: form, controls: [], lines: [] };
    var rows = form.fields.map(function (field) {
      var input = control(field);
      view.controls.push({ field: field, input: input });
      return fieldRow(field, input);
    });
    view.errors = el("div", { className: "errors", role: "alert", hidden: true });
    view.save = el("button", { type: "button", className: "save", text: "Save" });
    view.save.addEventListener("click", function () { save(view); });
    var clear = el("button", { type: "button", text: "Clear" });
    clear.addEventListener("click", function () { clearNotices(); drawScreen(form); });
    var note = form.date_format ? el("p", { className: "note", text: "Dates " + form.date_format }) : null;
    setMain(el("main", { "data-screen": form.id }, [
      el("h1", { text: form.title }),
      note,
      view.errors,
      el("div", { className: "form" }, rows),
      form.line_fields.length ? linesTable(view) : null,
      el("div", { className: "actions" }, [view.save, document.createTextNode(" "), clear]),
    ]));
  }

  function collect(view) {
    var values = {};
    view.controls.forEach(function (c) {
      values[c.field.key] = c.field.kind === "checkbox" ? c.input.checked : c.input.value;
    });
    var lines = view.lines.map(function (inputs) {
      var line = {};
      Object.keys(inputs).forEach(function (key) { line[key] = inputs[key].value; });
      return line;
    });
    return { values: values, lines: lines };
  }

  function save(view) {
    clearNotices();
    view.save.disabled = true;
    call("POST", "/api/screens/" + view.form.id + "/records", collect(view)).then(function (r) {
      if (r.status === 201) {
        var saved = "Saved " + r.data.reference;
        return openScreen(view.form.id).catch(failed).then(function () { showToast(saved); });
      }
      view.save.disabled = false;
      if (r.status === 422) return showErrors(view, r.data.errors || []);
      serverError(r.status, "The record may or may not have been saved: look it up by its external reference before saving again.");
    }).catch(function (error) {
      view.save.disabled = false;
      failed(error);
    });
  }

  function showErrors(view, errors) {
    view.controls.forEach(function (c) {
      c.input.removeAttribute("aria-invalid");
      c.input.parentNode.querySelector(".err").textContent = "";
    });
    view.lines.forEach(function (inputs) {
      Object.keys(inputs).forEach(function (key) { inputs[key].removeAttribute("aria-invalid"); });
    });
    var list = el("ul");
    errors.forEach(function (error) {
      list.appendChild(el("li", { text: error.message }));
      var input = inputFor(view, error.field || "");
      if (!input) return;
      input.setAttribute("aria-invalid", "true");
      var slot = input.parentNode.querySelector(".err");
      if (slot) slot.textContent = error.message;
    });
    view.errors.textContent = "";
    view.errors.appendChild(el("p", { text: "Please correct the following:" }));
    view.errors.appendChild(list);
    view.errors.hidden = false;
  }

  /* The input an error is about: "full_name", or "lines.2.charge" for a service line. */
  function inputFor(view, key) {
    var parts = key.split(".");
    if (parts[0] === "lines" && parts.length === 3) {
      var line = view.lines[Number(parts[1]) - 1];
      return line ? line[parts[2]] : null;
    }
    var found = view.controls.filter(function (c) { return c.field.key === key; })[0];
    return found ? found.input : null;
  }

  // --- lookup ---------------------------------------------------------------------------

  function showFind() {
    return call("GET", "/api/screens").then(function (r) {
      if (r.status !== 200) return serverError(r.status);
      var titles = {};
      r.data.forEach(function (s) { titles[s[0]] = s[1]; });
      var ref = el("input", { type: "text", name: junkName(), placeholder: "External reference", autocomplete: "off" });
      var screen = el("select", { name: junkName() }, [el("option", { value: "", text: "(any screen)" })].concat(
        r.data.map(function (s) { return el("option", { value: s[0], text: s[1] }); })));
      var results = el("div", { className: "results" });
      var find = el("button", { type: "button", text: "Find" });
      find.addEventListener("click", function () {
        clearNotices();
        results.textContent = "";
        var query = "?screen=" + encodeURIComponent(screen.value) + "&ext_ref=" + encodeURIComponent(ref.value.trim());
        call("GET", "/api/records" + query).then(function (answer) {
          if (answer.status !== 200) return serverError(answer.status);
          results.appendChild(resultsTable(answer.data.records, titles));
        }).catch(failed);
      });
      setMain(el("main", { "data-screen": "find" }, [
        el("h1", { text: "Find record" }),
        el("div", { className: "fld bare" }, [ref]),
        el("div", { className: "fld left" }, [el("span", { className: "cap", text: "Screen" }), screen]),
        el("div", { className: "actions" }, [find]),
        results,
      ]));
    });
  }

  function resultsTable(records, titles) {
    if (!records.length) return el("p", { className: "none", text: "No records found." });
    var head = ["Reference", "Screen", "External reference", "Saved by", "Saved at"].map(function (t) {
      return el("th", { text: t });
    });
    var rows = records.map(function (rec) {
      return el("tr", {}, [rec.reference, titles[rec.screen] || rec.screen, rec.external_ref, rec.created_by, rec.created_at]
        .map(function (t) { return el("td", { text: t }); }));
    });
    return el("table", { className: "results" }, [el("thead", {}, [el("tr", {}, head)]), el("tbody", {}, rows)]);
  }

  // --- start ------------------------------------------------------------------------------

  api("GET", "/api/session").then(function (r) {
    if (r.status !== 200) {
      showSignIn("Ledgerline is not available right now (HTTP " + r.status + ").");
      return;
    }
    state.user = r.data.user;
    if (state.user) showHome();
    else showSignIn("");
  }).catch(function (error) {
    showSignIn("");
    failed(error);
  });
})();
