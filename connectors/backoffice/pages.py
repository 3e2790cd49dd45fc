"""Page objects for the back office, built from screen maps (Playwright sync API).

One object per kind of screen (sign-in, search, entry step, record), its locators taken
from the screen map, its methods named for the business action. A :class:`Navigator` moves
between screens: by path, through the menu in the shell's menu frame, or by submitting a
form; it checks every document response of a navigation (frames included), loads a GET that
answered 5xx again a bounded number of times, and notices the sign-in page.

Playwright's auto-waiting does all the waiting; nothing here sleeps. These objects raise
rekey errors for what they can tell (refusals, lost sessions, HTTP errors); the session
translates the remaining Playwright errors at the boundary.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit

from playwright.sync_api import Dialog, ElementHandle, Frame, Page, Response
from playwright.sync_api import Locator as PWLocator
from pydantic import SecretStr

from connectors.backoffice import scripts
from connectors.backoffice.formats import squash
from connectors.backoffice.screenmap import (
    BackOfficeSpec,
    EntryScreen,
    InputMode,
    Lines,
    Locator,
    LoginScreen,
    LookupScreen,
    QueryScreen,
    RecordScreen,
    Screen,
    SearchScreen,
)
from rekey.errors import ApplicationError, BusinessRuleError, ConfigError

log = logging.getLogger(__name__)

GET_ATTEMPTS = 3  # a page that answered 5xx to a GET is loaded this many times in all
OK_CLIENT_ERRORS = (401, 422)  # sign-in refused, validation messages: shown on the page

Scope = Page | Frame


class SignInRefused(ConfigError):
    """The back office refused the credentials: a setting to fix, not a retry (lockouts)."""


class SessionLost(ApplicationError):
    """The back office sent the robot back to its sign-in page."""


class BackOfficeRefused(BusinessRuleError):
    """The back office showed validation messages instead of saving."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("back office refused the case: " + "; ".join(messages))


def xpath_literal(text: str) -> str:
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    parts = text.split('"')
    return "concat(" + ", '\"', ".join(f'"{p}"' for p in parts) + ")"


def locate(scope: Scope | PWLocator, spec: Locator) -> PWLocator:
    """The element a locator names; for a caption, the table cell right of the caption."""
    if spec.caption:
        caption = xpath_literal(spec.caption)
        return scope.locator(
            f"xpath=//td[normalize-space(.)={caption}]/following-sibling::td[1]"
        ).first
    if spec.role:
        return scope.get_by_role(spec.role, name=spec.name, exact=True)  # type: ignore[arg-type]
    return scope.locator(spec.css or "")


def control(scope: Scope, spec: Locator) -> PWLocator:
    """The input a locator names; for a caption, the input, select or textarea in its cell."""
    found = locate(scope, spec)
    return found.locator("input, select, textarea").first if spec.caption else found


def script_target(scope: Scope, spec: Locator, *, is_control: bool) -> dict | ElementHandle:
    """A locator as the in-page scripts take it; roles they cannot resolve become handles."""
    if spec.caption:
        return {"caption": spec.caption, "control": is_control}
    if spec.css:
        return {"css": spec.css}
    if spec.role in ("button", "link"):
        return {"role": spec.role, "name": spec.name}
    handle = control(scope, spec).element_handle()
    assert handle is not None
    return handle


# Screen actions: how a value is put into a control, by the format's ``action`` name and
# the input method (``trusted`` and ``type``; ``fast`` sets values in the page's own script).
ACTIONS: dict[str, Callable[[PWLocator, str, InputMode], None]] = {}


def action(name: str) -> Callable[[Callable], Callable]:
    def register(fn: Callable[[PWLocator, str, InputMode], None]) -> Callable:
        ACTIONS[name] = fn
        return fn

    return register


@action("fill")
def fill(target: PWLocator, text: str, mode: InputMode) -> None:
    if mode == "type":
        target.fill("")
        target.press_sequentially(text)
    else:
        target.fill(text)


