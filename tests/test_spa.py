"""Ledgerline, the single-page demo back office (samples/spa), in real headless Chromium: a
clerk signs in, opens screens from the Start menu, keys records found by their captions,
and sees the reference in a toast; shuffled forms, validation errors, chaos 500s, saves that
commit then fail, and ended sessions each behave as a robot must expect."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from connectors.backoffice.session import chromium
from rekey.settings import Settings
from samples.backoffice.chaos import Chaos
from samples.spa.server import running_spa

REFERENCE = re.compile(r"LL-\d{6}")


class FakeClock:
    """The sessions' clock, moved on by the test instead of waited for."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Spa:
    url: str
    user: str
    password: str
    chaos: Chaos
    clock: FakeClock

    def records(self, page: Page, **query: str) -> list[dict]:
        """The records API, asked with the page's own session."""
        answer = page.request.get(self.url + "/api/records", params=query)
        assert answer.status == 200, answer.text()
        return answer.json()["records"]


@contextmanager
def start_spa(folder: Path, *, chaos: Chaos | None = None, shuffle: bool = False) -> Iterator[Spa]:
    folder.mkdir(parents=True, exist_ok=True)
    user, password = "clerk", secrets.token_urlsafe(16)
    chaos, clock = chaos or Chaos(), FakeClock()
    with running_spa(
        folder / "spa.db", {user: password}, chaos=chaos, shuffle=shuffle, clock=clock
    ) as url:
        yield Spa(url, user, password, chaos, clock)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(Settings(_env_file=None)) as launched:  # type: ignore[call-arg]
        yield launched


@pytest.fixture(scope="module")
def spa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Spa]:
    with start_spa(tmp_path_factory.mktemp("spa")) as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies); fails the test on any uncaught script error."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    yield page
    context.close()
    assert script_errors == []


# --- how a robot finds things: by what a person reads --------------------------------------


def by_caption(page: Page, caption: str) -> Locator:
    """The input whose <span> caption reads *caption* (caption and input share a parent)."""
    caption_span = page.get_by_text(caption, exact=True)
    return caption_span.locator("xpath=..").locator("input, select, textarea")


def line_input(page: Page, row: int, header: str) -> Locator:
    """Service line *row*'s input under the column headed *header*."""
    headers = page.locator("table.lines thead th").all_inner_texts()
    rows = page.locator("table.lines tbody tr")
    return rows.nth(row).locator("td").nth(headers.index(header)).locator("input")


def sign_in(page: Page, spa: Spa, *, load: bool = True) -> None:
    if load:
        page.goto(spa.url + "/")
    by_caption(page, "User name").fill(spa.user)
    by_caption(page, "Password").fill(spa.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Start")).to_be_visible()


def open_screen(page: Page, title: str) -> None:
    page.get_by_role("button", name="Start").click()
    page.get_by_role("menuitem", name=title).click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()


def click_save(page: Page) -> dict | None:
    """Click Save and return the API's JSON answer (None if it had none)."""
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/records")
    ) as answer:
        page.get_by_role("button", name="Save").click()
    response = answer.value
    try:
        return {"status": response.status} | response.json()
    except Exception:
        return {"status": response.status}


ACCOUNT_TYPED = {
    "Full name": "Ada Lovelace",
    "Date of birth": "10/12/1985",
    "ID number": "533401372",
    "Address": "12 St James's Square\nLondon SW1Y 4JH",
    "Occupation": "Mathematician",
    "Employer": "Analytical Engines Ltd",
    "Tax residency": "gb",
}
ACCOUNT_CHOSEN = {
    "Nationality": "United Kingdom",
    "ID type": "Passport",
    "Income band": "50,000 - 100,000",
    "Source of funds": "Salary",
}


def fill_account(page: Page, ext_ref: str) -> None:
    for caption, value in ACCOUNT_TYPED.items():
        by_caption(page, caption).fill(value)
    for caption, option in ACCOUNT_CHOSEN.items():
        by_caption(page, caption).select_option(label=option)
    page.get_by_placeholder("Phone").fill("+44 20 7946 0958")
    page.get_by_placeholder("E-mail").fill("ada@example.org")
    by_caption(page, "Politically exposed person").check()
    page.get_by_label("External reference").fill(ext_ref)


