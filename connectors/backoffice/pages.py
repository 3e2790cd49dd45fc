"""Page objects for the back office, built from screen maps (Playwright sync API).

One object per kind of screen (sign-in, search, entry step, record), its locators taken
from the screen map, its methods named for the business action. A :class:`Navigator` moves
between screens: by path, through the menu in the shell's menu frame, or by submitting a
form; it checks every document response of a navigation (frames included), loads a GET that
answered 5xx again a bounded number of times, and notices the sign-in page.

Every element a map names is found by the one in-page resolver (``find`` in
:mod:`connectors.backoffice.scripts`), in every input method: ``fast`` runs it inside its
single fill script; ``trusted`` and ``type`` get the element from it (``wait_for_function``
with :data:`~connectors.backoffice.scripts.FIND`, an element handle) and act on the handle
with Playwright (fill, type, select_option, set_checked, click). So one map behaves the same
in all three.

Nothing here sleeps: navigations are awaited, and a target not on the screen yet is waited
for in the page (up to the browser timeout) before it counts as missing. What the map names
but the loaded screen lacks is the map's error, :class:`~rekey.errors.ConfigError` naming the
file, the key, the screen and the step (never retried); unless the page is the sign-in page
(SessionLost) or an error page (ApplicationError, retried). These objects raise rekey errors
for what they can tell (refusals, lost sessions, HTTP errors); the session translates the
remaining Playwright errors at the boundary.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from playwright.sync_api import Dialog, ElementHandle, Frame, Page, Response
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from pydantic import SecretStr

from connectors.backoffice import scripts
from connectors.backoffice.formats import squash
from connectors.backoffice.screenmap import (
    BackOfficeSpec,
    Done,
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
from rekey.errors import ApplicationError, BusinessRuleError, ConfigError, RekeyError
from validators.masking import mask

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


def _target(key: str, locator: Locator, *, control: bool) -> dict[str, Any]:
    """A locator as the in-page scripts take it, carrying its key in the screen map."""
    return locator.target(control=control) | {"key": key}


@contextmanager
def css_checked(screen: Screen, what: str) -> Iterator[None]:
    """Turn the resolver's "not a valid CSS selector" into the map's ConfigError."""
    try:
        yield
    except PlaywrightError as exc:
        message = exc.message or str(exc)
        if scripts.BAD_CSS not in message:
            raise
        css = message.split(scripts.BAD_CSS, 1)[1].splitlines()[0]
        keys = [k for k, loc in screen.locators().items() if loc.css == css] or ["css"]
        raise ConfigError(
            f"{what}: {css!r} is not a valid CSS selector; fix it in {screen.file}",
            file=screen.file,
            key=", ".join(keys),
        ) from exc


# Screen actions: how a value is put into a control, by the format's ``action`` name and
# the input method (``trusted`` and ``type``; ``fast`` sets values in the page's own script).
# The control is the element the in-page resolver found (scripts.FIND).
ACTIONS: dict[str, Callable[[ElementHandle, str, InputMode], None]] = {}


def action(name: str) -> Callable[[Callable], Callable]:
    def register(fn: Callable[[ElementHandle, str, InputMode], None]) -> Callable:
        ACTIONS[name] = fn
        return fn

    return register


@action("fill")
def fill(target: ElementHandle, text: str, mode: InputMode) -> None:
    if mode == "type":
        target.fill("")
        target.type(text)
    else:
        target.fill(text)


@action("select")
def select_by_text(target: ElementHandle, text: str, mode: InputMode) -> None:
    """Choose the option whose visible text is *text*; ValueError if there is none."""
    if not text:
        return
    labels = [squash(t) for t in target.evaluate(OPTION_TEXTS)]
    if text not in labels:
        raise ValueError(f"{text!r} is not one of {', '.join(x for x in labels if x)}")
    target.select_option(index=labels.index(text))


@action("check")
def check(target: ElementHandle, text: str, mode: InputMode) -> None:
    """Tick the checkbox for ``true``, clear it for ``false``; leave it for no value."""
    if text:
        target.set_checked(text == "true")


OPTION_TEXTS = "(el) => el.options ? [...el.options].map((o) => o.text) : []"
ERROR_PAGE = re.compile(
    r"\b(?:server error|error \d{3}|\d{3} error|service unavailable|temporarily unavailable"
    r"|not found|forbidden|bad gateway|gateway time-?out|maintenance|too many requests)\b"
    r"|^error\b",
    re.IGNORECASE,
)


def line_items(values: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """The case's line items for a screen's ``lines``; BusinessRuleError if the field holds
    anything else."""
    items = values.get(field) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BusinessRuleError(f"{field}: not a list of line items (objects): {items!r:.80}")
    return items


class Navigator:
    """Moves one browser page between screens and checks where each move ended."""

    def __init__(
        self,
        page: Page,
        shell: BackOfficeSpec,
        login_path: str | None,
        signin: Locator | None = None,
    ):
        self.page, self.shell, self.login_path = page, shell, login_path
        self.signin = signin  # what only the sign-in screen shows (single-page apps)
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

    def stops(self, signed_in: bool = True) -> dict[str, dict]:
        """What ends any wait early: the shell's outage banner, and (signed in) the sign-in
        screen of a back office whose sign-in screen has no URL of its own."""
        stops = {}
        if self.shell.outage is not None:
            stops["outage"] = self.shell.outage.target(control=False)
        if signed_in and self.signin is not None:
            stops["signin"] = self.signin.target(control=False)
        return stops

    def stopped(self, scope: Frame, stop: str, what: str) -> RekeyError:
        """The error for a wait that ended because *stop* showed."""
        if stop == "signin":
            return SessionLost(f"{what}: back office session lost (it shows its sign-in screen)")
        shown = scope.evaluate(scripts.STOP_SHOWN, self.stops())
        text = f": {shown['text']}" if shown and shown.get("text") else ""
        return ApplicationError(f"{what}: the back office shows a failure{text}")

    def open(self, screen: Screen, what: str, path: str | None = None) -> Frame:
        """Reach *screen* by its path (or *path*), or through the menu, then click what its
        map says to click (a Start button, a menu item); return its frame."""
        self._reach(screen, what, path)
        for i, locator in enumerate(screen.click):
            target = locator.target(control=False)
            self.element(self.scope, screen, f"click.{i}", target, what).click()
        return self.scope

    def _reach(self, screen: Screen, what: str, path: str | None = None) -> Frame:
        if path or screen.path:
            target = path or screen.path or ""
            self.load(lambda: self.page.goto(target), what)
            self.scope = self.page.main_frame
        elif screen.menu:
            self.load(lambda: self.page.goto(self.shell.home), what)
            menu = self.frame(self.shell.menu_frame, what)
            content = self.frame(self.shell.content_frame, what)
            for i, item in enumerate(screen.menu):
                named = {"role": "link", "name": item, "control": False}
                link = self.element(menu, screen, f"menu.{i}", named, what)
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

    def submit(
        self,
        scope: Frame,
        act: Callable[[], Any],
        what: str,
        done: Done = "navigation",
        screen: Screen | None = None,
        errors: dict | None = None,
    ) -> Any:
        """Run *act* (a click, a script that submits) and wait for what signals the end of
        the submit: *scope* navigating (``done: navigation``), or the screen's signal; then
        *errors* (validation messages) showing also ends the wait."""
        if done != "navigation":
            assert screen is not None and not isinstance(done, str)
            return self._signalled(scope, act, what, done, screen, errors)
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

    def _signalled(
        self,
        scope: Frame,
        act: Callable[[], Any],
        what: str,
        done: Any,
        screen: Screen,
        errors: dict | None,
        signed_in: bool = True,
    ) -> Any:
        """:meth:`submit` for a submit that loads no page: mark what the screen shows, act,
        and wait in the page for the signal (or validation messages, or a stop)."""
        signal = done.target()
        arg = {"signal": signal, "errors": errors, "stops": self.stops(signed_in)}
        self.evaluate(scope, scripts.MARK, signal, screen, what)
        result: Any = None
        outcome: Any = None
        started = time.perf_counter()

        def go() -> None:
            nonlocal result, outcome, started
            result = act()
            started = time.perf_counter()
            with css_checked(screen, what):
                outcome = scope.wait_for_function(scripts.SIGNAL, arg=arg).json_value()

        try:
            seen = self._watch(go, types=("document", "fetch", "xhr"))
        except PlaywrightTimeoutError:
            raise ApplicationError(
                f"{what}: no sign that the submit of {screen.file} was taken "
                f"({done.describe()}) within the browser timeout"
            ) from None
        finally:
            self.loading_s += time.perf_counter() - started
        if outcome in ("signin", "outage"):
            raise self.stopped(scope, outcome, what)
        if outcome != "done" and outcome != "errors":  # pragma: no cover - wait returns truthy
            raise ApplicationError(f"{what}: unexpected end of the wait: {outcome!r}")
        failed = [r for r in seen if r.status >= 500 and r.request.method != "GET"]
        if outcome == "errors" and failed:
            raise ApplicationError(
                f"{what}: back office answered HTTP {failed[-1].status} to "
                f"{failed[-1].request.method} {urlsplit(failed[-1].url).path}"
            )
        return result

    def click_through(
        self,
        scope: Frame,
        target: ElementHandle,
        what: str,
        done: Done = "navigation",
        screen: Screen | None = None,
        errors: dict | None = None,
    ) -> None:
        """Click *target* and wait for what ends the submit (the wait is :meth:`submit`'s,
        not the click's own)."""
        self.submit(scope, lambda: target.click(no_wait_after=True), what, done, screen, errors)

    def _watch(
        self, go: Callable[[], Any], types: tuple[str, ...] = ("document",)
    ) -> list[Response]:
        seen: list[Response] = []

        def on_response(response: Response) -> None:
            if response.request.resource_type in types:
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
        if self.login_path is None:  # no sign-in screen at all
            return
        if self.signin is not None:  # a single-page app: its sign-in screen has no URL
            stops = {"signin": self.signin.target(control=False)}
            if self.page.main_frame.evaluate(scripts.STOP_SHOWN, stops):
                raise SessionLost(f"{what}: back office session lost (it shows its sign-in)")
            return
        if any(urlsplit(f.url).path == self.login_path for f in self.page.frames):
            raise SessionLost(f"{what}: back office session lost (sent to sign-in page)")

    # finding what a screen map names (the in-page resolver, scripts.FIND) -----------------

    def evaluate(self, scope: Frame, script: str, arg: Any, screen: Screen, what: str) -> Any:
        with css_checked(screen, what):
            return scope.evaluate(script, arg)

    def element(
        self, scope: Frame, screen: Screen, key: str, target: dict, what: str, **kw: bool
    ) -> ElementHandle:
        """The element *target* names, waited for (the page may still be drawing it);
        ``not_shown`` if it does not appear within the timeout."""
        stops = self.stops(kw.get("signed_in", True))
        with css_checked(screen, what):
            try:
                if stops:
                    arg = {"t": target, "stops": stops}
                    found = scope.wait_for_function(scripts.FIND_OR_STOP, arg=arg)
                else:
                    found = scope.wait_for_function(scripts.FIND, arg=target)
            except PlaywrightTimeoutError:
                found = None
        element = found.as_element() if found is not None else None
        if element is None and found is not None:
            raise self.stopped(scope, found.json_value(), what)
        if element is None:
            raise self.not_shown(scope, screen, [key], what, **kw)
        return element

    def settle(
        self, scope: Frame, screen: Screen, targets: dict[str, dict], what: str, **kw: bool
    ) -> None:
        """Wait until every target ({key: target}) is on the screen; raise ``not_shown``
        naming those that do not appear within the timeout."""
        stops = self.stops(kw.get("signed_in", True))
        with css_checked(screen, what):
            try:
                if stops:
                    arg = {"targets": targets, "stops": stops}
                    shown = scope.wait_for_function(scripts.ALL_SHOWN_OR_STOP, arg=arg)
                    stop = shown.json_value()
                    if stop is not True:
                        raise self.stopped(scope, stop, what)
                else:
                    scope.wait_for_function(scripts.ALL_SHOWN, arg=targets)
                return
            except PlaywrightTimeoutError:
                missing = scope.evaluate(scripts.MISSING, targets)
        raise self.not_shown(scope, screen, missing or list(targets), what, **kw)

    def run(
        self, scope: Frame, screen: Screen, script: str, arg: Any, targets: dict, what: str
    ) -> dict:
        """Run a script that reports the ``missing`` keys of *targets*; if any, wait for them
        and run it once more; raise ``not_shown`` for what is still missing."""
        result = self.evaluate(scope, script, arg, screen, what)
        if result["missing"]:
            self.settle(scope, screen, targets, what)
            result = self.evaluate(scope, script, arg, screen, what)
        if result["missing"]:
            raise self.not_shown(scope, screen, result["missing"], what)
        return result

    def not_shown(
        self, scope: Frame, screen: Screen, keys: list[str], what: str, *, signed_in: bool = True
    ) -> RekeyError:
        """The error for a screen that does not show what its map names: SessionLost or
        ApplicationError when the page is the sign-in page or an error page (an outage, to
        retry), otherwise ConfigError naming the map file, the keys and the screen."""
        if signed_in:
            self.check_signed_in(what)
        at = urlsplit(scope.url).path or scope.url
        stop = scope.evaluate(scripts.STOP_SHOWN, self.stops(signed_in)) if self.stops() else None
        if stop is not None:
            return self.stopped(scope, stop["name"], what)
        outage = self.outage(scope)
        if outage:
            return ApplicationError(f"{what}: {outage} at {at} instead of {screen.file}")
        locators = screen.locators()
        named = [f"{k} ({locators[k].describe()})" if k in locators else k for k in keys]
        return ConfigError(
            f"{what}: the screen at {at} does not show {', '.join(named)}; "
            f"fix the locator in {screen.file} or check the screen",
            file=screen.file,
            key=", ".join(keys),
        )

    def outage(self, scope: Frame) -> str | None:
        """What makes the page in *scope* an error page rather than a screen, if anything."""
        if scope.url.startswith("chrome-error:"):
            return "the page did not load"
        page = scope.evaluate(scripts.PAGE)
        if page["empty"]:
            return "the page is empty"
        shown = " / ".join(x for x in (page["title"], page["heading"]) if x)
        if ERROR_PAGE.search(page["title"]) or ERROR_PAGE.search(page["heading"]):
            return f"the back office shows an error page ({shown})"
        return None


class ScreenPage:
    signed_in: ClassVar[bool] = True  # the robot is signed in on this screen

    def __init__(self, nav: Navigator, spec: Screen, mode: InputMode | None = None):
        self.nav, self.spec = nav, spec
        self.mode: InputMode = mode or spec.input

    @property
    def page(self) -> Page:
        return self.nav.page

    def element(
        self, scope: Frame, key: str, locator: Locator, what: str, *, control: bool = True
    ) -> ElementHandle:
        """The element the map's *key* names, found by the in-page resolver."""
        target = locator.target(control=control)
        return self.nav.element(scope, self.spec, key, target, what, signed_in=self.signed_in)

    def settle(self, scope: Frame, targets: dict[str, dict], what: str) -> None:
        self.nav.settle(scope, self.spec, targets, what, signed_in=self.signed_in)


class LoginPage(ScreenPage):
    spec: LoginScreen
    signed_in = False

    def login(self, user: str, password: SecretStr) -> None:
        """Sign in; SignInRefused if the back office shows an error or stays on sign-in.

        Always with real input events (the password is never put into a script), and the
        password stays a SecretStr until it is typed (so no traceback shows it)."""
        frame, what = self.nav.page.main_frame, "sign in"
        self.nav.load(lambda: self.page.goto(self.spec.path or "/"), what, signed_in=False)
        self.nav.scope = frame
        self.element(frame, "user", self.spec.user, what).fill(user)
        self.element(frame, "password", self.spec.password, what).fill(password.get_secret_value())
        submit = self.element(frame, "submit", self.spec.submit, what, control=False)
        error = self.spec.error.target(control=False)
        signalled = self.spec.done != "navigation"
        if signalled:
            before = self.nav.evaluate(frame, scripts.TEXT, error, self.spec, what)
            if before is not None and squash(before):  # e.g. "not available right now"
                raise ApplicationError(f"sign in: the sign-in screen shows {squash(before)!r}")
            seen = self.nav._watch(
                lambda: self.nav._signalled(
                    frame,
                    lambda: submit.click(no_wait_after=True),
                    what,
                    self.spec.done,
                    self.spec,
                    error,
                    signed_in=False,
                ),
                types=("document", "fetch", "xhr"),
            )
        else:
            seen = self.nav._watch(lambda: self._click_and_wait(frame, submit))
        # only the POST counts: once it has answered, the session cookie is set
        failed = [r for r in seen if r.status >= 500 and r.request.method == "POST"]
        if failed:
            raise ApplicationError(f"sign in: back office answered HTTP {failed[-1].status}")
        shown = self.nav.evaluate(frame, scripts.TEXT, error, self.spec, what)
        shown = shown if shown is None or squash(shown) or not signalled else None
        if shown is not None or (not signalled and urlsplit(frame.url).path == self.spec.path):
            reason = squash(shown) if shown is not None else "still on sign-in page"
            raise SignInRefused(f"sign in as {user!r} refused: {reason}")
        log.info("signed in to the back office as %s", user)

    def _click_and_wait(self, frame: Frame, submit: ElementHandle) -> None:
        with frame.expect_navigation():
            submit.click()


class QueryPage(ScreenPage):
    """A search form; its results are read as one dict of cell texts per table row."""

    spec: QueryScreen

    def results(self, query: str, cells: dict[str, Locator], what: str) -> list[dict[str, str]]:
        """One dict per result row: *cells* (keyed as in the screen map) read in the row."""
        if self.mode == "fast" and self.spec.results_path:
            path = self.spec.results_path.format(query=quote(query))
            return self._rows(self.nav.open(self.spec, what, path=path), cells, what)
        scope = self.nav.open(self.spec, what)
        if self.mode == "fast":
            self._fast_query(scope, query, what)
        else:
            box = self.element(scope, "query", self.spec.query, what)
            ACTIONS["fill"](box, query, self.mode)
            submit = self.element(scope, "submit", self.spec.submit, what, control=False)
            self.nav.click_through(scope, submit, what, self.spec.done, self.spec)
        return self._rows(scope, cells, what)

    def _fast_query(self, scope: Frame, query: str, what: str) -> None:
        box = _target("query", self.spec.query, control=True)
        fields = [
            {"name": "query", "key": "query", "target": box, "action": "fill", "value": query}
        ]
        submit = _target("submit", self.spec.submit, control=False)
        fill = FastFill(self, scope, what)
        self.nav.submit(scope, lambda: fill(fields, None, submit), what, self.spec.done, self.spec)

    def _rows(self, scope: Frame, cells: dict[str, Locator], what: str) -> list[dict[str, str]]:
        targets = {k: c.target(control=False) for k, c in cells.items()}
        rows = self.spec.rows.target(control=False)
        shown = self.nav.evaluate(scope, scripts.ROWS, [rows, targets], self.spec, what)
        if shown["missing"]:  # rows, but in none of them the cell the map names
            raise self.nav.not_shown(scope, self.spec, shown["missing"], what)
        return [{k: squash(v) for k, v in row.items()} for row in shown["rows"]]


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
        cells = {f"columns.{k}": c for k, c in self.spec.columns.items()}
        rows = [
            {k.removeprefix("columns."): v for k, v in row.items()}
            for row in self.results(key, cells, what)
        ]
        found = [r for r in rows if normalise_key(r[self.spec.key]) == wanted]
        if len(found) > 1:
            raise BusinessRuleError(f"{what}: {key} is on several rows of the back office")
        return found[0] if found else None


def normalise_key(value: str) -> str:
    return "".join(value.split()).casefold()


class FastFill:
    """The fast input method on one screen: one script sets every value, fires input and
    change events and submits (scripts.FILL); raises for missing controls (ConfigError, or
    ApplicationError on an error page), impossible choices and too many line items."""

    def __init__(self, screen: ScreenPage, scope: Frame, what: str):
        self.screen, self.scope, self.what = screen, scope, what

    def __call__(self, fields: list[dict], lines: dict | None, submit: dict | None) -> None:
        targets = {f["key"]: f["target"] for f in fields}
        for target in (submit, *(() if lines is None else (lines["table"], lines["add"]))):
            if target is not None:
                targets[target["key"]] = target
        page = self.screen
        args = [fields, lines, submit]
        result = page.nav.run(self.scope, page.spec, scripts.FILL, args, targets, self.what)
        for name, labels in result["badOptions"].items():
            value = next(f["value"] for f in fields if f["name"] == name)
            shown = ", ".join(x for x in labels if x)
            raise BusinessRuleError(f"{name}: {value!r} is not one of {shown}")
        if "rowsShown" in result:
            assert lines is not None
            raise too_many_items(page.spec, len(lines["rows"]), result["rowsShown"], self.what)


def too_many_items(spec: EntryScreen, items: int, rows: int, what: str) -> RekeyError:
    """More line items than the screen shows rows: without an add button in the map, the
    map's error; when the add button adds no more rows, the case's (review it)."""
    assert spec.lines is not None
    field = spec.lines.field
    if spec.lines.add is None:
        return ConfigError(
            f"{what}: the case has {items} {field}, the screen shows {rows} rows and the map "
            "names no add button",
            file=spec.file,
            key="lines.add",
        )
    return BusinessRuleError(
        f"{what}: the screen takes at most {rows} {field} (its add button adds no more rows); "
        f"the case has {items}"
    )


class ScreenMismatch(BusinessRuleError):
    """The inputs read back before submitting differ from the case: nothing was submitted.
    ``fields`` names the fields; the message shows the values masked."""

    def __init__(self, what: str, file: str, diffs: dict[str, tuple[str, str]]):
        self.file, self.fields, self.diffs = file, sorted(diffs), diffs
        detail = "; ".join(
            f"{k}: expected {mask(e)}, screen shows {mask(s)}" for k, (e, s) in diffs.items()
        )
        super().__init__(
            f"{what}: the screen of {file} shows other values than the case in "
            f"{', '.join(self.fields)} (not submitted): {detail}"
        )


class EntryPage(ScreenPage):
    """One step of an entry; the first step opens the screen, later ones continue."""

    spec: EntryScreen
    _before_submit: Callable[[], Any] | None = None
    _submitting: Callable[[], Any] | None = None

    def enter(
        self,
        values: dict[str, Any],
        what: str,
        *,
        read_back: bool = False,
        submitting: Callable[[], Any] | None = None,
    ) -> str | None:
        """Fill this step from canonical *values* and submit it. On the last step, return
        the new reference; BackOfficeRefused if the back office shows validation messages.

        With *read_back* (a route with no record screen) the inputs are read back just
        before the submit and compared with *values*: ScreenMismatch, not submitted, if
        they differ. *submitting* is called after that, just before the click (the
        ledger's pending line)."""
        spec = self.spec
        opens = spec.path or spec.menu or spec.click
        scope = self.nav.open(spec, what) if opens else self.nav.scope
        texts = self._screen_texts(values)
        rows = self._line_texts(values)
        self._before_submit = (lambda: self.check_keyed(scope, values, what)) if read_back else None
        self._submitting = submitting
        with self.nav.expecting_dialog(spec.dialog.accept if spec.dialog else None):
            if self.mode == "fast":
                self._fast(scope, texts, rows, what)
            else:
                self._trusted(scope, texts, rows, what)
        return self._outcome(scope, what)

    def _submit(self, scope: Frame, act: Callable[[], Any], what: str) -> None:
        errors = self.spec.errors.target(control=False)
        self.nav.submit(scope, act, what, self.spec.done, self.spec, errors)

    def check_keyed(self, scope: Frame, values: dict[str, Any], what: str) -> None:
        """Read the inputs back as keyed and compare them with the case *values*;
        ScreenMismatch naming the screen and the fields if they differ."""
        spec = self.spec
        fields = [
            {"name": n, "key": f"fields.{n}.locator", "target": self._field_target(n)}
            for n in spec.fields
            if n in values
        ]
        targets = {f["key"]: f["target"] for f in fields}
        shown = self.nav.run(scope, spec, scripts.READ, [fields, None], targets, what)
        diffs = {}
        for field in fields:
            name, fmt = field["name"], spec.fields[field["name"]].format
            try:
                expected = fmt.canonical(values[name])
            except ValueError as exc:
                raise BusinessRuleError(f"{name}: {exc}") from exc
            got = _canonical(fmt, shown["fields"][name])
            if expected != got:
                diffs[name] = (expected, got)
        if diffs:
            raise ScreenMismatch(what, spec.file, diffs)

    def _outcome(self, scope: Frame, what: str) -> str | None:
        """After submitting: validation messages (BackOfficeRefused) or the new reference."""
        spec = self.spec
        errors = spec.errors.target(control=False)
        shows = _target("reference", spec.reference, control=False) if spec.reference else None
        outcome = self.nav.evaluate(scope, scripts.OUTCOME, [errors, shows], spec, what)
        messages = [squash(m) for m in outcome["errors"]]
        if any(messages):
            raise BackOfficeRefused([m for m in messages if m])
        if shows is None:
            return None
        if outcome["reference"] is None:  # not drawn yet, or not there at all
            self.settle(scope, {"reference": shows}, what)
            outcome = self.nav.evaluate(scope, scripts.OUTCOME, [errors, shows], spec, what)
        reference = squash(outcome["reference"] or "")
        matched = re.fullmatch(spec.reference_pattern, reference)
        if not matched:
            raise ApplicationError(
                f"{what}: unexpected reference {reference!r} on the screen after {spec.file}"
            )
        return matched.group(1) if matched.re.groups else reference

    def _screen_texts(self, values: dict[str, Any]) -> dict[str, str]:
        texts = {}
        for name, field in self.spec.fields.items():
            try:
                texts[name] = field.separator.join(
                    text
                    for part in field.joins or [name]
                    if (text := field.format.to_screen(values.get(part)))
                )
            except ValueError as exc:
                raise BusinessRuleError(f"{name}: {exc}") from exc
        return texts

    def _line_texts(self, values: dict[str, Any]) -> list[dict[str, str]]:
        lines = self.spec.lines
        if lines is None:
            return []
        rows = []
        for number, item in enumerate(line_items(values, lines.field), 1):
            row = {}
            for key, column in lines.columns.items():
                try:
                    row[key] = column.format.to_screen(item.get(key))
                except ValueError as exc:
                    raise BusinessRuleError(f"{lines.field}[{number}].{key}: {exc}") from exc
            rows.append(row)
        return rows

    def _field_target(self, name: str) -> dict[str, Any]:
        return _target(f"fields.{name}.locator", self.spec.fields[name].locator, control=True)

    def _fast(self, scope: Frame, texts: dict[str, str], rows: list[dict], what: str) -> None:
        spec = self.spec
        typed = [n for n in texts if spec.fields[n].input == "type"]
        fields = [
            {
                "name": name,
                "key": f"fields.{name}.locator",
                "target": self._field_target(name),
                "action": spec.fields[name].format.action,
                "value": text,
            }
            for name, text in texts.items()
            if name not in typed
        ]
        lines = self._fast_lines(rows)
        submit = _target("submit", spec.submit, control=False)
        fill = FastFill(self, scope, what)
        if typed or self._before_submit is not None:
            # keys with key handlers, or a read-back: set the rest, type these, then submit
            fill(fields, lines, None)
            for name in typed:
                self._put(scope, name, texts[name], "type", what)
            button = self._submit_button(scope, what)
            self._ready_to_submit()
            self._submit(scope, lambda: button.click(no_wait_after=True), what)
        else:
            self._ready_to_submit()
            self._submit(scope, lambda: fill(fields, lines, submit), what)

    def _ready_to_submit(self) -> None:
        """Just before the click: the read-back (if any), then the pending line (if any)."""
        if self._before_submit is not None:
            self._before_submit()
        if self._submitting is not None:
            self._submitting()

    def _fast_lines(self, rows: list[dict]) -> dict | None:
        lines = self.spec.lines
        if lines is None or not rows:
            return None
        return {
            "field": lines.field,
            "table": _target("lines.table", lines.table, control=False),
            "add": _target("lines.add", lines.add, control=False) if lines.add else None,
            "headers": {k: c.header for k, c in lines.columns.items()},
            "rows": rows,
        }

    def _submit_button(self, scope: Frame, what: str) -> ElementHandle:
        return self.element(scope, "submit", self.spec.submit, what, control=False)

    @staticmethod
    def _controls(scope: Frame, targets: list[dict]) -> list[ElementHandle | None]:
        """The controls *targets* name, found in one round trip (None where not found)."""
        found = scope.evaluate_handle(scripts.FIND_ALL, targets).get_properties()
        return [found[str(i)].as_element() for i in range(len(targets))]

    def _put(
        self,
        scope: Frame,
        name: str,
        text: str,
        mode: InputMode,
        what: str,
        control: ElementHandle | None = None,
    ) -> None:
        """Key one field's screen text with Playwright into the control the map names
        (*control*: found already; found again if the page has drawn it afresh since)."""
        field = self.spec.fields[name]
        act = ACTIONS[field.format.action]
        try:
            if control is not None:
                try:
                    act(control, text, mode)
                    return
                except PlaywrightError as exc:
                    if "not attached" not in str(exc):
                        raise
            act(self.element(scope, f"fields.{name}.locator", field.locator, what), text, mode)
        except ValueError as exc:
            raise BusinessRuleError(f"{name}: {exc}") from exc

    def _trusted(self, scope: Frame, texts: dict[str, str], rows: list[dict], what: str) -> None:
        spec = self.spec
        targets = {f"fields.{n}.locator": self._field_target(n) for n in texts}
        targets["submit"] = spec.submit.target(control=False)
        self.settle(scope, targets, what)  # everything there before anything is keyed
        found = self._controls(scope, [targets[f"fields.{n}.locator"] for n in texts])
        for (name, text), control in zip(texts.items(), found, strict=True):
            self._put(scope, name, text, spec.fields[name].input or self.mode, what, control)
        if spec.lines is not None and rows:
            self._trusted_lines(scope, spec.lines, rows, what)
        button = self._submit_button(scope, what)
        self._ready_to_submit()
        self._submit(scope, lambda: button.click(no_wait_after=True), what)

    def _trusted_lines(
        self, scope: Frame, lines: Lines, rows: list[dict[str, str]], what: str
    ) -> None:
        table = self.element(scope, "lines.table", lines.table, what, control=False)
        headers = {k: c.header for k, c in lines.columns.items()}
        index = table.evaluate(scripts.COLUMNS, headers)
        absent = [f"lines.columns.{k}.header" for k, i in index.items() if i < 0]
        if absent:
            raise self.nav.not_shown(scope, self.spec, absent, what)
        self._add_rows(scope, table, len(rows), what)
        for r, row in enumerate(rows):
            for key, text in row.items():
                cell = table.evaluate_handle(scripts.CELL_CONTROL, [r, index[key]]).as_element()
                if cell is None:
                    raise self.nav.not_shown(scope, self.spec, [f"lines.columns.{key}"], what)
                ACTIONS["fill"](cell, text, self.mode)

    def _add_rows(self, scope: Frame, table: ElementHandle, items: int, what: str) -> None:
        """Click the add button until the table has a row per item."""
        shown = table.evaluate(scripts.BODY_ROWS)
        if shown >= items:
            return
        assert self.spec.lines is not None
        if self.spec.lines.add is None:
            raise too_many_items(self.spec, items, shown, what)
        add = self.element(scope, "lines.add", self.spec.lines.add, what, control=False)
        while shown < items:
            add.click()
            now = table.evaluate(scripts.BODY_ROWS)
            if now == shown:
                raise too_many_items(self.spec, items, shown, what)
            shown = now


class RecordPage(ScreenPage):
    spec: RecordScreen

    def read(self, reference: str, what: str = "read record") -> dict[str, Any]:
        """The record's values, by case field name, in canonical form (ISO dates, decimals);
        line items, if the screen has them, as a list of dicts under the list field's name."""
        path = (self.spec.path or "").format(reference=quote(reference))
        scope = self.nav.open(self.spec, what, path=path)
        spec = self.spec
        fields = [
            {"name": n, "key": k, "target": _target(k, f.locator, control=False)}
            for n, f in spec.fields.items()
            for k in [f"fields.{n}.locator"]
        ]
        targets = {f["key"]: f["target"] for f in fields}
        lines = None
        if spec.lines is not None:
            lines = {
                "field": spec.lines.field,
                "table": _target("lines.table", spec.lines.table, control=False),
                "headers": {k: c.header for k, c in spec.lines.columns.items()},
            }
            targets["lines.table"] = lines["table"]
        shown = self.nav.run(scope, spec, scripts.READ, [fields, lines], targets, what)
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
