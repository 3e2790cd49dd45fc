"""Identifiers beyond the text, over real HTTP against a served station: a page image comes
with the boxes of the identifier fields filled opaque on the server, unless the session
revealed the case (audited) and may still reveal it; the audit page masks identifier values
in corrections and reasons until a supervisor reveals them, which each case's history
records."""

from __future__ import annotations

import re
from contextlib import closing
from pathlib import Path

import cv2
import numpy as np
import pytest

from rekey.models import Box, Case, CaseState
from rekey.pipeline import case_dir, store_for
from rekey.review.server import running_review
from rekey.review.shown import COVER_BGR, pixel_rect
from rekey.settings import Settings
from tests.review_support import add_user, post_form, review_case, signed_in
from validators.masking import mask

IDENTIFIERS = ("policy_number", "id_number", "bank_account")
IMAGE = re.compile(r'<img src="(/cases/[^"]+/pages/\d+[^"]*)"')


@pytest.fixture()
def station(tmp_path: Path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    case = review_case(settings, tmp_path / "docs", 11, currency="GBPX")
    assert case.state is CaseState.review
    passwords = {"rita": add_user(settings, "rita"), "sue": add_user(settings, "sue", "supervisor")}
    with running_review(settings) as url:
        yield settings, case, url, passwords


def pixels(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not an image"
    return image


def region(image: np.ndarray, box: Box) -> np.ndarray:
    height, width = image.shape[:2]
    x0, y0, x1, y1 = pixel_rect(box, width, height, pad=0)
    return image[y0:y1, x0:x1]


def boxes_on(case: Case, page: int, names) -> dict[str, Box]:
    return {
        n: case.fields[n].box
        for n in names
        if case.fields[n].box is not None and case.fields[n].page == page
    }


def image_url(html: str) -> str:
    found = IMAGE.search(html)
    assert found, "the case page shows no page image"
    return found.group(1).replace("&amp;", "&")


def covered(image: np.ndarray, box: Box) -> bool:
    return bool((region(image, box) == COVER_BGR).all())


def test_a_page_image_covers_identifiers_until_an_audited_reveal(station):
    settings, case, url, passwords = station
    page = 1
    original = pixels((case_dir(settings, case) / f"page-{page}.png").read_bytes())
    secret = boxes_on(case, page, IDENTIFIERS)
    others = boxes_on(case, page, ("claimant_name", "date_of_loss"))
    assert secret and others, "the claim's first page has identifier and other fields"
    assert not any(covered(original, box) for box in secret.values())
    with closing(signed_in(url, "rita", passwords["rita"])) as rita:
        plain_url = image_url(rita.get(f"/cases/{case.id}?page={page}").text)
        assert "reveal=" not in plain_url
        shown = rita.get(plain_url)
        assert shown.status_code == 200 and shown.headers["content-type"] == "image/png"
        assert "no-store" in shown.headers["cache-control"]
        masked = pixels(shown.content)
        assert masked.shape == original.shape
        assert all(covered(masked, box) for box in secret.values()), "identifier shown"
        for box in others.values():  # the rest of the page is the page
            assert np.array_equal(region(masked, box), region(original, box))
        # the reviewer reveals the case (audited): that page's image comes unmasked
        revealed = post_form(rita, f"/cases/{case.id}", f"/cases/{case.id}/reveal")
        assert revealed.status_code == 200
        pass_url = image_url(revealed.text)
        assert "reveal=" in pass_url
        full = pixels(rita.get(pass_url).content)
        assert np.array_equal(full, original)
        tampered = pass_url[:-3] + ("xyz" if not pass_url.endswith("xyz") else "abc")
        assert all(covered(pixels(rita.get(tampered).content), b) for b in secret.values())
        with closing(signed_in(url, "sue", passwords["sue"])) as sue:
            # the pass is the reviewer's: in another session it opens nothing
            assert all(covered(pixels(sue.get(pass_url).content), b) for b in secret.values())
        # once the case is finished a reviewer may no longer reveal it, pass or not
        post_form(rita, f"/cases/{case.id}", f"/cases/{case.id}/reject", reason="not ours")
        assert store_for(settings).get(case.id).state is CaseState.rejected
        assert all(covered(pixels(rita.get(pass_url).content), b) for b in secret.values())
    # a supervisor sees it covered too, until she reveals the finished case
    with closing(signed_in(url, "sue", passwords["sue"])) as sue:
        assert all(covered(pixels(sue.get(plain_url).content), b) for b in secret.values())
        revealed = post_form(sue, f"/cases/{case.id}", f"/cases/{case.id}/reveal")
        assert np.array_equal(pixels(sue.get(image_url(revealed.text)).content), original)
    reveals = [
        e.actor for e in store_for(settings).events(case.id) if e.action == "review:revealed"
    ]
    assert reveals == ["rita", "sue"]


def test_the_audit_page_masks_identifiers_until_a_supervisor_reveals_them(station):
    settings, case, url, passwords = station
    old = case.fields["policy_number"].value
    new = "POL-7777-123456"
    account = case.fields["bank_account"].value
    assert old and account
    with closing(signed_in(url, "rita", passwords["rita"])) as rita:
        page = f"/cases/{case.id}"
        fixed = post_form(rita, page, f"{page}/fields/policy_number", value=new)
        assert fixed.status_code == 303
        reason = f"policy {new} was {old}; account {account} unknown"
        assert post_form(rita, page, f"{page}/reject", reason=reason).status_code == 303
        assert rita.get("/audit").status_code == 403
        assert post_form(rita, "/", "/audit/reveal").status_code == 403
    with closing(signed_in(url, "sue", passwords["sue"])) as sue:
        audit = sue.get("/audit").text
        assert "review:corrected policy_number" in audit
        assert not [v for v in (old, new, account) if v in audit], "identifier on the audit page"
        assert mask(new) in audit and mask(old) in audit and mask(account) in audit
        assert 'id="reveal"' in audit
        revealed = post_form(sue, "/audit", "/audit/reveal")
        assert revealed.status_code == 200
        assert old in revealed.text and new in revealed.text and account in revealed.text
        assert 'id="revealed"' in revealed.text
        assert not [v for v in (old, new, account) if v in sue.get("/audit").text]
    trail = [e for e in store_for(settings).events(case.id) if e.action == "review:revealed"]
    assert [(e.actor, e.detail["on"], sorted(e.detail["fields"])) for e in trail] == [
        ("sue", "audit", sorted(IDENTIFIERS))
    ]
