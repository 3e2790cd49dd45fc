"""Keying a case into the back office: one browser session, many cases.

::

    with BackOfficeSession(settings) as office:      # launch Chromium, sign in (or reuse)
        receipt = office.key_case(case)               # find-or-create, read back, evidence

:func:`connectors.backoffice.lanes.key_case` does the same for a single case, in a session a
batch keeps open when there is one. The case's ``doc_type`` picks its route
(``backoffice.yaml``): the search, entry and record screens it goes through.

Safe to leave running:

- Sign-in happens in a browser context of its own, never traced or screenshotted; its
  cookies are handed to the keying context and kept (owner-only) in
  ``<data>/backoffice/state.json`` so the next session starts signed in. An expired session
  is signed back into.
- Idempotent: the case's external reference is searched for before anything is created, so
  a retry after a save that committed and then failed finds the record instead of keying it
  again. A route without a search keeps rekey's ledger instead (:mod:`.ledger`: what it
  guarantees, and what it does not); a route may have both (the ledger is asked first).
- Every save is read back and compared field by field, line items included: from the
  route's record screen after saving, or, where there is none, from the inputs just before
  the submit (a difference then stops the submit: ScreenMismatch).
- Submits that load no page (single-page apps) wait for the screen map's ``done`` signal.
- A failed case leaves a Playwright trace, ``evidence/trace-<timestamp>.zip``.
- The screenshots filed as evidence have the case's identifier fields (``identifiers``, the
  fields its template types ``identifier``) covered in ``MASK_COLOUR`` when taken: the
  inputs they are typed into and the record screen's values, as the screen maps locate them.

Playwright errors are translated here, at the boundary: timeouts and connection failures
become ApplicationError.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from pydantic import SecretStr

from connectors.backoffice import scripts
from connectors.backoffice.ledger import Ledger, SubmitUnconfirmed
from connectors.backoffice.pages import (
    BackOfficeRefused,
    EntryPage,
    LoginPage,
    LookupPage,
    Navigator,
    RecordPage,
    SearchPage,
    SessionLost,
    line_items,
)
from connectors.backoffice.retry import retrying
from connectors.backoffice.screenmap import Route, ScreenMaps, load_screens
from rekey.errors import ApplicationError, BusinessRuleError, ConfigError
from rekey.models import Case, Receipt
from rekey.settings import Settings
from validators.masking import mask

log = logging.getLogger(__name__)

LOGIN_ATTEMPTS = 5  # a sign-in that fails transiently is tried this many times in all
MASK_COLOUR = "#000000"  # what covers an identifier in a keying screenshot

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # one document after another in one tab: no back-forward cache to fill, and a
    # navigation keeps its renderer (about a fifth off each page load here)
    "--disable-features=BackForwardCache,RenderDocument,ProactivelySwapBrowsingInstance",
]


class ReadBackMismatch(BusinessRuleError):
    """The record read back differs from the case; ``fields`` names the differing fields.

    The message shows each value masked (it ends up in logs and on the case); the values
    themselves are in ``diffs``."""

    def __init__(self, reference: str, diffs: dict[str, tuple[str, str]]):
        self.reference, self.fields = reference, sorted(diffs)
        self.diffs = diffs
        detail = "; ".join(
            f"{k}: expected {mask(e)}, screen shows {mask(s)}" for k, (e, s) in diffs.items()
        )
        super().__init__(f"read-back of {reference} differs in {', '.join(self.fields)}: {detail}")


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Turn Playwright errors (timeouts, connection refused, browser gone) into ApplicationError."""
    try:
        yield
    except PlaywrightError as exc:
        first_line = (exc.message or str(exc)).strip().splitlines()[0]
        raise ApplicationError(f"{what}: {first_line}") from exc


