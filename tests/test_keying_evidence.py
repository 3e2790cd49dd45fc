"""Keying screenshots, in real Chromium against the demo back office: the file written to
the evidence folder already has the case's identifier fields covered in the mask colour,
where the screen maps put them (the record screen's values), and nothing else."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from connectors.backoffice import BackOfficeSession, load_screens, scripts
from connectors.backoffice.session import MASK_COLOUR, identifier_targets
from rekey import pipeline
from rekey.models import CaseState
from rekey.pipeline import store_for
from tests.test_backoffice import make_case

IDENTIFIERS = ("policy_number", "id_number", "bank_account")
SHOWN = ("claimant_name", "amount_claimed")
PAYOUT = {"id_type": "Passport", "id_number": "X14922293", "bank_account": "DE89370400440532013000"}


def bgr(colour: str) -> tuple[int, int, int]:
    """A ``#rrggbb`` colour as OpenCV's (blue, green, red)."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return blue, green, red


def cell_boxes(office: BackOfficeSession, names) -> dict[str, dict[str, float]]:
    """Where the record screen on show puts each field's value, in CSS pixels."""
    route = office.screens.route("claim")
    assert route.record is not None and office.page is not None
    boxes = {}
    for name in names:
        target = route.record.fields[name].locator.target(control=False)
        cell = office.page.evaluate_handle(scripts.FIND, target).as_element()
        assert cell is not None, f"the record screen shows no {name}"
        boxes[name] = cell.bounding_box()
    return boxes


def inside(image: np.ndarray, box: dict[str, float], inset: int = 1) -> np.ndarray:
    x0, y0 = int(box["x"]) + inset, int(box["y"]) + inset
    x1, y1 = int(box["x"] + box["width"]) - inset, int(box["y"] + box["height"]) - inset
    assert 0 <= x0 < x1 <= image.shape[1] and 0 <= y0 < y1 <= image.shape[0], box
    return image[y0:y1, x0:x1]


def test_keying_screenshots_cover_the_identifiers(backoffice, backoffice_settings, tmp_path):
    case = make_case("covered-evidence", **PAYOUT)
    with BackOfficeSession(backoffice_settings) as office:
        receipt = office.key_case(case, tmp_path / "evidence", IDENTIFIERS)
        record = Path(receipt.screenshots[-1])
        assert record.name.startswith("record-")
        boxes = cell_boxes(office, IDENTIFIERS + SHOWN)
        plain = office.screenshot(tmp_path / "plain", "record")  # nothing covered
    image = cv2.imread(str(record), cv2.IMREAD_COLOR)
    uncovered = cv2.imread(plain, cv2.IMREAD_COLOR)
    mask = np.array(bgr(MASK_COLOUR), dtype=np.uint8)
    for name in IDENTIFIERS:
        assert (inside(image, boxes[name]) == mask).all(), f"{name} shows in the screenshot"
        assert not (inside(uncovered, boxes[name]) == mask).all()  # it was there to cover
    for name in SHOWN:
        assert np.array_equal(inside(image, boxes[name]), inside(uncovered, boxes[name]))
    assert all(Path(shot).parent == tmp_path / "evidence" for shot in receipt.screenshots)


def test_a_case_keyed_by_the_pipeline_has_its_templates_identifiers_covered(
    backoffice, backoffice_settings
):
    case = make_case("pipeline-covered", **PAYOUT)
    case.template = "claim"  # whose template types these three fields identifier
    store_for(backoffice_settings).add(case)
    keyed = pipeline.key(case, backoffice_settings)
    assert keyed.state is CaseState.done and keyed.receipt is not None
    record = keyed.receipt.screenshots[-1]
    with BackOfficeSession(backoffice_settings) as office:
        office.read(office.screens.route("claim"), keyed.receipt.reference)
        boxes = cell_boxes(office, IDENTIFIERS)
    image = cv2.imread(record, cv2.IMREAD_COLOR)
    mask = np.array(bgr(MASK_COLOUR), dtype=np.uint8)
    for name in IDENTIFIERS:
        assert (inside(image, boxes[name]) == mask).all(), f"{name} shows in the screenshot"


def test_the_targets_are_the_inputs_and_values_of_identifier_fields():
    route = load_screens(Path(__file__).resolve().parent.parent / "samples" / "screens").route(
        "claim"
    )
    targets = identifier_targets(route, IDENTIFIERS)
    captions = sorted((t["caption"], t["control"]) for t in targets)
    assert captions == sorted(
        [
            ("Policy number", True),
            ("ID number", True),
            ("Payout account", True),
            ("Policy number", False),
            ("ID number", False),
            ("Payout account", False),
        ]
    )
    assert identifier_targets(route, ()) == []