@action("select")
def select_by_text(target: PWLocator, text: str, mode: InputMode) -> None:
    """Choose the option whose visible text is *text*; ValueError if there is none."""
    if not text:
        return
    labels = [squash(t) for t in target.locator("option").all_inner_texts()]
    if text not in labels:
        raise ValueError(f"{text!r} is not one of {', '.join(x for x in labels if x)}")
    target.select_option(label=text)


class Navigator:
    """Moves one browser page between screens and checks where each move ended."""

    def __init__(self, page: Page, shell: BackOfficeSpec, login_path: str):
        self.page, self.shell, self.login_path = page, shell, login_path
        self.scope: Frame = page.main_frame
        self.expected_dialog: str | None = None
        self.loading_s = 0.0  # seconds spent waiting for the back office's pages to load
        page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog: Dialog) -> None:
        """Accept the dialog the current screen map names; dismiss (and log) any other."""
        if self.expected_dialog is not None and dialog.message == self.expected_dialog:
            dialog.accept()
        else:
            log.warning("dismissing unexpected dialog %r", dialog.message)
            dialog.dismiss()

    @contextmanager
    def expecting_dialog(self, message: str | None) -> Iterator[None]:
        self.expected_dialog = message
        try:
            yield
        finally:
            self.expected_dialog = None

    def open(self, screen: Screen, what: str, path: str | None = None) -> Frame:
        """Reach *screen* by its path (or *path*), or through the menu; return its frame."""
        if path or screen.path:
            target = path or screen.path or ""
            self.load(lambda: self.page.goto(target), what)
            self.scope = self.page.main_frame
        elif screen.menu:
            self.load(lambda: self.page.goto(self.shell.home), what)
            menu = self.frame(self.shell.menu_frame, what)
            content = self.frame(self.shell.content_frame, what)
            for item in screen.menu:
                link = menu.get_by_role("link", name=item, exact=True)
                self.click_through(content, link, what)
            self.scope = content
        return self.scope

    def frame(self, name: str | None, what: str) -> Frame:
        if name is None:
            return self.page.main_frame
        frame = self.page.frame(name=name)
        if frame is None:
            self.check_signed_in(what)
            raise ApplicationError(f"{what}: the page has no frame {name!r}")
        return frame

    def submit(self, scope: Frame, act: Callable[[], Any], what: str) -> Any:
        """Run *act* (a click, a script that submits) and wait for *scope* to navigate."""
        result = None
        acting = 0.0

        def go() -> None:
            nonlocal result, acting
            with scope.expect_navigation():
                started = time.perf_counter()
                result = act()
                acting = time.perf_counter() - started

        self.load(go, what)
        self.loading_s -= acting  # the act itself was input, not waiting
        return result

    def click_through(self, scope: Frame, target: PWLocator, what: str) -> None:
        """Click *target* and wait for *scope* to navigate (the wait is :meth:`submit`'s,
        not the click's own)."""
        self.submit(scope, lambda: target.click(no_wait_after=True), what)

    def _watch(self, go: Callable[[], Any]) -> list[Response]:
        seen: list[Response] = []

        def on_response(response: Response) -> None:
            if response.request.resource_type == "document":
                seen.append(response)

        self.page.on("response", on_response)
        try:
            go()
        finally:
            self.page.remove_listener("response", on_response)
        return seen

    def load(self, go: Callable[[], Any], what: str, *, signed_in: bool = True) -> None:
        """Navigate with *go*; check every document response, load failed GETs again, and
        raise SessionLost if any frame shows the sign-in page."""
        started = time.perf_counter()
        try:
            self._load(go, what)
        finally:
            self.loading_s += time.perf_counter() - started
        if signed_in:
            self.check_signed_in(what)

    def _load(self, go: Callable[[], Any], what: str) -> None:
        seen = self._watch(go)
        for attempt in range(1, GET_ATTEMPTS + 1):
            bad = [
                r
                for r in seen
                if r.status >= 500 or (r.status >= 400 and r.status not in OK_CLIENT_ERRORS)
            ]
            if not bad:
                break
            for failed in bad:
                method = failed.request.method
                if failed.status < 500 or method != "GET" or attempt == GET_ATTEMPTS:
                    raise ApplicationError(
                        f"{what}: back office answered HTTP {failed.status} to {method} "
                        f"{urlsplit(failed.url).path}"
                    )
            again: list[Response] = []
            for failed in bad:  # every frame that failed, not just the last one
                log.info("%s: HTTP %s for %s, loading it again", what, failed.status, failed.url)
                frame, url = failed.frame, failed.url
                again += self._watch(lambda frame=frame, url=url: frame.goto(url))
            seen = again

    def check_signed_in(self, what: str) -> None:
        if any(urlsplit(f.url).path == self.login_path for f in self.page.frames):
            raise SessionLost(f"{what}: back office session lost (sent to sign-in page)")