def case_values(case: Case) -> dict[str, Any]:
    """What is keyed: the case's field values plus its external reference.

    A list field arrives as a JSON string: line items (``expenses``, a list of objects) or
    plain values (a CMS-1500's diagnosis codes), each kept as text. Text that only starts
    with a bracket stays text; a screen's ``lines`` refuse anything but line items
    (:func:`line_items`).
    """
    values: dict[str, Any] = {**case.values(), "external_reference": case.external_reference}
    for name, value in list(values.items()):
        if isinstance(value, str) and value.lstrip().startswith("["):
            try:
                items = json.loads(value)
            except json.JSONDecodeError:
                continue
            if isinstance(items, list):
                values[name] = [as_text(i) for i in items]
    return values


def as_text(item: Any) -> Any:
    if isinstance(item, dict):
        return {k: None if v is None else str(v) for k, v in item.items()}
    return "" if item is None else str(item)


def backoffice_password(settings: Settings) -> SecretStr:
    """The back-office password: from settings (environment), or from the Prefect Secret
    block named by ``backoffice_password_block`` (loaded only then, so Prefect is not
    needed otherwise). Never logged."""
    if settings.backoffice_password is not None:
        return settings.backoffice_password
    block = getattr(settings, "backoffice_password_block", None)
    if block:
        from prefect.blocks.system import Secret

        try:
            return SecretStr(str(Secret.load(block).get()))
        except (ValueError, RuntimeError) as exc:
            raise ConfigError(
                f"cannot load Prefect Secret block {block!r}: {exc}",
                key="REKEY_BACKOFFICE_PASSWORD_BLOCK",
            ) from exc
    raise ConfigError("no back-office password set", key="REKEY_BACKOFFICE_PASSWORD")


def state_path(settings: Settings) -> Path:
    """Where the signed-in browser state (session cookie) is kept between runs."""
    return settings.data_path / "backoffice" / "state.json"


_per_thread = threading.local()


def _start_playwright() -> Playwright:
    """The thread's Playwright driver, started on first use and shared by the sessions open
    in this thread (Playwright's sync API allows one driver per thread)."""
    if getattr(_per_thread, "users", 0) == 0:
        _per_thread.playwright = sync_playwright().start()
        _per_thread.users = 0
    _per_thread.users += 1
    return _per_thread.playwright


def _stop_playwright() -> None:
    _per_thread.users -= 1
    if _per_thread.users == 0:
        playwright, _per_thread.playwright = _per_thread.playwright, None
        playwright.stop()


def launch_chromium(playwright: Playwright, settings: Settings) -> Browser:
    """Chromium at ``settings.chromium_path`` with the connector's flags."""
    return playwright.chromium.launch(
        executable_path=str(settings.chromium_path), headless=settings.headless, args=CHROMIUM_ARGS
    )


