"""Keying a case into the back office: one browser session, many cases.

::

    with BackOfficeSession(settings) as office:      # launch Chromium, sign in once
        receipt = office.key_case(case)               # find-or-create, read back, evidence

:func:`key_case` does the same for a single case. Playwright errors are translated here,
at the boundary: timeouts and connection failures become ApplicationError.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from connectors.backoffice.pages import (
    ClaimEntryPage,
    ClaimRecordPage,
    ClaimSearchPage,
    LoginPage,
    SessionLost,
)
from connectors.backoffice.screenmap import ScreenMaps, load_screens
from rekey.errors import ApplicationError, BusinessRuleError, ConfigError
from rekey.models import Case, Receipt
from rekey.settings import Settings

log = logging.getLogger(__name__)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


class ReadBackMismatch(BusinessRuleError):
    """The record read back differs from the case; ``fields`` names the differing fields."""

    def __init__(self, reference: str, diffs: dict[str, tuple[str, str]]):
        self.reference, self.fields = reference, sorted(diffs)
        detail = "; ".join(
            f"{k}: expected {e!r}, screen shows {s!r}" for k, (e, s) in diffs.items()
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


def case_values(case: Case) -> dict[str, str | None]:
    """What is keyed: the case's field values plus its external reference."""
    return {**case.values(), "external_reference": case.external_reference}


class BackOfficeSession:
    """A signed-in browser session on the back office; a context manager."""

    def __init__(self, settings: Settings, screens: ScreenMaps | None = None):
        if settings.backoffice_password is None:
            raise ConfigError("no back-office password set", key="REKEY_BACKOFFICE_PASSWORD")
        if not Path(settings.chromium_path).is_file():
            raise ConfigError(f"no Chromium at {settings.chromium_path}", key="chromium_path")
        self.settings = settings
        self.screens = screens or load_screens(settings.screens_dir)
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self.page: Page | None = None

    def __enter__(self) -> BackOfficeSession:
        try:
            self._open()
            self.login()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> None:
        s = self.settings
        with translated("start browser"):
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=str(s.chromium_path), headless=s.headless, args=CHROMIUM_ARGS
            )
            context = self._browser.new_context(base_url=s.backoffice_url.rstrip("/") + "/")
            context.set_default_timeout(s.browser_timeout_ms)
            context.set_default_navigation_timeout(s.browser_timeout_ms)
            self.page = context.new_page()
        login_path = self.screens.login.path
        self._login = LoginPage(self.page, self.screens.login, login_path)
        self._search = ClaimSearchPage(self.page, self.screens.search, login_path)
        self._entry = ClaimEntryPage(self.page, self.screens.entry, login_path)
        self._record = ClaimRecordPage(self.page, self.screens.record, login_path)

    def close(self) -> None:
        if self._browser is not None:
            with suppress(Exception):
                self._browser.close()
        if self._playwright is not None:
            with suppress(Exception):
                self._playwright.stop()
        self._playwright = self._browser = self.page = None

    # business actions ------------------------------------------------------------------

    def login(self) -> None:
        password = self.settings.backoffice_password
        assert password is not None
        with translated("sign in"):
            self._login.login(self.settings.backoffice_user, password.get_secret_value())

    def find_claim(self, external_ref: str) -> str | None:
        with translated("search claims"):
            return self._search.find_claim(external_ref)

    def create_claim(self, values: dict[str, str | None]) -> str:
        with translated("create claim"):
            return self._entry.create_claim(values)

    def read_claim(self, reference: str) -> dict[str, str]:
        with translated("read claim"):
            return self._record.read_claim(reference)

    def screenshot(self, folder: Path, name: str) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        with translated("screenshot"):
            self.page.screenshot(path=path, full_page=True)
        return str(path)

    def key_case(self, case: Case, evidence_dir: Path | None = None) -> Receipt:
        """Find or create the case's claim, read it back, and return the receipt.

        Idempotent: the claim is looked up by the case's external reference first. A lost
        session is signed back into once, and the lookup repeated before any new save.
        """
        folder = Path(evidence_dir or self.settings.cases_dir / case.id / "evidence")
        try:
            return self._key_once(case, folder)
        except SessionLost as exc:
            log.warning("case %s: %s; signing in again", case.id, exc)
            self.login()
            return self._key_once(case, folder)

    def _key_once(self, case: Case, folder: Path) -> Receipt:
        values = case_values(case)
        shots = []
        reference = self.find_claim(case.external_reference)
        if reference is None:
            reference = self.create_claim(values)
            shots.append(self.screenshot(folder, f"saved-{reference}"))
        else:
            log.info("case %s already keyed as %s", case.id, reference)
        record = self.read_claim(reference)
        shots.append(self.screenshot(folder, f"record-{reference}"))
        verify(reference, values, record, self.screens)
        log.info("case %s keyed and verified as %s", case.id, reference)
        return Receipt(reference=reference, screenshots=shots, verified=True)


def verify(
    reference: str, values: dict[str, str | None], record: dict[str, str], screens: ScreenMaps
) -> None:
    """Compare the record read back with the keyed values; ReadBackMismatch if they differ."""
    diffs: dict[str, tuple[str, str]] = {}
    for name, field in screens.record.fields.items():
        if name not in values:
            continue
        try:
            expected = field.format.canonical(values[name])
        except ValueError as exc:
            raise BusinessRuleError(f"{name}: {exc}") from exc
        if expected != record.get(name, ""):
            diffs[name] = (expected, record.get(name, ""))
    if diffs:
        raise ReadBackMismatch(reference, diffs)


def key_case(
    case: Case,
    settings: Settings,
    *,
    evidence_dir: Path | None = None,
    session: BackOfficeSession | None = None,
) -> Receipt:
    """Key one case into the back office and return its receipt.

    Pass an open *session* to reuse one browser and sign-in across a batch; otherwise a
    session is opened and closed around this case.
    """
    if session is not None:
        return session.key_case(case, evidence_dir)
    with BackOfficeSession(settings) as office:
        return office.key_case(case, evidence_dir)