def account_stored(ext_ref: str) -> dict[str, str]:
    return {
        "full_name": "Ada Lovelace",
        "date_of_birth": "1985-12-10",
        "nationality": "United Kingdom",
        "id_type": "Passport",
        "id_number": "533401372",
        "address": "12 St James's Square\nLondon SW1Y 4JH",
        "phone": "+44 20 7946 0958",
        "email": "ada@example.org",
        "occupation": "Mathematician",
        "employer": "Analytical Engines Ltd",
        "income_band": "50,000 - 100,000",
        "source_of_funds": "Salary",
        "tax_residency": "GB",
        "pep": "Yes",
        "external_ref": ext_ref,
    }


# --- the tests -------------------------------------------------------------------------------


def test_account_opening_is_saved_shown_and_found(spa: Spa, page: Page):
    sign_in(page, spa)
    open_screen(page, "Account opening")
    # the era's markup: no <label>, no ids, captions in spans
    assert page.locator("main label").count() == 0
    assert page.locator("main :is(input, select, textarea)[id]").count() == 0
    fill_account(page, "acct-001")
    answer = click_save(page)
    assert answer["status"] == 201 and REFERENCE.fullmatch(answer["reference"])
    reference = answer["reference"]
    toast = page.get_by_role("status")
    expect(toast).to_have_text(f"Saved {reference}")
    expect(toast).to_have_class("toast")
    # the form is drawn afresh and empty; the toast stays
    expect(by_caption(page, "Full name")).to_have_value("")
    expect(page.get_by_label("External reference")).to_have_value("")
    expect(by_caption(page, "Politically exposed person")).not_to_be_checked()
    expect(toast).to_be_visible()
    records = spa.records(page, screen="account", ext_ref="acct-001")
    assert len(records) == 1
    assert records[0]["reference"] == reference
    assert records[0]["values"] == account_stored("acct-001")
    assert records[0]["created_by"] == spa.user
    # the lookup screen finds it by external reference; the menu choice ends the toast
    open_screen(page, "Find record")
    expect(page.get_by_role("status")).to_have_count(0)
    page.get_by_placeholder("External reference").fill("acct-001")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("cell", name=reference)).to_be_visible()
    expect(page.locator("table.results tbody tr")).to_have_count(1)