class ScreenPage:
    def __init__(self, nav: Navigator, spec: Screen, mode: InputMode | None = None):
        self.nav, self.spec = nav, spec
        self.mode: InputMode = mode or spec.input

    @property
    def page(self) -> Page:
        return self.nav.page


class LoginPage(ScreenPage):
    spec: LoginScreen

    def login(self, user: str, password: SecretStr) -> None:
        """Sign in; SignInRefused if the back office shows an error or stays on sign-in.

        Always with real input events (the password is never put into a script), and the
        password stays a SecretStr until it is typed (so no traceback shows it)."""
        frame = self.nav.page.main_frame
        self.nav.load(lambda: self.page.goto(self.spec.path or "/"), "sign in", signed_in=False)
        control(frame, self.spec.user).fill(user)
        control(frame, self.spec.password).fill(password.get_secret_value())
        seen = self.nav._watch(lambda: self._click_and_wait(frame))
        # only the POST counts: once it has answered, the session cookie is set
        failed = [r for r in seen if r.status >= 500 and r.request.method == "POST"]
        if failed:
            raise ApplicationError(f"sign in: back office answered HTTP {failed[-1].status}")
        error = locate(frame, self.spec.error)
        if error.count() or urlsplit(frame.url).path == self.spec.path:
            shown = squash(error.first.inner_text()) if error.count() else "still on sign-in page"
            raise SignInRefused(f"sign in as {user!r} refused: {shown}")
        log.info("signed in to the back office as %s", user)

    def _click_and_wait(self, frame: Frame) -> None:
        with frame.expect_navigation():
            control(frame, self.spec.submit).click()


class QueryPage(ScreenPage):
    """A search form; its results are read as one dict of cell texts per table row."""

    spec: QueryScreen

    def results(self, query: str, cells: dict[str, Locator], what: str) -> list[dict[str, str]]:
        if self.mode == "fast" and self.spec.results_path:
            path = self.spec.results_path.format(query=quote(query))
            return self._rows(self.nav.open(self.spec, what, path=path), cells)
        scope = self.nav.open(self.spec, what)
        if self.mode == "fast":
            fields = [
                {
                    "name": "query",
                    "target": script_target(scope, self.spec.query, is_control=True),
                    "action": "fill",
                    "value": query,
                }
            ]
            submit = script_target(scope, self.spec.submit, is_control=False)
            self.nav.submit(scope, lambda: _run_fill(scope, fields, None, submit), what)
        else:
            ACTIONS["fill"](control(scope, self.spec.query), query, self.mode)
            self.nav.click_through(scope, control(scope, self.spec.submit), what)
        return self._rows(scope, cells)

    def _rows(self, scope: Frame, cells: dict[str, Locator]) -> list[dict[str, str]]:
        if self.spec.rows.css and not any(c.role for c in cells.values()):
            targets = {k: script_target(scope, c, is_control=False) for k, c in cells.items()}
            rows = scope.evaluate(scripts.ROWS, [self.spec.rows.css, targets])
        else:
            rows = [
                {k: locate(row, c).inner_text() for k, c in cells.items()}
                for row in locate(scope, self.spec.rows).all()
            ]
        return [{k: squash(v) for k, v in row.items()} for row in rows]


