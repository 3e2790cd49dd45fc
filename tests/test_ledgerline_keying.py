"""Keying into Ledgerline (samples/spa), a single-page back office, from screen maps only
(samples/screens_ledgerline): submits that load no page, a search that is a screen of the
app, no record screen (read back before submitting), and rekey's own ledger. Real Chromium
against Ledgerline on a free 127.0.0.1 port."""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from collections.abc import Iterator
from itertools import cycle
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Response

from connectors.backoffice import BackOfficeRefused, BackOfficeSession, load_screens, retrying
from connectors.backoffice.pages import ScreenMismatch
from rekey.errors import ApplicationError, ConfigError
from rekey.models import Case, Document, Field, Receipt
from rekey.settings import Settings
from rekey.store import Store
from samples.backoffice.chaos import Chaos
from tests.ledgerline import SCREENS, AppClock, Ledgerline, running_ledgerline

MODES = ["trusted", "fast", "type"]


@pytest.fixture(scope="module")
def ledgerline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledgerline]:
    with running_ledgerline(tmp_path_factory.mktemp("ledgerline")) as running:
        yield running


def account_case(tag: str, **overrides: str) -> Case:
    values = {
        "full_name": "Jason Schultz",
        "date_of_birth": "1990-11-14",
        "nationality": "United States",
        "id_type": "Passport",
        "id_number": "X14922293",
        "address_line1": "934 Donovan Mountains",
        "address_line2": "20349 New Jerry",
        "phone": "774.345.1721x177",
        "email": "zlee@example.net",
        "occupation": "Engineer, technical sales",
        "employer": "Morris-Phillips",
        "income_band": "50,000 - 100,000",
        "source_of_funds": "Salary",
        "tax_residency": "US",
        "pep": "True",
    } | overrides
    digest = hashlib.sha256(f"ledgerline-{tag}".encode()).hexdigest()
    return Case(
        document=Document(original_name=f"{tag}.pdf", sha256=digest, size=1),
        doc_type="account_opening",
        fields={k: Field(name=k, value=v, confidence=1.0) for k, v in values.items()},
    )


def stored(case: Case) -> dict[str, str]:
    """What Ledgerline should hold for *case*."""
    v = case.values()
    return {
        "full_name": v["full_name"],
        "date_of_birth": v["date_of_birth"],
        "nationality": v["nationality"],
        "id_type": v["id_type"],
        "id_number": v["id_number"],
        "address": f"{v['address_line1']}\n{v['address_line2']}",
        "phone": v["phone"],
        "email": v["email"],
        "occupation": v["occupation"],
        "employer": v["employer"],
        "income_band": v["income_band"],
        "source_of_funds": v["source_of_funds"],
        "tax_residency": v["tax_residency"],
        "pep": "Yes" if v["pep"] == "True" else "No",
        "external_ref": case.external_reference,
    }


def copy_maps(tmp_path: Path) -> Path:
    folder = tmp_path / "screens"
    shutil.copytree(SCREENS, folder)
    return folder


# --- screen maps ----------------------------------------------------------------------------


def test_ledgerline_maps_load_and_claimbase_maps_keep_navigation():
    maps = load_screens(SCREENS)
    route = maps.route("account_opening")
    assert route.record is None and route.search is not None and route.ledger
    assert route.entry[0].done != "navigation"
    assert maps.login is not None and maps.login.shown_by is not None
    claimbase = load_screens(SCREENS.parent / "screens")
    assert all(s.done == "navigation" for r in claimbase.routes.values() for s in r.entry)


def test_route_without_search_or_ledger_is_refused(tmp_path):
    folder = copy_maps(tmp_path)
    main = folder / "backoffice.yaml"
    text = main.read_text().replace("search: find_record.yaml", "# no search")
    main.write_text(text.replace("ledger: true", "ledger: false"))
    with pytest.raises(ConfigError, match="ledger") as caught:
        load_screens(folder)
    assert "backoffice.yaml" in str(caught.value)


def test_signal_with_two_kinds_is_refused(tmp_path):
    folder = copy_maps(tmp_path)
    entry = folder / "account_entry.yaml"
    text = entry.read_text().replace(
        'done: {shown: {css: "#notices .toast"}}', "done: {text: Saved, cleared: true}"
    )
    entry.write_text(text)
    with pytest.raises(ConfigError, match="exactly one of shown, hidden, text or cleared"):
        load_screens(folder)


# --- keying ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_account_opening_keyed_in_every_input_mode_with_shuffle(ledgerline, tmp_path, mode):
    cases = [account_case(f"{mode}-{i}", full_name=f"Jason Schultz {i}") for i in range(2)]
    settings = ledgerline.settings_for(tmp_path, keying_mode=mode)
    with BackOfficeSession(settings) as office:
        receipts = [office.key_case(c, tmp_path / c.id) for c in cases]
    for case, receipt in zip(cases, receipts, strict=True):
        records = ledgerline.records(case.external_reference)
        assert len(records) == 1
        assert records[0]["reference"] == receipt.reference
        assert {k: records[0][k] for k in stored(case)} == stored(case)
        assert receipt.verified  # read back from the inputs before Save


