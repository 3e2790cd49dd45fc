"""Page objects for the claim back office, built from screen maps (Playwright sync API).

One object per screen, locators taken from the screen map, methods named for the business
action. Playwright's auto-waiting does all the waiting; nothing here sleeps. These objects
raise rekey errors for what they can tell (refusals, lost sessions); the session translates
the remaining Playwright errors at the boundary.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar
from urllib.parse import quote, urlsplit

from playwright.sync_api import Dialog, Page, Response
from playwright.sync_api import Locator as PWLocator

from connectors.backoffice.formats import squash
from connectors.backoffice.screenmap import (
    EntryScreen,
    Locator,
    LoginScreen,
    RecordScreen,
    Screen,
    SearchScreen,
)
from rekey.errors import ApplicationError, BusinessRuleError, ConfigError

log = logging.getLogger(__name__)


class SignInRefused(ConfigError):
    """The back office refused the credentials: a setting to fix, not a retry (lockouts)."""


class SessionLost(ApplicationError):
    """The back office sent the robot back to its sign-in page."""


class BackOfficeRefused(BusinessRuleError):
    """The back office showed validation messages instead of saving."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("back office refused the claim: " + "; ".join(messages))


def xpath_literal(text: str) -> str:
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    parts = text.split('"')
    return "concat(" + ", '\"', ".join(f'"{p}"' for p in parts) + ")"


def locate(scope: Page | PWLocator, spec: Locator) -> PWLocator:
    """The element a locator names; for a caption, the table cell right of the caption."""
    if spec.caption:
        caption = xpath_literal(spec.caption)
        return scope.locator(f"xpath=//td[normalize-space(.)={caption}]/following-sibling::td[1]")
    if spec.role:
        return scope.get_by_role(spec.role, name=spec.name, exact=True)  # type: ignore[arg-type]
    return scope.locator(spec.css or "")


def control(page: Page, spec: Locator) -> PWLocator:
    """The input a locator names; for a caption, the input, select or textarea in its cell."""
    found = locate(page, spec)
    return found.locator("input, select, textarea").first if spec.caption else found


# Screen actions: how a value is put into a control, by the format's ``action`` name.
ACTIONS: dict[str, Callable[[PWLocator, str], None]] = {}


def action(name: str) -> Callable[[Callable[[PWLocator, str], None]], Callable]:
    def register(fn: Callable[[PWLocator, str], None]) -> Callable[[PWLocator, str], None]:
        ACTIONS[name] = fn
        return fn

    return register


@action("fill")
def fill(target: PWLocator, text: str) -> None:
    target.fill(text)


@action("select")
def select_by_text(target: PWLocator, text: str) -> None:
    """Choose the option whose visible text is *text*; ValueError if there is none."""
    if not text:
        return
    labels = [squash(t) for t in target.locator("option").all_inner_texts()]
    if text not in labels:
        raise ValueError(f"{text!r} is not one of {', '.join(x for x in labels if x)}")
    target.select_option(label=text)


SpecT = TypeVar("SpecT", bound=Screen)


class ScreenPage(Generic[SpecT]):
    """Base of the page objects: navigation and submission with status checks."""

    def __init__(self, page: Page, spec: SpecT, login_path: str):
        self.page, self.spec, self.login_path = page, spec, login_path

    def _on_login_page(self) -> bool:
        return urlsplit(self.page.url).path == self.login_path

    @staticmethod
    def _check_status(response: Response | None, what: str) -> None:
        if response is not None and response.status >= 500:
            raise ApplicationError(f"{what}: back office answered HTTP {response.status}")

    def _check(self, response: Response | None, what: str) -> None:
        self._check_status(response, what)
        if self._on_login_page():
            raise SessionLost(f"{what}: back office session lost (sent to sign-in page)")

    def _goto(self, path: str, what: str) -> Response | None:
        response = self.page.goto(path)
        self._check(response, what)
        return response

    def _submit(self, button: PWLocator, what: str) -> Response | None:
        with self.page.expect_navigation() as navigation:
            button.click()
        response = navigation.value
        self._check(response, what)
        return response