class SearchPage(QueryPage):
    spec: SearchScreen

    def find(self, external_ref: str, what: str = "search") -> str | None:
        """The reference of the record carrying *external_ref*, or None if there is none."""
        cells = {
            "reference": self.spec.reference,
            "external_reference": self.spec.external_reference,
        }
        rows = self.results(external_ref, cells, what)
        found = [r["reference"] for r in rows if r["external_reference"] == external_ref]
        if len(found) > 1:
            raise BusinessRuleError(
                f"external ref {external_ref} is on several records already: {', '.join(found)}"
            )
        return found[0] if found else None


class LookupPage(QueryPage):
    spec: LookupScreen

    def lookup(self, key: str, what: str = "look up") -> dict[str, str] | None:
        """The row whose key column equals *key* (ignoring spaces and case), or None."""
        wanted = normalise_key(key)
        rows = self.results(key, dict(self.spec.columns), what)
        found = [r for r in rows if normalise_key(r[self.spec.key]) == wanted]
        if len(found) > 1:
            raise BusinessRuleError(f"{what}: {key} is on several rows of the back office")
        return found[0] if found else None


def normalise_key(value: str) -> str:
    return "".join(value.split()).casefold()


def _run_fill(scope: Frame, fields: list[dict], lines: dict | None, submit: Any) -> None:
    """Run the fast fill script; raise for missing controls and impossible choices."""
    result = scope.evaluate(scripts.FILL, [fields, lines, submit])
    for name, labels in result["badOptions"].items():
        value = next(f["value"] for f in fields if f["name"] == name)
        shown = ", ".join(x for x in labels if x)
        raise BusinessRuleError(f"{name}: {value!r} is not one of {shown}")
    if result["missing"]:
        raise ApplicationError(
            "the screen does not show " + ", ".join(result["missing"]) + " (screen changed?)"
        )