def test_the_other_screens_save(spa: Spa, page: Page):
    sign_in(page, spa)
    # tax details: an EIN, no SSN; the city line has only a placeholder
    open_screen(page, "Tax details")
    by_caption(page, "Customer name").fill("Jane Roe")
    by_caption(page, "Tax classification").select_option(label="C corporation")
    by_caption(page, "Employer identification number").fill("12-3456789")
    by_caption(page, "Address (number, street, apt. or suite)").fill("1 Main St")
    page.get_by_placeholder("City, state, and ZIP code").fill("Springfield, IL 62704")
    page.get_by_label("External reference").fill("tax-001")
    answer = click_save(page)
    assert answer["status"] == 201, answer
    expect(page.get_by_role("status")).to_have_text(f"Saved {answer['reference']}")
    # identity document: ISO dates
    open_screen(page, "Identity document")
    by_caption(page, "Document number").fill("c01x00t47")
    by_caption(page, "Issuing state").fill("D")
    by_caption(page, "Surname").fill("Mustermann")
    page.get_by_placeholder("Given names").fill("Erika")
    by_caption(page, "Nationality").fill("D")
    by_caption(page, "Date of birth").fill("1983-08-12")
    by_caption(page, "Sex").select_option(label="Female")
    by_caption(page, "Date of expiry").fill("2031-08-01")
    page.get_by_label("External reference").fill("id-001")
    answer = click_save(page)
    assert answer["status"] == 201, answer
    expect(page.get_by_role("status")).to_have_text(f"Saved {answer['reference']}")
    # medical claim: two service lines, the second added with "Add line"
    open_screen(page, "Medical claim")
    by_caption(page, "Patient's name").fill("John Q Public")
    by_caption(page, "Insured's ID number").fill("XGH123456789")
    by_caption(page, "Patient's birth date").fill("04/07/1976")
    by_caption(page, "Total charge").fill("1,150.00")
    page.get_by_role("button", name="Add line").click()
    for row, (day, code, charge) in enumerate(
        [("02/03/2024", "99213", "150"), ("02/03/2024", "J1100", "1,000.00")]
    ):
        line_input(page, row, "Date of service").fill(day)
        line_input(page, row, "Procedure code").fill(code)
        line_input(page, row, "Charges").fill(charge)
    page.get_by_label("External reference").fill("med-001")
    answer = click_save(page)
    assert answer["status"] == 201, answer
    expect(page.get_by_role("status")).to_have_text(f"Saved {answer['reference']}")
    expect(page.locator("table.lines tbody tr")).to_have_count(1)

    tax, identity, medical = (
        spa.records(page, ext_ref=e)[0] for e in ("tax-001", "id-001", "med-001")
    )
    assert tax["values"]["ein"] == "12-3456789" and tax["values"]["ssn"] == ""
    assert tax["values"]["tax_classification"] == "C corporation"
    assert identity["values"] | {"external_ref": ""} == {
        "document_number": "C01X00T47",
        "issuing_state": "D",
        "surname": "Mustermann",
        "given_names": "Erika",
        "nationality": "D",
        "date_of_birth": "1983-08-12",
        "sex": "F",
        "date_of_expiry": "2031-08-01",
        "external_ref": "",
    }
    assert medical["values"]["total_charge"] == "1150.00"
    assert medical["values"]["date_of_birth"] == "1976-07-04"
    assert medical["lines"] == [
        {"date": "2024-03-02", "code": "99213", "charge": "150.00"},
        {"date": "2024-03-02", "code": "J1100", "charge": "1000.00"},
    ]


def test_shuffle_reorders_fields_on_every_render(tmp_path: Path, page: Page):
    with start_spa(tmp_path, shuffle=True) as spa:
        sign_in(page, spa)
        orders, names = [], []
        for _ in range(2):
            open_screen(page, "Account opening")
            orders.append(page.locator("main .form .cap").all_inner_texts())
            names.append(
                page.locator("main [name]").evaluate_all("nodes => nodes.map(n => n.name)")
            )
            open_screen(page, "Tax details")
        assert sorted(orders[0]) == sorted(orders[1])
        assert orders[0] != orders[1]
        assert not set(names[0]) & set(names[1])
        # still keyable by caption
        open_screen(page, "Account opening")
        fill_account(page, "shuffled-001")
        assert click_save(page)["status"] == 201
        assert spa.records(page, ext_ref="shuffled-001")[0]["values"] == account_stored(
            "shuffled-001"
        )


def test_validation_errors_are_shown_and_nothing_is_saved(spa: Spa, page: Page):
    sign_in(page, spa)
    open_screen(page, "Account opening")
    by_caption(page, "Full name").fill("Ada Lovelace")
    by_caption(page, "Date of birth").fill("1985-12-10")  # this screen wants DD/MM/YYYY
    page.get_by_placeholder("E-mail").fill("not-an-address")
    page.get_by_label("External reference").fill("invalid-001")
    answer = click_save(page)
    assert answer["status"] == 422
    errors = page.locator("main .errors")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text("Date of birth must be a valid date in the form DD/MM/YYYY")
    expect(errors).to_contain_text("Nationality is required")
    expect(errors).to_contain_text("E-mail is not an e-mail address")
    expect(by_caption(page, "Date of birth")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("status")).to_have_count(0)
    expect(by_caption(page, "Full name")).to_have_value("Ada Lovelace")  # kept to correct
    assert spa.records(page, ext_ref="invalid-001") == []
    # a W-9 carries an SSN or an EIN, not both
    open_screen(page, "Tax details")
    by_caption(page, "Customer name").fill("Jane Roe")
    by_caption(page, "Tax classification").select_option(label="Other")
    by_caption(page, "Social security number").fill("123-45-6789")
    by_caption(page, "Employer identification number").fill("12-3456789")
    by_caption(page, "Address (number, street, apt. or suite)").fill("1 Main St")
    page.get_by_placeholder("City, state, and ZIP code").fill("Springfield, IL 62704")
    page.get_by_label("External reference").fill("invalid-002")
    assert click_save(page)["status"] == 422
    expect(page.locator("main .errors")).to_contain_text("either a social security number")
    assert spa.records(page, ext_ref="invalid-002") == []


