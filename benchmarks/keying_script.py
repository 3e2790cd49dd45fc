"""The baseline for keying: a minimal hand-written Playwright script, what a developer would
write without rekey. It signs in once and, per claim, does what rekey's robot does on the
same screens: search by external ref, open the entry form, fill the captioned inputs, go
to step 2 (payout account, expense lines), accept the confirm dialog, save, read the
reference, and open the record view. No screen
maps, no read-back comparison, no screenshots, no error translation.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import TracebackType

from playwright.sync_api import Page, sync_playwright

INPUTS = {  # caption on the entry form → canonical value key
    "Policy number": "policy_number",
    "Claimant name": "claimant_name",
    "Date of loss": "date_of_loss",
    "Amount claimed": "amount_claimed",
    "Description": "loss_description",
    "External ref": "external_reference",
}


def cell(page: Page, caption: str, control: str = "input"):
    return page.locator(
        f"xpath=//td[normalize-space(.)='{caption}']/following-sibling::td[1]//{control}"
    ).first


class ScriptKeyer:
    def __init__(
        self, base_url: str, user: str, password: str, chromium: Path, timeout_ms: int = 15_000
    ):
        self.base_url, self.user, self.password, self.chromium = base_url, user, password, chromium
        self.timeout_ms = timeout_ms

    def __enter__(self) -> ScriptKeyer:
        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(
            executable_path=str(self.chromium), headless=True, args=["--no-sandbox"]
        )
        self.page = self._browser.new_page(base_url=self.base_url.rstrip("/") + "/")
        self.page.set_default_timeout(self.timeout_ms)
        self.page.goto("/login")
        cell(self.page, "User").fill(self.user)
        cell(self.page, "Password").fill(self.password)
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Sign in").click()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._browser.close()
        self._pw.stop()

    def key(self, values: dict[str, str]) -> str:
        """Key one claim (canonical values: ISO dates, plain decimals, ``expenses`` as a JSON
        list of {date, description, amount}); return its reference."""
        page = self.page
        page.goto("/claims")
        cell(page, "External ref").fill(values["external_reference"])
        with page.expect_navigation():
            page.get_by_role("button", name="Search").click()
        existing = page.locator("#t_results td.c-ext", has_text=values["external_reference"])
        if existing.count():
            return existing.locator("xpath=../td[1]").inner_text().strip()

        page.goto("/claims/new")  # step 1: policy details
        screen = dict(values)
        screen["date_of_loss"] = day(values["date_of_loss"])
        screen["amount_claimed"] = money(values["amount_claimed"])
        for caption, key in INPUTS.items():
            control = "textarea" if caption == "Description" else "input"
            cell(page, caption, control).fill(screen.get(key, ""))
        cell(page, "Currency", "select").select_option(label=values["currency"])
        with page.expect_navigation():
            page.get_by_role("button", name="Next").click()
        refused(page)

        cell(page, "Payout account").fill(values.get("bank_account", ""))  # step 2
        for number, line in enumerate(json.loads(values.get("expenses") or "[]"), 1):
            if number > 1:
                page.get_by_role("button", name="Add line").click()
            page.fill(f"#f_0101_{number}", day(line["date"]))
            page.fill(f"#f_0102_{number}", line["description"])
            page.fill(f"#f_0103_{number}", money(line["amount"]))
        page.once("dialog", lambda dialog: dialog.accept())
        with page.expect_navigation():
            page.get_by_role("button", name="Save").click()
        refused(page)
        reference = page.locator("#saved-ref").inner_text().strip()

        page.goto(f"/claims/{reference}")
        page.locator("#t_record").inner_text()
        return reference


def refused(page: Page) -> None:
    messages = page.locator("#form-errors li").all_inner_texts()
    if messages:
        raise RuntimeError("the back office refused the claim: " + "; ".join(messages))


def day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def money(amount: str) -> str:
    return f"{Decimal(amount):,.2f}"