class EntryPage(ScreenPage):
    """One step of an entry; the first step opens the screen, later ones continue."""

    spec: EntryScreen

    def enter(self, values: dict[str, Any], what: str) -> str | None:
        """Fill this step from canonical *values* and submit it. On the last step, return
        the new reference; BackOfficeRefused if the back office shows validation messages."""
        spec = self.spec
        scope = self.nav.open(spec, what) if (spec.path or spec.menu) else self.nav.scope
        texts = self._screen_texts(values)
        rows = self._line_texts(values)
        with self.nav.expecting_dialog(spec.dialog.accept if spec.dialog else None):
            if self.mode == "fast":
                self._fast(scope, texts, rows, what)
            else:
                self._trusted(scope, texts, rows, what)
        errors = script_target(scope, spec.errors, is_control=False)
        shows = script_target(scope, spec.reference, is_control=False) if spec.reference else None
        outcome = scope.evaluate(scripts.OUTCOME, [errors, shows])
        messages = [squash(m) for m in outcome["errors"]]
        if any(messages):
            raise BackOfficeRefused([m for m in messages if m])
        if spec.reference is None:
            return None
        reference = squash(outcome["reference"] or "")
        if not re.fullmatch(spec.reference_pattern, reference):
            raise ApplicationError(f"{what}: unexpected reference {reference!r}")
        return reference

    def _screen_texts(self, values: dict[str, Any]) -> dict[str, str]:
        texts = {}
        for name, field in self.spec.fields.items():
            try:
                texts[name] = field.format.to_screen(values.get(name))
            except ValueError as exc:
                raise BusinessRuleError(f"{name}: {exc}") from exc
        return texts

    def _line_texts(self, values: dict[str, Any]) -> list[dict[str, str]]:
        lines = self.spec.lines
        if lines is None:
            return []
        rows = []
        for number, item in enumerate(values.get(lines.field) or [], 1):
            row = {}
            for key, column in lines.columns.items():
                try:
                    row[key] = column.format.to_screen(item.get(key))
                except ValueError as exc:
                    raise BusinessRuleError(f"{lines.field}[{number}].{key}: {exc}") from exc
            rows.append(row)
        return rows

    def _fast(self, scope: Frame, texts: dict[str, str], rows: list[dict], what: str) -> None:
        spec = self.spec
        typed = [n for n in texts if spec.fields[n].input == "type"]
        fields = [
            {
                "name": name,
                "target": script_target(scope, spec.fields[name].locator, is_control=True),
                "action": spec.fields[name].format.action,
                "value": text,
            }
            for name, text in texts.items()
            if name not in typed
        ]
        lines = None
        if spec.lines is not None and rows:
            lines = {
                "field": spec.lines.field,
                "table": script_target(scope, spec.lines.table, is_control=False),
                "add": script_target(scope, spec.lines.add, is_control=False)
                if spec.lines.add
                else None,
                "headers": {k: c.header for k, c in spec.lines.columns.items()},
                "rows": rows,
            }
        submit = script_target(scope, spec.submit, is_control=False)
        if typed:  # keys with key handlers: set the rest, type these, then submit
            _run_fill(scope, fields, lines, None)
            for name in typed:
                ACTIONS["fill"](control(scope, spec.fields[name].locator), texts[name], "type")
            self.nav.click_through(scope, control(scope, spec.submit), what)
        else:
            self.nav.submit(scope, lambda: _run_fill(scope, fields, lines, submit), what)

    def _trusted(self, scope: Frame, texts: dict[str, str], rows: list[dict], what: str) -> None:
        spec = self.spec
        for name, text in texts.items():
            field = spec.fields[name]
            mode = field.input or self.mode
            try:
                ACTIONS[field.format.action](control(scope, field.locator), text, mode)
            except ValueError as exc:
                raise BusinessRuleError(f"{name}: {exc}") from exc
        if spec.lines is not None and rows:
            self._trusted_lines(scope, spec.lines, rows)
        self.nav.click_through(scope, control(scope, spec.submit), what)

    def _trusted_lines(self, scope: Frame, lines: Lines, rows: list[dict[str, str]]) -> None:
        table = locate(scope, lines.table)
        heads = [squash(h) for h in table.locator("thead th, thead td").all_inner_texts()]
        index = {}
        for key, column in lines.columns.items():
            if column.header not in heads:
                raise ApplicationError(f"the screen has no column {column.header!r}")
            index[key] = heads.index(column.header)
        body_rows = table.locator("tbody tr")
        have = body_rows.count()
        for _ in range(have, len(rows)):
            if lines.add is None:
                raise ApplicationError(f"{lines.field}: more items than rows and no add button")
            control(scope, lines.add).click()
        for r, row in enumerate(rows):
            cells = body_rows.nth(r).locator("td")
            for key, text in row.items():
                target = cells.nth(index[key]).locator("input, select, textarea").first
                ACTIONS["fill"](target, text, self.mode)


class RecordPage(ScreenPage):
    spec: RecordScreen

    def read(self, reference: str, what: str = "read record") -> dict[str, Any]:
        """The record's values, by case field name, in canonical form (ISO dates, decimals);
        line items, if the screen has them, as a list of dicts under the list field's name."""
        path = (self.spec.path or "").format(reference=quote(reference))
        scope = self.nav.open(self.spec, what, path=path)
        spec = self.spec
        fields = [
            {"name": n, "target": script_target(scope, f.locator, is_control=False)}
            for n, f in spec.fields.items()
        ]
        lines = None
        if spec.lines is not None:
            lines = {
                "field": spec.lines.field,
                "table": script_target(scope, spec.lines.table, is_control=False),
                "headers": {k: c.header for k, c in spec.lines.columns.items()},
            }
        shown = scope.evaluate(scripts.READ, [fields, lines])
        if shown["missing"]:
            raise ApplicationError(
                f"{what}: the screen does not show {', '.join(shown['missing'])}"
            )
        values: dict[str, Any] = {}
        for name, field in spec.fields.items():
            values[name] = _canonical(field.format, shown["fields"][name])
        if spec.lines is not None:
            values[spec.lines.field] = [
                {k: _canonical(c.format, row.get(k, "")) for k, c in spec.lines.columns.items()}
                for row in shown["lines"]
            ]
        return values


def _canonical(fmt: Any, text: str) -> str:
    try:
        return fmt.from_screen(text)
    except ValueError:
        return squash(text)