@contextmanager
def chromium(settings: Settings) -> Iterator[Browser]:
    """A browser of its own on the thread's shared Playwright driver (tests, tools)."""
    playwright = _start_playwright()
    try:
        browser = launch_chromium(playwright, settings)
        try:
            yield browser
        finally:
            with suppress(Exception):
                browser.close()
    finally:
        _stop_playwright()


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only, whole or not at all. Each
    writer has a temporary file of its own: sessions in several threads save at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class BackOfficeSession:
    """A signed-in browser session on the back office; a context manager."""

    def __init__(self, settings: Settings, screens: ScreenMaps | None = None):
        self._password = backoffice_password(settings)
        if not Path(settings.chromium_path).is_file():
            raise ConfigError(f"no Chromium at {settings.chromium_path}", key="chromium_path")
        self.settings = settings
        self.screens = screens or load_screens(settings.screens_dir)
        self.mode = getattr(settings, "keying_mode", None)
        self.tracing = bool(getattr(settings, "keying_trace", True))
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._login_context: BrowserContext | None = None
        self.context: BrowserContext | None = None
        self.page: Page | None = None
        self._ledger: Ledger | None = None

    @property
    def ledger(self) -> Ledger:
        """rekey's ledger of keyed cases (opened on first use: only routes with
        ``ledger: true`` need the store)."""
        if self._ledger is None:
            self._ledger = Ledger(self.settings)
        return self._ledger

    def _navigator(self, page: Page) -> Navigator:
        login = self.screens.login
        login_path = None if login is None else (login.path or "/login")
        signin = None if login is None else login.shown_by
        return Navigator(page, self.screens.shell, login_path, signin)

    def __repr__(self) -> str:  # never the password
        return f"BackOfficeSession({self.settings.backoffice_url!r})"

    @property
    def connected(self) -> bool:
        """The browser is still there (it may have crashed or been killed)."""
        return self._browser is not None and self._browser.is_connected()

    def __enter__(self) -> BackOfficeSession:
        try:
            self._open()
            if not self._restored and self.screens.login is not None:
                self.login()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _new_context(self, storage_state: Path | None = None) -> BrowserContext:
        assert self._browser is not None
        s = self.settings
        context = self._browser.new_context(
            base_url=s.backoffice_url.rstrip("/") + "/",
            storage_state=str(storage_state) if storage_state else None,
        )
        context.set_default_timeout(s.browser_timeout_ms)
        context.set_default_navigation_timeout(s.browser_timeout_ms)
        return context

    def _open(self) -> None:
        s = self.settings
        state = state_path(s)
        with translated("start browser"):
            self._playwright = _start_playwright()
            self._browser = launch_chromium(self._playwright, s)
            try:
                self.context = self._new_context(state if state.is_file() else None)
                self._restored = state.is_file()
            except PlaywrightError:  # unreadable state: start signed out
                self.context, self._restored = self._new_context(), False
            if self.tracing:
                self.context.tracing.start(screenshots=False, snapshots=True)
            self.page = self.context.new_page()
        self.nav = self._navigator(self.page)

    def close(self) -> None:
        if self._browser is not None:
            with suppress(Exception):
                self._browser.close()
        if self._playwright is not None:
            with suppress(Exception):
                _stop_playwright()
        self._playwright = self._browser = self.page = None
        self.context = self._login_context = None

    # business actions ------------------------------------------------------------------

    def login(self) -> None:
        """Sign in in a separate, untraced context; hand its cookies to the keying context.

        A sign-in that fails transiently (HTTP 5xx, timeout) is tried again a few times."""
        if self.screens.login is None:
            raise SessionLost("the back office lost the session and has no sign-in screen")
        retrying(self._login_once, attempts=LOGIN_ATTEMPTS)

    def _login_once(self) -> None:
        assert self._browser is not None and self.context is not None
        assert self.screens.login is not None
        with translated("sign in"):
            if self._login_context is None:
                self._login_context = self._new_context()
            self._login_context.clear_cookies()
            page = self._login_context.pages[0] if self._login_context.pages else None
            page = page or self._login_context.new_page()
            nav = self._navigator(page)
            LoginPage(nav, self.screens.login).login(self.settings.backoffice_user, self._password)
            state = self._login_context.storage_state()
            write_private(state_path(self.settings), json.dumps(state))
            self.context.clear_cookies()
            self.context.add_cookies(state["cookies"])  # type: ignore[arg-type]

    def find(self, route: Route, external_ref: str) -> str | None:
        """The back-office reference of the record keyed for *external_ref*, by the route's
        search screen; None if there is none (or the route has no search)."""
        if route.search is None:
            return None
        with translated(f"search {route.doc_type}"):
            return SearchPage(self.nav, route.search, self.mode).find(
                external_ref, f"search {route.doc_type}"
            )

    def create(self, route: Route, values: dict[str, Any], case: Case | None = None) -> str:
        """Key a new record through the route's entry steps; its reference. On a ledger
        route the last step's submit is written as pending just before its click, and
        cleared if the back office refuses it."""
        reference = None
        ext_ref = case.external_reference if case is not None else ""
        pending = route.ledger and case is not None

        def submitting() -> None:
            self.ledger.submitting(
                ext_ref, screen=route.entry[-1].file, doc_type=route.doc_type, case_id=case.id
            )

        with translated(f"save {route.doc_type}"):
            for number, step in enumerate(route.entry, 1):
                what = f"save {route.doc_type} (step {number} of {len(route.entry)})"
                last = pending and number == len(route.entry)
                page = EntryPage(self.nav, step, self.mode)
                try:
                    reference = page.enter(
                        values,
                        what,
                        read_back=route.record is None,
                        submitting=submitting if last else None,
                    )
                except BackOfficeRefused:
                    if last:
                        self.ledger.not_saved(ext_ref)
                    raise
        assert reference is not None  # the last step has a reference (checked at load)
        log.info("saved %s %s", route.doc_type, reference)
        return reference

    def read(self, route: Route, reference: str) -> dict[str, Any]:
        assert route.record is not None
        with translated(f"read {route.doc_type}"):
            return RecordPage(self.nav, route.record, self.mode).read(
                reference, f"read {route.doc_type}"
            )

    def lookup(self, name: str, key: str) -> dict[str, str] | None:
        """One row of reference data (``lookups`` in backoffice.yaml), e.g. a policy."""
        screen = self.screens.lookup(name)

        def once() -> dict[str, str] | None:
            with translated(f"look up {name}"):
                return LookupPage(self.nav, screen, self.mode).lookup(key, f"look up {name}")

        try:
            return once()
        except SessionLost:
            self.login()
            return once()

    def screenshot(self, folder: Path, name: str, covered: Sequence[dict[str, Any]] = ()) -> str:
        """A PNG of the page in ``folder``; the elements the ``covered`` targets name (in
        any frame) are filled with ``MASK_COLOUR`` in the file itself."""
        assert self.page is not None
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        with translated("screenshot"):
            covers = self._covers(list(covered)) if covered else []
            self.page.screenshot(path=path, mask=covers, mask_color=MASK_COLOUR)
        return str(path)

    def _covers(self, targets: list[dict[str, Any]]) -> list[Locator]:
        """A locator per frame that shows any of ``targets``, for a screenshot's mask."""
        assert self.page is not None
        marked = f"[{scripts.COVER_ATTRIBUTE}]"
        return [
            frame.locator(marked)
            for frame in self.page.frames
            if frame.evaluate(scripts.COVER, targets)
        ]

    def key_case(
        self, case: Case, evidence_dir: Path | None = None, identifiers: Collection[str] = ()
    ) -> Receipt:
        """Find or create the case's record, read it back, and return the receipt.

        Idempotent: the record is looked up by the case's external reference first. A lost
        session is signed back into once, and the lookup repeated before any new save. When
        keying fails, a Playwright trace is left in the evidence folder. The screenshots
        have the ``identifiers`` fields covered.
        """
        route = self.screens.route(case.doc_type)
        folder = Path(evidence_dir or self.settings.cases_dir / case.id / "evidence")
        covered = identifier_targets(route, identifiers)
        self._trace_begin()
        try:
            try:
                receipt = self._key_once(case, route, folder, covered)
            except SessionLost as exc:
                log.warning("case %s: %s; signing in again", case.id, exc)
                self.login()
                receipt = self._key_once(case, route, folder, covered)
        except BaseException:
            self._trace_end(folder, keep=True)
            raise
        self._trace_end(folder, keep=False)
        return receipt

    def _key_once(
        self, case: Case, route: Route, folder: Path, covered: list[dict[str, Any]]
    ) -> Receipt:
        values = case_values(case)
        ext_ref = case.external_reference
        shots = []
        verified = False
        keyed = self.ledger.find(ext_ref) if route.ledger else None
        pending = self.ledger.pending(ext_ref) if route.ledger and keyed is None else None
        reference = keyed.reference if keyed is not None else self.find(route, ext_ref)
        if pending is not None and reference is None:
            if route.search is None:
                raise SubmitUnconfirmed(pending)
            log.info("case %s: its unconfirmed submit is not in the search; keying", case.id)
            self.ledger.not_saved(ext_ref)
        if keyed is not None:
            verified = keyed.verified
            log.info("case %s already keyed as %s (rekey's ledger)", case.id, reference)
        elif reference is not None:
            log.info("case %s already keyed as %s", case.id, reference)
        else:
            reference = self.create(route, values, case)
            # without a record screen the inputs were read back before the submit
            verified = route.record is None
            if route.ledger:  # at once: the submit is confirmed
                self.ledger.record(
                    ext_ref, reference, doc_type=route.doc_type, case_id=case.id, verified=verified
                )
                keyed = self.ledger.find(ext_ref)
            shots.append(self.screenshot(folder, f"saved-{reference}", covered))
        if route.record is not None:
            record = self.read(route, reference)
            shots.append(self.screenshot(folder, f"record-{reference}", covered))
            verify(reference, values, record, route)
            verified = True
        if route.ledger and keyed is None:  # found by the search: the ledger learns it
            self.ledger.record(
                ext_ref, reference, doc_type=route.doc_type, case_id=case.id, verified=verified
            )
        state = "keyed and verified" if verified else "keyed (not read back)"
        log.info("case %s %s as %s", case.id, state, reference)
        return Receipt(reference=reference, screenshots=shots, verified=verified)

    def _trace_begin(self) -> None:
        if self.tracing and self.context is not None:
            with suppress(PlaywrightError):
                self.context.tracing.start_chunk()

    def _trace_end(self, folder: Path, keep: bool) -> None:
        if not (self.tracing and self.context is not None):
            return
        with suppress(PlaywrightError, OSError):
            if keep:
                folder.mkdir(parents=True, exist_ok=True)
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
                self.context.tracing.stop_chunk(path=folder / f"trace-{stamp}.zip")
            else:
                self.context.tracing.stop_chunk()


