"""The review station in real headless Chromium: a reviewer signs in, opens a case from the
queue, corrects a field and sees its finding clear, approves, and sees the back office's
reference; values read from documents show as text and never run."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytesseract
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from rapidfuzz import fuzz

from connectors.backoffice.session import chromium
from rekey.models import CaseState
from rekey.pipeline import store_for
from rekey.review.server import running_review
from rekey.settings import PROJECT_ROOT, Settings
from tests.review_support import add_user, review_case

UNSURE_BOX = re.compile(r"^box unsure\s*$")
SCREENSHOT = PROJECT_ROOT / "docs" / "review-case.png"
SCRIPT = "<script>window.pwned=1</script>"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(Settings(_env_file=None)) as launched:  # type: ignore[call-arg]
        yield launched


def sign_in(page: Page, url: str, user: str, password: str) -> None:
    page.goto(url + "/")
    expect(page).to_have_url(url + "/login?next=/")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#queue")).to_be_visible()


def test_review_a_case_end_to_end(backoffice, browser: Browser, tmp_path: Path):
    settings = backoffice.settings_for(tmp_path, review_key_at_once=True)
    case = review_case(settings, tmp_path / "docs", 11, currency="GBPX")
    assert case.state is CaseState.review
    password = add_user(settings, "rita")
    with running_review(settings) as url:
        page = browser.new_page(viewport={"width": 1500, "height": 1000}, device_scale_factor=2)
        # 1. sign in
        sign_in(page, url, "rita", password)
        # 2. open the case from the queue
        row = page.locator(f"tr.queue-row[data-case='{case.id}']")
        expect(row).to_contain_text("format: The currency 'GBPX'")
        row.get_by_role("link", name=case.id).click()
        expect(page).to_have_url(f"{url}/cases/{case.id}")
        currency = page.locator("tr.field[data-field='currency']")
        expect(currency.locator(".finding[data-rule='format']")).to_be_visible()
        # selecting a box selects its field, and the reverse
        page.locator(".box[data-field='currency']").click()
        expect(currency).to_have_class("field selected")
        page.locator("tr.field[data-field='policy_number'] td").first.click()
        expect(page.locator(".box[data-field='policy_number']")).to_have_class("box selected")
        # no longer selected, and marked unsure: GBPX is none of the currencies listed
        expect(page.locator(".box[data-field='currency']")).to_have_class(UNSURE_BOX)
        page.locator(".box[data-field='currency']").click()
        page.evaluate("window.scrollTo(0, 0)")
        expect(currency).to_be_in_viewport()
        page.screenshot(path=str(SCREENSHOT), scale="css")
        # the page image comes with the identifiers covered; revealed (audited), they show,
        # and each box sits on its words
        assert_box_covered(page, "policy_number")
        page.get_by_role("button", name="Reveal identifiers").click()
        expect(page.locator("#revealed")).to_be_visible()
        assert_box_on_its_words(page, "policy_number", case.fields["policy_number"].value)
        # every page of the document is reachable
        page.get_by_role("link", name="2", exact=True).click()
        expect(page.locator("#page img")).to_have_attribute("src", f"/cases/{case.id}/pages/2")
        expect(page.locator(".box[data-field='expenses']")).to_be_visible()
        page.get_by_role("link", name="1", exact=True).click()
        # 3. correct the field; its finding clears
        currency = page.locator("tr.field[data-field='currency']")
        currency.get_by_role("textbox").fill("GBP")
        currency.get_by_role("button", name="Save").click()
        expect(page.locator("#notice")).to_contain_text("the rules ran again")
        currency = page.locator("tr.field[data-field='currency']")
        expect(currency.locator(".finding")).to_have_count(0)
        expect(currency.get_by_role("textbox")).to_have_value("GBP")
        expect(page.locator("#history")).to_contain_text("rita")
        expect(page.locator("#history")).to_contain_text("GBPX")
        # 4. approve
        page.locator("#approve").click()
        # 5. the case is keyed; the reference is shown with the evidence
        expect(page.locator("#notice")).to_contain_text("keyed into the back office")
        reference = page.locator("#reference").inner_text()
        evidence = page.locator("#receipt img").first
        expect(evidence).to_be_visible()
        # measured once the image has loaded: visible is not yet decoded
        assert evidence.evaluate("img => img.decode().then(() => img.naturalWidth)") > 100
        page.close()
    stored = store_for(settings).get(case.id)
    assert stored.state is CaseState.done and stored.receipt.reference == reference
    rows = backoffice.claims(external_ref=case.external_reference)
    assert [r["reference"] for r in rows] == [reference]
    assert rows[0]["currency"] == "GBP"
    assert SCREENSHOT.stat().st_size > 50_000


def under_box(page: Page, field: str, pad: float) -> Image.Image:
    """A screenshot of the page image itself (boxes hidden) where ``field``'s box lies,
    grown by ``pad`` CSS pixels, once the image is decoded."""
    page.locator("#page img").evaluate("img => img.decode()")
    box = page.locator(f".box[data-field='{field}']").bounding_box()
    clip = {
        "x": box["x"] - pad,
        "y": box["y"] - pad,
        "width": box["width"] + 2 * pad,
        "height": box["height"] + 2 * pad,
    }
    hide = "v => document.querySelectorAll('.box').forEach(b => b.style.visibility = v)"
    page.evaluate(hide, "hidden")
    image = Image.open(io.BytesIO(page.screenshot(clip=clip)))
    page.evaluate(hide, "visible")
    return image


def assert_box_on_its_words(page: Page, field: str, value: str) -> None:
    """The box drawn for ``field`` sits on the words of its value: Tesseract reads the value
    from a screenshot of the page image under exactly the box's area."""
    read = pytesseract.image_to_string(under_box(page, field, 3), config="--psm 7").strip()
    assert fuzz.ratio(value, read.replace(" ", "")) >= 80, (value, read)


def assert_box_covered(page: Page, field: str) -> None:
    """The page image is filled black where ``field``'s box lies."""
    darkest, lightest = under_box(page, field, 0).convert("L").getextrema()
    assert lightest <= 40, f"the page image shows {field} (grey levels {darkest}-{lightest})"


def test_values_from_documents_are_shown_as_text_and_never_run(browser: Browser, tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    case = review_case(settings, tmp_path / "docs", 12, claimant_name=SCRIPT)
    assert case.fields["claimant_name"].value == SCRIPT
    assert case.state is CaseState.review
    password = add_user(settings, "sam")
    with running_review(settings) as url:
        page = browser.new_page()
        sign_in(page, url, "sam", password)
        expect(page.locator(f"tr.queue-row[data-case='{case.id}']")).to_contain_text(SCRIPT)
        assert page.evaluate("typeof window.pwned") == "undefined"
        page.goto(f"{url}/cases/{case.id}")
        name = page.locator("tr.field[data-field='claimant_name']")
        expect(name.get_by_role("textbox")).to_have_value(SCRIPT)
        expect(name.locator(".finding[data-rule='claimant_matches_holder']")).to_contain_text(
            SCRIPT
        )
        assert page.evaluate("typeof window.pwned") == "undefined"
        assert page.locator("script").count() == 1  # the page's own, nothing from the case
        page.close()
        with httpx.Client(base_url=url) as client:
            raw = client.get(f"/cases/{case.id}", follow_redirects=True).text
        assert SCRIPT not in raw  # anonymous: the sign-in page, nothing of the case
