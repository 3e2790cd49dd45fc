"""What the review station shows, in real headless Chromium: identifiers masked (values,
finding texts, history) until an audited reveal, which a reviewer may make only on a case
waiting for review and a supervisor on any; a blocked Approve button that looks and says
so; a claim's expenses edited as a table and saved back as the same JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from connectors.backoffice.session import chromium
from rekey.models import CaseState
from rekey.pipeline import store_for
from rekey.review.server import running_review
from rekey.settings import Settings
from tests.review_support import add_user, review_case
from validators.masking import mask

IDENTIFIERS = ("policy_number", "id_number", "bank_account")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(Settings(_env_file=None)) as launched:  # type: ignore[call-arg]
        yield launched


def sign_in(page: Page, url: str, user: str, password: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#queue")).to_be_visible()


def test_identifiers_are_masked_until_an_audited_reveal(browser: Browser, tmp_path: Path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    case = review_case(settings, tmp_path / "docs", 11, currency="GBPX")
    values = {name: case.fields[name].value for name in IDENTIFIERS}
    policy = values["policy_number"]
    assert case.state is CaseState.review and all(values.values())
    assert any(policy in f.message for f in case.findings)  # over_coverage names the policy
    rita, sue = add_user(settings, "rita"), add_user(settings, "sue", "supervisor")
    with running_review(settings) as url:
        page = browser.new_page()
        sign_in(page, url, "rita", rita)
        page.goto(f"{url}/cases/{case.id}")
        row = page.locator("tr.field[data-field='policy_number']")
        expect(row.locator(".value.masked")).to_have_text(mask(policy))
        expect(row.get_by_role("textbox")).to_have_count(0)  # a mask is never saved back
        coverage = row.locator(".finding[data-rule='over_coverage']")
        expect(coverage).to_contain_text(mask(policy))
        html = page.content()
        assert not [v for v in values.values() if v in html]
        # revealing is recorded, then shows everything
        page.get_by_role("button", name="Reveal identifiers").click()
        expect(page.locator("#revealed")).to_be_visible()
        expect(row.get_by_role("textbox")).to_have_value(policy)
        expect(coverage).to_contain_text(f"policy {policy} covers")
        expect(page.locator("#history")).to_contain_text("review:revealed")
        reveals = [e for e in store_for(settings).events(case.id) if e.action == "review:revealed"]
        assert [(e.actor, sorted(e.detail["fields"])) for e in reveals] == [
            ("rita", sorted(IDENTIFIERS))
        ]
        # once finished, a reviewer sees it masked and may not reveal it
        page.goto(f"{url}/cases/{case.id}")
        page.get_by_label("Reason").fill(f"policy {policy} is not ours")
        page.get_by_role("button", name="Reject").click()
        expect(page.locator("#state")).to_have_text("rejected")
        expect(page.locator("p.error")).to_contain_text(f"policy {mask(policy)} is not ours")
        expect(page.get_by_role("button", name="Reveal identifiers")).to_have_count(0)
        assert not [v for v in values.values() if v in page.content()]
        # the reveal form a supervisor gets, posted by hand: refused, and nothing shown
        post = """csrf => { const form = document.createElement("form");
            form.method = "post"; form.action = location.pathname + "/reveal";
            const token = document.createElement("input"); token.name = "csrf";
            token.value = csrf; form.append(token); document.body.append(form); form.submit(); }"""
        with page.expect_response(lambda r: r.url.endswith("/reveal")) as answer:
            page.evaluate(post, page.locator("input[name=csrf]").first.input_value())
        assert answer.value.status == 403
        expect(page.locator("p.error")).to_contain_text("shown to supervisors only")
        assert not [v for v in values.values() if v in page.content()]
        page.close()
        # a supervisor may reveal a finished case
        page = browser.new_page()
        sign_in(page, url, "sue", sue)
        page.goto(f"{url}/cases/{case.id}")
        expect(page.locator("tr.field[data-field='bank_account'] .value")).to_have_text(
            mask(values["bank_account"])
        )
        page.get_by_role("button", name="Reveal identifiers").click()
        expect(page.locator("tr.field[data-field='bank_account'] .value")).to_have_text(
            values["bank_account"]
        )
        page.close()
    actors = [e.actor for e in store_for(settings).events(case.id) if e.action == "review:revealed"]
    assert actors == ["rita", "sue"]


def test_a_blocked_approve_button_looks_blocked_and_says_why(browser: Browser, tmp_path: Path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    case = review_case(settings, tmp_path / "docs", 11, currency="GBPX")
    password = add_user(settings, "rita")
    with running_review(settings) as url:
        page = browser.new_page()
        sign_in(page, url, "rita", password)
        page.goto(f"{url}/cases/{case.id}")
        approve = page.locator("#approve")
        expect(approve).to_be_disabled()
        why = page.locator("#approve-why")
        expect(why).to_contain_text("Approval is blocked")
        expect(approve).to_have_attribute("aria-describedby", "approve-why")
        blocked = approve.evaluate(
            "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).cursor]"
        )
        page.locator("tr.field[data-field='currency']").get_by_role("textbox").fill("GBP")
        page.locator("tr.field[data-field='currency']").get_by_role("button", name="Save").click()
        expect(page.locator("#notice")).to_be_visible()
        expect(approve).to_be_enabled()
        expect(page.locator("#approve-why")).to_have_count(0)
        active = approve.evaluate(
            "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).cursor]"
        )
        assert blocked[1] == "not-allowed" and active[1] == "pointer"
        assert blocked[0] != active[0]
        page.close()


def test_line_items_are_edited_as_a_table_and_saved_as_json(browser: Browser, tmp_path: Path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    case = review_case(settings, tmp_path / "docs", 11, currency="GBPX")
    items = json.loads(case.fields["expenses"].value)
    assert len(items) > 2 and list(items[0]) == ["date", "description", "amount"]
    password = add_user(settings, "rita")
    with running_review(settings) as url:
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        sign_in(page, url, "rita", password)
        page.goto(f"{url}/cases/{case.id}")
        row = page.locator("tr.field[data-field='expenses']")
        table = row.locator("table.line-items")
        expect(table.locator("tbody tr")).to_have_count(len(items))
        expect(table.locator("thead")).to_contain_text("description")
        expect(row.get_by_label("expenses 1 amount")).to_have_value(items[0]["amount"])
        row.get_by_label("expenses 1 amount").fill("500.00")
        table.locator("tbody tr").last.get_by_role("button").click()  # remove the last line
        row.get_by_role("button", name="Add a line").click()
        last = len(items)  # the new line takes the removed one's place
        row.get_by_label(f"expenses {last} date").fill("2026-10-30")
        row.get_by_label(f"expenses {last} description").fill('Parking, "short stay"')
        row.get_by_label(f"expenses {last} amount").fill("12.50")
        row.get_by_role("button", name="Save").click()
        expect(page.locator("#notice")).to_contain_text("the rules ran again")
        page.close()
    stored = json.loads(store_for(settings).get(case.id).fields["expenses"].value)
    expected = [{**items[0], "amount": "500.00"}, *items[1:-1]]
    expected.append(
        {"date": "2026-10-30", "description": 'Parking, "short stay"', "amount": "12.50"}
    )
    assert stored == expected
