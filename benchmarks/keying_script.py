"""The baseline for keying: a minimal hand-written Playwright script, what a developer would
write without rekey, in either of rekey's input modes, with rekey's navigation in that mode.

It signs in once and, per claim: looks for the claim's external ref, opens the entry form,
puts in step 1 (policy details) and submits it, puts in step 2 (payout account, expense
lines), accepts the "Save claim?" dialog, saves, reads the new reference, and opens and
reads the record page.

``mode="fast"`` (what rekey's shipped screen maps use)
    opens the search results by URL (``/claims?ext_ref=...``); puts each entry step in
    with one ``page.evaluate`` that adds the expense rows, sets the values, dispatches input
    and change events and clicks the step's button, as rekey's fast mode does.
``mode="trusted"``
    searches through the form (fill External ref, click Search); fills each entry step
    field by field with Playwright's ``fill`` and ``select_option``, clicking Add line for
    each expense row after the first, then clicks the step's button.

What it leaves out is rekey's overhead, which the keying figures measure: no screen maps,
no read-back comparison of the record with the case, no screenshots, no Playwright trace,
no response checks or retries, no error translation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Literal
from urllib.parse import quote

from playwright.sync_api import Locator, Page, sync_playwright

Mode = Literal["trusted", "fast"]

NAVIGATION: dict[str, str] = {  # what both sides of a keying figure do, per input mode
    "fast": (
        "search results opened by URL (/claims?ext_ref=...); each entry step put in and "
        "submitted by one in-page script (values set, input/change events, button "
        "clicked); record page opened by URL and read"
    ),
    "trusted": (
        "search through the form (External ref, Search button); each entry step filled "
        "field by field (fill, select_option, Add line per extra expense row), then its "
        "button clicked; record page opened by URL and read"
    ),
}

INPUTS = {  # caption on the entry form → canonical value key
    "Policy number": "policy_number",
    "Claimant name": "claimant_name",
    "Date of loss": "date_of_loss",
    "Amount claimed": "amount_claimed",
    "Currency": "currency",
    "Description": "loss_description",
    "External ref": "external_reference",
}

# Fast mode, one round trip per screen: add expense rows (the page's Add line button) until
# there are enough, set each control by its caption or id (a select by its option's text),
# firing the events a user's typing would, and click the screen's button.
FILL = """([byCaption, lineCount, byId, submit]) => {
  const put = (el, value) => {
    if (el.tagName === "SELECT") value = [...el.options].find((o) => o.text === value).value;
    el.value = value;
    el.dispatchEvent(new Event("input", {bubbles: true}));
    el.dispatchEvent(new Event("change", {bubbles: true}));
  };
  const rows = document.querySelector("#t_0100 tbody");
  while (rows && rows.rows.length < lineCount) {
    document.querySelector("input[value='Add line']").click();
  }
  for (const td of document.querySelectorAll("td.caption")) {
    const caption = td.textContent.trim();
    if (caption in byCaption) {
      put(td.nextElementSibling.querySelector("input, select, textarea"), byCaption[caption]);
    }
  }
  for (const [id, value] of Object.entries(byId)) put(document.getElementById(id), value);
  const button = document.querySelector(`input[type=submit][value='${submit}']`);
  setTimeout(() => button.click(), 0);  // after returning: a confirm() would block the call
}"""


def cell(page: Page, caption: str, control: str = "input") -> Locator:
    return page.locator(
        f"xpath=//td[normalize-space(.)='{caption}']/following-sibling::td[1]//{control}"
    ).first


class ScriptBrowser:
    """A hand-written keyer's own Chromium and page: launched on entry (:meth:`launch`),
    closed on exit. ``navigation``: the input modes the keyer knows."""

    navigation: dict[str, str] = NAVIGATION

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        chromium: Path,
        timeout_ms: int = 15_000,
        mode: Mode = "trusted",
        args: Sequence[str] = ("--no-sandbox",),
    ):
        if mode not in self.navigation:
            known = ", ".join(self.navigation)
            raise ValueError(f"mode must be one of {known}, not {mode!r}")
        self.base_url, self.user, self.password, self.chromium = base_url, user, password, chromium
        self.timeout_ms, self.mode, self.args = timeout_ms, mode, list(args)

    def launch(self, path: str) -> Page:
        """Launch the browser and load *path* of the back office in a new page."""
        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(
            executable_path=str(self.chromium), headless=True, args=self.args
        )
        self.page = self._browser.new_page(base_url=self.base_url.rstrip("/") + "/")
        self.page.set_default_timeout(self.timeout_ms)
        self.page.goto(path)
        return self.page

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._browser.close()
        self._pw.stop()


class ScriptKeyer(ScriptBrowser):
    def __enter__(self) -> ScriptKeyer:
        self.launch("/login")
        cell(self.page, "User").fill(self.user)
        cell(self.page, "Password").fill(self.password)
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Sign in").click()
        return self

    def key(self, values: dict[str, str]) -> str:
        """Key one claim (canonical values: ISO dates, plain decimals, ``expenses`` as a JSON
        list of {date, description, amount}); return its reference."""
        page = self.page
        existing = self.search(values["external_reference"])
        if existing:
            return existing

        screen = {caption: values.get(key, "") for caption, key in INPUTS.items()}
        screen["Date of loss"] = day(values["date_of_loss"])
        screen["Amount claimed"] = money(values["amount_claimed"])
        expenses = json.loads(values.get("expenses") or "[]")
        lines = {}  # row n's inputs: f_0101_n (date), f_0102_n (description), f_0103_n
        for row, line in enumerate(expenses, 1):
            lines[f"f_0101_{row}"] = day(line["date"])
            lines[f"f_0102_{row}"] = line["description"]
            lines[f"f_0103_{row}"] = money(line["amount"])

        page.goto("/claims/new")  # step 1: policy details
        self.enter("Next", screen)
        page.once("dialog", lambda dialog: dialog.accept())  # "Save claim?"
        self.enter("Save", {"Payout account": values.get("bank_account", "")}, len(expenses), lines)
        reference = page.locator("#saved-ref").inner_text().strip()

        page.goto(f"/claims/{reference}")
        page.locator("#t_record, #t_record_lines").all_inner_texts()
        return reference

    def search(self, external_ref: str) -> str | None:
        """The reference of the claim carrying *external_ref*, or None."""
        page = self.page
        if self.mode == "fast":
            page.goto(f"/claims?ext_ref={quote(external_ref)}")
        else:
            page.goto("/claims")
            cell(page, "External ref").fill(external_ref)
            with page.expect_navigation():
                page.get_by_role("button", name="Search").click()
        found = page.locator("#t_results tbody tr").filter(
            has=page.locator("td.c-ext", has_text=external_ref)
        )
        return found.first.locator("td.c-ref").inner_text().strip() if found.count() else None

    def enter(
        self,
        button: str,
        by_caption: dict[str, str],
        rows: int = 0,
        by_id: dict[str, str] | None = None,
    ) -> None:
        """Put values into the entry screen shown (its captioned controls, and *rows*
        expense rows filled by input id) and submit it with *button*; RuntimeError if the
        back office refuses it."""
        page = self.page
        if self.mode == "fast":
            with page.expect_navigation():
                page.evaluate(FILL, [by_caption, rows, by_id or {}, button])
        else:
            self.fill(by_caption, rows, by_id or {})
            with page.expect_navigation():
                page.get_by_role("button", name=button).click()
        messages = page.locator("#form-errors li").all_inner_texts()
        if messages:
            raise RuntimeError("the back office refused the claim: " + "; ".join(messages))

    def fill(self, by_caption: dict[str, str], rows: int, by_id: dict[str, str]) -> None:
        """Trusted mode: fill the controls one by one, adding expense rows as needed (the
        form shows one)."""
        page = self.page
        for caption, value in by_caption.items():
            if caption == "Currency":
                cell(page, caption, "select").select_option(label=value)
            else:
                control = "textarea" if caption == "Description" else "input"
                cell(page, caption, control).fill(value)
        for _ in range(1, rows):
            page.get_by_role("button", name="Add line").click()
        for id_, value in by_id.items():
            page.fill(f"#{id_}", value)


def day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def money(amount: str) -> str:
    return f"{Decimal(amount):,.2f}"