def identifier_targets(route: Route, identifiers: Collection[str]) -> list[dict[str, Any]]:
    """Where the route's screens show the ``identifiers`` fields, as the in-page resolver
    takes them: the entry inputs they are typed into (alone or joined with other fields)
    and the record screen's values."""
    wanted = set(identifiers)
    targets = [
        field.locator.target(control=True)
        for step in route.entry
        for name, field in step.fields.items()
        if wanted & {name, *field.joins}
    ]
    if route.record is not None:
        targets += [
            field.locator.target(control=False)
            for name, field in route.record.fields.items()
            if wanted & {name, *field.joins}
        ]
    return targets


def verify(reference: str, values: dict[str, Any], record: dict[str, Any], route: Route) -> None:
    """Compare the record read back with the keyed values; ReadBackMismatch if they differ."""
    diffs: dict[str, tuple[str, str]] = {}
    spec = route.record
    assert spec is not None
    for name, field in spec.fields.items():
        if name not in values:
            continue
        try:
            expected = field.format.canonical(values[name])
        except ValueError as exc:
            raise BusinessRuleError(f"{name}: {exc}") from exc
        if expected != record.get(name, ""):
            diffs[name] = (expected, record.get(name, ""))
    if spec.lines is not None and spec.lines.field in values:
        lines, columns = spec.lines.field, spec.lines.columns
        expected_items = line_items(values, lines)
        shown_items = record.get(lines) or []
        if len(expected_items) != len(shown_items):
            diffs[f"{lines} (count)"] = (str(len(expected_items)), str(len(shown_items)))
        for number, (want, got) in enumerate(zip(expected_items, shown_items, strict=False), 1):
            for key, column in columns.items():
                try:
                    expected = column.format.canonical(want.get(key))
                except ValueError as exc:
                    raise BusinessRuleError(f"{lines}[{number}].{key}: {exc}") from exc
                if expected != got.get(key, ""):
                    diffs[f"{lines}[{number}].{key}"] = (expected, got.get(key, ""))
    if diffs:
        raise ReadBackMismatch(reference, diffs)