def test_a_chaos_500_saves_nothing_and_says_so(tmp_path: Path, page: Page):
    with start_spa(tmp_path) as spa:
        sign_in(page, spa)
        open_screen(page, "Account opening")
        fill_account(page, "chaos-001")
        spa.chaos.error_rate = 1.0
        assert click_save(page)["status"] == 500
        expect(page.get_by_role("alert").filter(has_text="HTTP 500")).to_be_visible()
        expect(page.get_by_role("status")).to_have_count(0)
        spa.chaos.error_rate = 0.0
        assert spa.records(page, ext_ref="chaos-001") == []
        # the values are still there: saving again works
        answer = click_save(page)
        assert answer["status"] == 201
        expect(page.get_by_role("status")).to_have_text(f"Saved {answer['reference']}")
        expect(page.get_by_role("alert").filter(has_text="HTTP 500")).to_have_count(0)
        assert len(spa.records(page, ext_ref="chaos-001")) == 1


def test_a_save_that_commits_then_fails_can_be_found(tmp_path: Path, page: Page):
    with start_spa(tmp_path) as spa:
        sign_in(page, spa)
        open_screen(page, "Account opening")
        fill_account(page, "commit-001")
        spa.chaos.commit_then_500 = 1.0
        assert click_save(page)["status"] == 500
        spa.chaos.commit_then_500 = 0.0
        expect(page.get_by_role("alert")).to_contain_text("may or may not have been saved")
        open_screen(page, "Find record")
        page.get_by_placeholder("External reference").fill("commit-001")
        page.get_by_role("button", name="Find").click()
        expect(page.locator("table.results tbody tr")).to_have_count(1)
        expect(page.get_by_role("cell", name=REFERENCE)).to_be_visible()


def test_an_ended_session_shows_sign_in_again(tmp_path: Path, page: Page):
    with start_spa(tmp_path, chaos=Chaos(session_ttl_s=60)) as spa:
        sign_in(page, spa)
        open_screen(page, "Account opening")
        fill_account(page, "expired-001")
        spa.clock.now += 61
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Your session has ended. Please sign in again.")).to_be_visible()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        sign_in(page, spa, load=False)
        assert spa.records(page, ext_ref="expired-001") == []


def test_the_api_wants_a_session_and_a_csrf_token(spa: Spa):
    with httpx.Client(base_url=spa.url) as client:
        assert client.get("/api/records").status_code == 401
        csrf = client.get("/api/session").json()["csrf"]
        sign_in_body = {"username": spa.user, "password": spa.password}
        assert client.post("/api/session", json=sign_in_body).status_code == 403
        wrong = {"username": spa.user, "password": "not-" + spa.password}
        assert (
            client.post("/api/session", json=wrong, headers={"X-CSRF-Token": csrf}).status_code
            == 401
        )
        answer = client.post("/api/session", json=sign_in_body, headers={"X-CSRF-Token": csrf})
        assert answer.status_code == 200 and answer.json()["user"] == spa.user
        save = client.post("/api/screens/account/records", json={"values": {}})
        assert save.status_code == 403  # the token changed at sign-in
        csrf = answer.json()["csrf"]
        save = client.post(
            "/api/screens/account/records", json={"values": {}}, headers={"X-CSRF-Token": csrf}
        )
        assert save.status_code == 422
        assert {"field": "full_name", "message": "Full name is required"} in save.json()["errors"]