def test_retry_after_commit_then_500_does_not_key_twice(tmp_path):
    chaos = Chaos(commit_then_500=1.0)
    case = account_case("commit-then-500")
    with running_ledgerline(tmp_path / "ll", chaos=chaos) as app:
        settings = app.settings_for(tmp_path)
        with BackOfficeSession(settings) as office:
            with pytest.raises(ApplicationError, match="HTTP 500"):
                office.key_case(case, tmp_path / "first")
            assert len(app.records(case.external_reference)) == 1  # committed all the same
            chaos.commit_then_500 = 0.0
            receipt = office.key_case(case, tmp_path / "retry")
        records = app.records(case.external_reference)
    assert [r["reference"] for r in records] == [receipt.reference]
    # found by Find record, and the ledger learnt it
    keyed = Store(settings.db_url).keyed(app.url.rstrip("/"), case.external_reference)
    assert keyed is not None and keyed.reference == receipt.reference


def test_route_without_search_relies_on_the_ledger(ledgerline, tmp_path):
    folder = copy_maps(tmp_path)
    main = folder / "backoffice.yaml"
    main.write_text(main.read_text().replace("search: find_record.yaml", "# no search"))
    assert load_screens(folder).route("account_opening").search is None
    settings = ledgerline.settings_for(tmp_path, screens_dir=folder)
    case = account_case("ledger-only")
    with BackOfficeSession(settings) as office:
        first = office.key_case(case, tmp_path / "first")
    with BackOfficeSession(settings) as office:  # a second run of the same case
        second = office.key_case(case, tmp_path / "second")
    assert second.reference == first.reference
    assert second.screenshots == []  # nothing keyed, nothing shown
    assert len(ledgerline.records(case.external_reference)) == 1
    keyed = Store(settings.db_url).keyed(ledgerline.url.rstrip("/"), case.external_reference)
    assert keyed is not None and keyed.verified and keyed.case_id == case.id


def test_inputs_differing_from_the_case_are_not_submitted(ledgerline, tmp_path):
    folder = copy_maps(tmp_path)
    entry = folder / "account_entry.yaml"
    # a map mistake: the employer keyed into the occupation box as well
    entry.write_text(
        entry.read_text().replace(
            "employer: {locator: {caption: Employer}}", "employer: {locator: {caption: Occupation}}"
        )
    )
    settings = ledgerline.settings_for(tmp_path, screens_dir=folder, keying_mode="trusted")
    case = account_case("mismatch")
    with BackOfficeSession(settings) as office, pytest.raises(ScreenMismatch) as caught:
        office.key_case(case, tmp_path / "evidence")
    assert "occupation" in caught.value.fields
    assert "account_entry.yaml" in str(caught.value)
    assert ledgerline.records(case.external_reference) == []


def test_submit_signal_that_never_shows_names_screen_and_step(ledgerline, tmp_path):
    folder = copy_maps(tmp_path)
    entry = folder / "account_entry.yaml"
    entry.write_text(
        entry.read_text().replace(
            'done: {shown: {css: "#notices .toast"}}', "done: {text: Never shown}"
        )
    )
    settings = ledgerline.settings_for(tmp_path, screens_dir=folder, browser_timeout_ms=4000)
    case = account_case("no-signal")
    with BackOfficeSession(settings) as office:
        with pytest.raises(ApplicationError) as caught:
            office.key_case(case, tmp_path / "first")
        message = str(caught.value)
        assert "account_entry.yaml" in message and "step 1 of 1" in message
        assert "Never shown" in message
        # the save went through: the retry finds it instead of keying it again
        again = office.key_case(case, tmp_path / "again")
    assert [r["reference"] for r in ledgerline.records(case.external_reference)] == [
        again.reference
    ]


TTL = 30  # seconds a Ledgerline session lasts in the chaos test, by the app's clock
# where a case's session expires (cycled over the cases): not at all, before the case, or
# as the robot's page sends this API request (the search, the entry form, the save)
NEVER, BEFORE = None, "before"
SEARCH, FORM = ("GET", "/api/records"), ("GET", "/api/screens/account")
SAVE = ("POST", "/api/screens/account/records")
EXPIRES = [BEFORE, FORM, SAVE, SEARCH]


