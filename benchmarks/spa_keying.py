"""Keying speed into Ledgerline (samples/spa), the single-page back office: rekey's robot
against a hand-written Playwright script doing the same work, in each input mode.

- ``speed.spa_trusted_vs_script``: rekey with ``keying_mode="trusted"`` against
  :class:`SpaScriptKeyer` in trusted mode (Playwright ``fill`` / ``select_option`` /
  ``set_checked`` on each control);
- ``speed.spa_fast_vs_script``: rekey with ``keying_mode="fast"`` against the script in
  fast mode (one ``page.evaluate`` per screen that fills it, reads it back and submits).

Both sides key the same account openings (clean ones from the corpus truth that Ledgerline
accepts) and do the same work per case (:data:`NAVIGATION`): open Find record from the Start
menu and search the case's external reference; open Account opening from the Start menu;
put the values in; read every input back and compare it with the case before saving; click
Save and wait for the "Saved LL-..." toast (or the validation messages); read the reference
from the toast. Ledgerline runs in a process of its own with ``--shuffle`` (its fields come
in a new order on every render), so neither side can rely on the order of the controls.

Each side has a Chromium of its own, launched with rekey's arguments, signed in outside the
timing; the cases are interleaved one by one in alternating order, one at a time (the same
parallelism: 1); every case carries a fresh external reference, so each one creates a
record. rekey's time includes what its robot does besides keying: its own ledger asked
before the search and written after the save, a screenshot of the saved screen, response
checks, and the Playwright trace chunk it keeps in case keying fails. Every figure is a
ratio of medians (rekey / script; lower is better) with the spread of the per-case ratios.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Literal

from playwright.sync_api import ElementHandle, Locator
from pydantic import SecretStr

from benchmarks import timing
from benchmarks.figures import Context, Missing, figure, with_overrides
from benchmarks.keying import race, reported, require_chromium
from benchmarks.keying_script import ScriptBrowser
from rekey.models import Case, Document, Field
from rekey.settings import PROJECT_ROOT, Settings
from samples.backoffice.forms import ID_TYPES, INCOME_BANDS, NATIONALITIES, SOURCES_OF_FUNDS

Mode = Literal["trusted", "fast"]
USER = "clerk"
SCREENS = PROJECT_ROOT / "samples" / "screens_ledgerline"

NAVIGATION: dict[str, str] = {  # what both sides of a figure do, per input mode
    "trusted": (
        "Find record (page reloaded, Start, menu item): External reference filled, Find "
        "clicked, results read; Account opening (page reloaded, Start, menu item): each "
        "control filled, chosen or ticked with Playwright, every input read back in one "
        "in-page script and compared, Save clicked, toast awaited and read"
    ),
    "fast": (
        "Find record (page reloaded, Start, menu item): query set and Find clicked by one "
        "in-page script, results read; Account opening (page reloaded, Start, menu item): "
        "every value set, read back and compared, and Save clicked (the script: one "
        "in-page script; rekey: its fill, read-back and click), toast awaited and read"
    ),
}

# caption shown (a span beside or over the control, a placeholder or an aria-label) → how
# the value is keyed; "address" joins the case's two address lines, one a line
CONTROLS: dict[str, tuple[str, str]] = {  # key → (how the control is found, its caption)
    "full_name": ("caption", "Full name"),
    "date_of_birth": ("caption", "Date of birth"),
    "nationality": ("caption", "Nationality"),
    "id_type": ("caption", "ID type"),
    "id_number": ("caption", "ID number"),
    "address": ("caption", "Address"),
    "phone": ("placeholder", "Phone"),
    "email": ("placeholder", "E-mail"),
    "occupation": ("caption", "Occupation"),
    "employer": ("caption", "Employer"),
    "income_band": ("caption", "Income band"),
    "source_of_funds": ("caption", "Source of funds"),
    "tax_residency": ("caption", "Tax residency"),
    "pep": ("checkbox", "Politically exposed person"),
    "external_reference": ("aria", "External reference"),
}
SELECTS = frozenset({"nationality", "id_type", "income_band", "source_of_funds"})
DONE = "#notices .toast, main .errors li"
SAVED = re.compile(r"Saved (LL-\d{6})")

# Read the inputs as keyed: a select's option text, a checkbox as true/false, else its value.
SHOWN_JS = """(el) => el.type === "checkbox" ? String(el.checked)
  : el.tagName === "SELECT" ? (el.selectedIndex > 0 ? el.options[el.selectedIndex].text : "")
  : el.value"""

# Fast mode, one round trip per screen: find each control as a person would (the span
# caption's box, a placeholder, an aria-label, the only checkbox), set every value firing the
# events typing would, read every input back, and click the button unless one differs.
FAST_JS = (
    """([values, controls, button]) => {
  const main = document.querySelector("main");
  const find = (how, caption) => {
    if (how === "placeholder") return main.querySelector(`[placeholder="${caption}"]`);
    if (how === "aria") return main.querySelector(`[aria-label="${caption}"]`);
    if (how === "checkbox") return main.querySelector("input[type=checkbox]");
    const cap = [...main.querySelectorAll(".fld span.cap")]
      .find((s) => s.textContent.trim() === caption);
    return cap && cap.parentNode.querySelector("input, select, textarea");
  };
  const shown = """
    + SHOWN_JS
    + """;
  const put = (el, value) => {
    if (el.type === "checkbox") el.checked = value === "true";
    else if (el.tagName === "SELECT") {
      const option = [...el.options].find((o) => o.text === value);
      el.value = option ? option.value : "";
    } else el.value = value;
    el.dispatchEvent(new Event("input", {bubbles: true}));
    el.dispatchEvent(new Event("change", {bubbles: true}));
  };
  const found = {};
  for (const [key, [how, caption]] of Object.entries(controls)) {
    found[key] = find(how, caption);
    if (!found[key]) return {missing: key};
  }
  for (const [key, value] of Object.entries(values)) put(found[key], value);
  const differ = Object.keys(values).filter((key) => shown(found[key]) !== values[key]);
  if (differ.length) return {differ};
  if (button) [...main.querySelectorAll("button")].find((b) => b.textContent === button).click();
  return {};
}"""
)


class SpaScriptKeyer(ScriptBrowser):
    """The baseline: what a developer would write for Ledgerline without rekey. It signs in
    once and keys account openings (canonical values: ISO dates, option texts, ``pep`` as
    True/False, ``external_reference``), looking each one up first."""

    navigation = NAVIGATION

    def __enter__(self) -> SpaScriptKeyer:
        self.launch("/")
        self.captioned("User name").fill(self.user)
        self.captioned("Password").fill(self.password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.get_by_role("button", name="Start").wait_for()
        return self

    def captioned(self, caption: str) -> Locator:
        """The control in the box whose span caption reads *caption*."""
        box = self.page.locator(".fld").filter(
            has=self.page.locator("span.cap", has_text=re.compile(f"^{re.escape(caption)}$"))
        )
        return box.locator("input, select, textarea").first

    def open(self, item: str) -> None:
        """A screen from the Start menu, the app reloaded first (as rekey's maps do)."""
        self.page.goto("/")
        self.page.get_by_role("button", name="Start").click()
        self.page.get_by_role("menuitem", name=item).click()

    def key(self, values: dict[str, str]) -> str:
        """Key one account opening; return its reference (the existing one if found)."""
        existing = self.find(values["external_reference"])
        if existing:
            return existing
        texts = screen_texts(values)
        self.open("Account opening")
        page = self.page
        page.locator("main[data-screen=account]").wait_for()
        if self.mode == "fast":
            result = page.evaluate(FAST_JS, [texts, CONTROLS, "Save"])
            if result:
                raise RuntimeError(f"the account opening screen is not as expected: {result}")
        else:
            controls = {key: self.control(key).element_handle() for key in texts}
            for key, text in texts.items():
                put(controls[key], key, text)
            shown = page.evaluate(f"(els) => els.map({SHOWN_JS})", [controls[key] for key in texts])
            differ = [k for k, s in zip(texts, shown, strict=True) if s != texts[k]]
            if differ:
                raise RuntimeError(f"the screen shows other values in {', '.join(differ)}")
            page.get_by_role("button", name="Save").click()
        return self.saved()

    def control(self, key: str) -> Locator:
        how, caption = CONTROLS[key]
        main = self.page.locator("main")
        if how == "placeholder":
            return main.get_by_placeholder(caption, exact=True)
        if how == "aria":
            return main.get_by_label(caption, exact=True)
        if how == "checkbox":
            return main.locator("input[type=checkbox]")
        return self.captioned(caption)

    def saved(self) -> str:
        """Wait for the toast or the validation messages; the new reference."""
        page = self.page
        page.locator(DONE).first.wait_for()
        messages = page.locator("main .errors li").all_inner_texts()
        if messages:
            raise RuntimeError("Ledgerline refused the account: " + "; ".join(messages))
        toast = page.locator("#notices .toast").inner_text()
        matched = SAVED.search(toast)
        if not matched:
            raise RuntimeError(f"unexpected toast {toast!r}")
        return matched.group(1)

    def find(self, external_ref: str) -> str | None:
        """The reference of the record carrying *external_ref*, or None."""
        page = self.page
        self.open("Find record")
        if self.mode == "fast":
            page.locator("main[data-screen=find]").wait_for()  # drawn once the menu answers
            box = {"external_reference": ("placeholder", "External reference")}
            result = page.evaluate(FAST_JS, [{"external_reference": external_ref}, box, "Find"])
            if result:
                raise RuntimeError(f"the Find record screen is not as expected: {result}")
        else:
            page.get_by_placeholder("External reference", exact=True).fill(external_ref)
            page.get_by_role("button", name="Find").click()
        page.locator("main .results table, main .results p.none").first.wait_for()
        rows = page.locator("main table.results tbody tr").evaluate_all(
            "(rows) => rows.map((r) => [...r.cells].map((c) => c.textContent.trim()))"
        )
        found = [row[0] for row in rows if row[2] == external_ref]
        return found[0] if found else None


def put(control: ElementHandle, key: str, text: str) -> None:
    """Trusted mode: one control keyed with Playwright's own actions."""
    if key == "pep":
        control.set_checked(text == "true")
    elif key in SELECTS:
        control.select_option(label=text)
    else:
        control.fill(text)


def screen_texts(values: dict[str, str]) -> dict[str, str]:
    """The case's canonical values as Ledgerline's account-opening screen takes them."""
    texts = {key: values.get(key, "") for key in CONTROLS if key not in ("address", "pep")}
    texts["date_of_birth"] = date.fromisoformat(values["date_of_birth"]).strftime("%d/%m/%Y")
    lines = (values.get("address_line1", ""), values.get("address_line2", ""))
    texts["address"] = "\n".join(line for line in lines if line)
    texts["pep"] = "true" if values.get("pep", "").lower() in ("true", "yes", "y") else "false"
    return texts


# --- the figures ------------------------------------------------------------------------


@contextmanager
def ledgerline_process(db_path: Path, user: str, password: str) -> Iterator[str]:
    """Ledgerline (fields shuffled on every render) in a process of its own, as a real back
    office would be; yields its URL."""
    env = os.environ | {"REKEY_SPA_USER": user, "REKEY_SPA_PASSWORD": password}
    args = [sys.executable, "-m", "samples.spa", "--port=0", f"--db={db_path}", "--shuffle"]
    child = subprocess.Popen(
        args, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # "Ledgerline at http://127.0.0.1:port/ (user ...)"
        matched = re.search(r"(http://\S+?)/? ", line)
        if not matched:
            raise Missing(f"Ledgerline did not start (it said {line.strip()!r})")
        yield matched.group(1)
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@contextmanager
def ledgerline(ctx: Context, name: str) -> Iterator[Settings]:
    """Ledgerline on a fresh database; rekey settings pointing at it."""
    folder = ctx.work / name
    folder.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(16)
    with ledgerline_process(folder / "spa.db", USER, password) as url:
        yield with_overrides(
            ctx.settings,
            data_dir=folder / "var",
            screens_dir=SCREENS,
            backoffice_url=url,
            backoffice_user=USER,
            backoffice_password=SecretStr(password),
        )


FIELDS = (
    "full_name",
    "date_of_birth",
    "nationality",
    "id_type",
    "id_number",
    "address_line1",
    "address_line2",
    "phone",
    "email",
    "occupation",
    "employer",
    "income_band",
    "source_of_funds",
    "tax_residency",
    "pep",
)


def accepted(fields: dict[str, Any]) -> bool:
    """Ledgerline takes these values as they are (its selects offer them, and so on)."""
    text = {k: str(fields.get(k) or "") for k in FIELDS}
    try:
        born = date.fromisoformat(text["date_of_birth"])
    except ValueError:
        return False
    return (
        all(text[k] for k in ("full_name", "id_number", "address_line1"))
        and born < date.today()
        and text["nationality"] in NATIONALITIES
        and text["id_type"] in ID_TYPES
        and text["income_band"] in INCOME_BANDS
        and text["source_of_funds"] in (*SOURCES_OF_FUNDS, "")
        and re.fullmatch(r"[A-Za-z]{0,3}", text["tax_residency"].replace(" ", "")) is not None
        and re.fullmatch(r"|[^@\s]+@[^@\s]+\.[^@\s]+", text["email"]) is not None
    )


def account_values(ctx: Context, count: int) -> list[dict[str, str]]:
    """Values of ``count`` clean account openings from the corpus truth that Ledgerline
    accepts as they are (``pep`` as True/False, as rekey's extraction gives it)."""
    docs = ctx.pick(
        lambda d: (
            d.truth.doc_type == "account_opening"
            and d.truth.planted_error is None
            and accepted(d.truth.fields)
        )
    )
    if not docs:
        raise Missing("no clean account opening in the corpus that Ledgerline accepts")
    values = []
    for i in range(count):
        fields = docs[i % len(docs)].truth.fields
        one = {k: str(fields.get(k) or "") for k in FIELDS}
        one["pep"] = "True" if fields.get("pep") in (True, "True", "true", "Y", "Yes") else "False"
        values.append(one)
    return values


def new_case(values: dict[str, str]) -> Case:
    """An account-opening case with a fresh content hash, so its external reference is new."""
    return Case(
        document=Document(original_name="bench.pdf", sha256=secrets.token_hex(32), size=0),
        doc_type="account_opening",
        fields={k: Field(name=k, value=v, confidence=1.0) for k, v in values.items()},
    )


def versus_script(ctx: Context, name: str, mode: Mode) -> timing.Measured:
    """rekey in *mode* against the hand-written script in the same mode, each in a browser
    of its own launched alike, keying the same account openings interleaved case by case."""
    require_chromium(ctx.settings)
    values = account_values(ctx, ctx.cases)
    with ledgerline(ctx, name) as settings:
        settings = with_overrides(settings, keying_mode=mode)
        times = race(settings, SpaScriptKeyer, mode, values, ctx.repeat, new_case)
    detail = {
        "mode": mode,
        "keying_mode": mode,
        "backoffice": "Ledgerline (samples/spa), its own process, fields shuffled per render",
        "navigation": NAVIGATION[mode],
        "parallelism": 1,
        "browser": "Chromium each, launched with rekey's arguments; signed in before timing",
        "rekey_extra_work": "its ledger (asked, written), 1 screenshot, response checks"
        + (", Playwright trace chunk" if settings.keying_trace else ""),
    }
    return reported(ctx, name, times, detail)


@figure("speed.spa_trusted_vs_script")
def spa_trusted_vs_script(ctx: Context) -> timing.Measured:
    """rekey in trusted mode / the trusted script, seconds per account opening keyed into
    Ledgerline (lower is better; target <= 1.3)."""
    return versus_script(ctx, "spa_trusted_vs_script", "trusted")


@figure("speed.spa_fast_vs_script")
def spa_fast_vs_script(ctx: Context) -> timing.Measured:
    """rekey in fast mode / the one-script-per-screen baseline, seconds per account opening
    keyed into Ledgerline (lower is better; target <= 1.3)."""
    return versus_script(ctx, "spa_fast_vs_script", "fast")
