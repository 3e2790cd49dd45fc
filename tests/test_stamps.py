"""Rubber stamps: found by their tilted frame, lifted off, and the print beneath kept."""

from __future__ import annotations

import numpy as np
import pytest

from extractors.preprocess import resample
from extractors.stamps import find_stamp, lift_stamp, stamp_area
from rekey.settings import PROJECT_ROOT
from samples.corpus import degrade

SMALL = PROJECT_ROOT / "samples" / "corpus" / "small"
AMOUNT_BOX = (0.32, 0.428, 0.39, 0.438)  # the amount claimed, on the claim form's first page


@pytest.fixture(scope="module")
def faxed() -> tuple[np.ndarray, np.ndarray]:
    """The claim form's first page as printed, and as a fax with a stamp over the amount,
    both at 300 dpi and upright."""
    fax = degrade.RENDITIONS["bad_fax"]
    printed = degrade.rasterise(SMALL / "0000-claim-digital.pdf", fax.dpi, pages=1)[0]
    stamped = degrade.stamp(printed, AMOUNT_BOX, "RECEIVED")
    rng = np.random.default_rng(3)
    received = degrade.degrade(stamped, fax, degrade.PagePlan(0.0, 0), rng)
    return resample(printed, fax.dpi)[0], resample(received, fax.dpi)[0]


def test_a_tilted_stamp_is_found_by_its_frame(faxed: tuple[np.ndarray, np.ndarray]) -> None:
    _, received = faxed
    stamp = find_stamp(received)
    assert stamp is not None
    assert stamp.angle == pytest.approx(12, abs=1)  # as pressed on
    width = received.shape[1]
    assert 0.3 * width < stamp.u1 - stamp.u0 < 0.42 * width  # the frame is 0.34 wide
    assert 0.15 < stamp.height / (stamp.u1 - stamp.u0) < 0.3


def test_no_stamp_is_found_on_a_form_without_one(faxed: tuple[np.ndarray, np.ndarray]) -> None:
    printed, _ = faxed
    assert find_stamp(printed) is None


def test_lifting_the_stamp_keeps_the_print_beneath(faxed: tuple[np.ndarray, np.ndarray]) -> None:
    printed, received = faxed
    stamp = find_stamp(received)
    lifted = lift_stamp(received, stamp)
    inside = stamp_area(received.shape, stamp)
    assert np.array_equal(lifted[~inside], received[~inside])  # nothing else is touched
    text = inside & (printed < 128)
    stamp_only = inside & (printed > 250) & (received < 170)
    kept = (lifted[text] < 200).mean()
    gone = (lifted[stamp_only] > 200).mean()
    assert kept > 0.8, f"only {kept:.0%} of the print under the stamp is kept"
    assert gone > 0.8, f"only {gone:.0%} of the stamp's ink is lifted"