def watch_answers(office: BackOfficeSession, seen: Counter) -> None:
    """Count the keying page's API answers by status (500: chaos, 401: session expired),
    and the saves answered as saved (201)."""

    def on_response(response: Response) -> None:
        path = urlsplit(response.url).path
        if path.startswith("/api/"):
            seen[response.status] += 1
        if response.request.method == "POST" and path.endswith("/records") and response.ok:
            seen["saved"] += 1

    assert office.context is not None
    office.context.on("response", on_response)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_chaos_keys_every_case_exactly_once(tmp_path, mode):
    """HTTP 500s, saves that commit and then answer 500, fields shuffled on every render,
    and sessions that expire (Ledgerline's clock, moved by the test) before a case or as the
    robot fetches the form, saves or searches: in every input method each case is keyed
    exactly once with every value right, and keying the cases again, by rekey's ledger or by
    the search alone, creates nothing."""
    clock = AppClock()
    chaos = Chaos(seed=11, error_rate=0.15, commit_then_500=0.3, shuffle=True, session_ttl_s=TTL)
    cases = [account_case(f"chaos-{mode}-{i}", full_name=f"Chaos Person {i}") for i in range(4)]
    seen: Counter = Counter()
    with running_ledgerline(tmp_path / "ll", chaos=chaos, clock=clock) as app:

        def key_all(settings: Settings, expires: list) -> dict[str, Receipt]:
            receipts = {}
            with BackOfficeSession(settings) as office:
                watch_answers(office, seen)
                assert office.page is not None
                clock.watch(office.page)
                for case, expiry in zip(cases, cycle(expires), strict=False):
                    if expiry == BEFORE:
                        clock.advance(TTL + 1)
                    elif expiry is not NEVER:
                        clock.advance_on(*expiry, TTL + 1)
                    receipts[case.id] = retrying(
                        lambda case=case: office.key_case(case, tmp_path / case.id), attempts=12
                    )
                    assert not clock.armed  # the session expired as planned
            return receipts

        first = app.settings_for(tmp_path / "first", keying_mode=mode)
        receipts = key_all(first, EXPIRES)
        for case in cases:
            records = app.records(case.external_reference)
            assert [r["reference"] for r in records] == [receipts[case.id].reference]
            assert {k: records[0][k] for k in stored(case)} == stored(case)
        assert seen[500] > 0 and seen[401] > 0, seen  # chaos did strike, sessions did expire
        # and some records were committed by saves that answered 500 (found by the search,
        # not keyed again); seeded chaos: with a change in the requests made, try another seed
        assert seen["saved"] < len(cases), seen

        # keying again creates nothing: found in rekey's ledger, or, in a fresh data folder,
        # by the search alone (sessions expiring before and during it)
        again = app.settings_for(tmp_path / "again", keying_mode=mode)
        for settings, expires in ((first, [NEVER]), (again, [BEFORE, SEARCH])):
            references = {k: r.reference for k, r in key_all(settings, expires).items()}
            assert references == {k: r.reference for k, r in receipts.items()}
        assert len(app.records()) == len(cases)


@pytest.mark.parametrize(
    "done", ["cleared", "{text: Saved LL-}"], ids=["form-cleared", "text-shown"]
)
def test_other_submit_signals(ledgerline, tmp_path, done):
    folder = copy_maps(tmp_path)
    entry = folder / "account_entry.yaml"
    entry.write_text(
        entry.read_text().replace('done: {shown: {css: "#notices .toast"}}', f"done: {done}")
    )
    settings = ledgerline.settings_for(tmp_path, screens_dir=folder)
    case = account_case(f"signal-{done}")
    with BackOfficeSession(settings) as office:
        receipt = office.key_case(case, tmp_path / "evidence")
    records = ledgerline.records(case.external_reference)
    assert [r["reference"] for r in records] == [receipt.reference]


def test_validation_messages_end_the_wait_as_a_refusal(ledgerline, tmp_path):
    settings = ledgerline.settings_for(tmp_path, keying_mode="trusted")
    case = account_case("refused", date_of_birth="2999-01-01")
    with BackOfficeSession(settings) as office, pytest.raises(BackOfficeRefused) as caught:
        office.key_case(case, tmp_path / "evidence")
    assert "cannot be in the future" in str(caught.value)
    assert ledgerline.records(case.external_reference) == []


def test_sessions_that_expire_between_and_during_cases_key_each_case_once(tmp_path):
    """The back office drops the session after 30 s (its clock, moved by the test): the
    robot sees the sign-in screen, signs in again, and keys every case exactly once."""
    now = [0.0]
    chaos = Chaos(session_ttl_s=30, shuffle=True)
    cases = [account_case(f"expiry-{i}", full_name=f"Expiry Person {i}") for i in range(3)]
    with running_ledgerline(tmp_path / "ll", chaos=chaos, clock=lambda: now[0]) as app:
        settings = app.settings_for(tmp_path, keying_mode="trusted")
        receipts = {}
        with BackOfficeSession(settings) as office:
            for case in cases:
                now[0] += 31  # the session signed in for the case before has expired
                receipts[case.id] = retrying(
                    lambda case=case: office.key_case(case, tmp_path / case.id), attempts=6
                )
        for case in cases:
            records = app.records(case.external_reference)
            assert [r["reference"] for r in records] == [receipts[case.id].reference]
            assert {k: records[0][k] for k in stored(case)} == stored(case)