class LoginPage(ScreenPage[LoginScreen]):
    def login(self, user: str, password: str) -> None:
        """Sign in; SignInRefused if the back office shows an error or stays on sign-in."""
        self._check_status(self.page.goto(self.spec.path), "sign in")
        control(self.page, self.spec.user).fill(user)
        control(self.page, self.spec.password).fill(password)
        with self.page.expect_navigation() as navigation:
            control(self.page, self.spec.submit).click()
        self._check_status(navigation.value, "sign in")
        error = locate(self.page, self.spec.error)
        if error.count() or self._on_login_page():
            shown = squash(error.first.inner_text()) if error.count() else "still on sign-in page"
            raise SignInRefused(f"sign in as {user!r} refused: {shown}")
        log.info("signed in to the back office as %s", user)


class ClaimSearchPage(ScreenPage[SearchScreen]):
    def find_claim(self, external_ref: str) -> str | None:
        """The reference of the claim carrying *external_ref*, or None if there is none."""
        self._goto(self.spec.path, "search claims")
        control(self.page, self.spec.query).fill(external_ref)
        self._submit(control(self.page, self.spec.submit), "search claims")
        found = []
        for row in locate(self.page, self.spec.rows).all():
            if squash(locate(row, self.spec.external_reference).inner_text()) == external_ref:
                found.append(squash(locate(row, self.spec.reference).inner_text()))
        if len(found) > 1:
            raise BusinessRuleError(
                f"external ref {external_ref} is on several claims already: {', '.join(found)}"
            )
        return found[0] if found else None


class ClaimEntryPage(ScreenPage[EntryScreen]):
    def create_claim(self, values: dict[str, str | None]) -> str:
        """Fill the entry form from canonical *values*, save, and return the new reference."""
        self._goto(self.spec.path, "open claim entry")
        for name, field in self.spec.fields.items():
            try:
                text = field.format.to_screen(values.get(name))
                ACTIONS[field.format.action](control(self.page, field.locator), text)
            except ValueError as exc:
                raise BusinessRuleError(f"{name}: {exc}") from exc
        with self._answering_dialogs():
            self._submit(control(self.page, self.spec.save), "save claim")
        messages = [squash(m) for m in locate(self.page, self.spec.errors).all_inner_texts()]
        if any(messages):
            raise BackOfficeRefused([m for m in messages if m])
        reference = squash(locate(self.page, self.spec.reference).inner_text())
        if not re.fullmatch(self.spec.reference_pattern, reference):
            raise ApplicationError(f"save claim: unexpected reference {reference!r}")
        log.info("saved claim %s", reference)
        return reference

    @contextmanager
    def _answering_dialogs(self) -> Iterator[None]:
        """Accept the dialog the screen map names; dismiss (and log) any other."""
        expected = self.spec.dialog.accept if self.spec.dialog else None

        def on_dialog(dialog: Dialog) -> None:
            if dialog.message == expected:
                dialog.accept()
            else:
                log.warning("dismissing unexpected dialog %r", dialog.message)
                dialog.dismiss()

        self.page.on("dialog", on_dialog)
        try:
            yield
        finally:
            self.page.remove_listener("dialog", on_dialog)


class ClaimRecordPage(ScreenPage[RecordScreen]):
    def read_claim(self, reference: str) -> dict[str, str]:
        """The record's values, by case field name, in canonical form (ISO dates, decimals)."""
        response = self._goto(self.spec.path.format(reference=quote(reference)), "read claim")
        if response is not None and response.status == 404:
            raise ApplicationError(f"read claim: no record {reference} in the back office")
        values = {}
        for name, field in self.spec.fields.items():
            text = locate(self.page, field.locator).inner_text()
            try:
                values[name] = field.format.from_screen(text)
            except ValueError:
                values[name] = squash(text)
        return values
