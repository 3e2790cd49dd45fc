"""A signature is looked for beside its caption, below the print over it: on a form
printed smaller, the line of tick boxes above the signature line falls within reach."""

from __future__ import annotations

import cv2
import numpy as np

from extractors.locators import Doc
from extractors.marks import below_print, locate_signature
from extractors.templates import SignatureLocator
from rekey.models import Box, Layout, Page, Word

SIZE = 1000


def word(text: str, x0: float, y0: float, x1: float, y1: float, conf: float = 0.95) -> Word:
    return Word(text=text, box=Box(x0=x0, y0=y0, x1=x1, y1=y1), confidence=conf, source="ocr")


CAPTION = word("Signature:", 0.10, 0.50, 0.22, 0.52)
TICKED = word("Police", 0.55, 0.455, 0.62, 0.475)  # a tick box's caption, on the line above


def page_with(scribble: bool) -> tuple[Doc, SignatureLocator]:
    """A blank signature line beside its caption, a ticked box on the line above within
    the area a signature is looked for in, and a scribble on the line when asked."""
    gray = np.full((SIZE, SIZE), 255, np.uint8)
    cv2.rectangle(gray, (500, 455), (520, 475), 0, 2)  # the tick box ...
    cv2.line(gray, (503, 465), (510, 472), 0, 3)  # ... and its tick
    cv2.line(gray, (510, 472), (518, 458), 0, 3)
    cv2.line(gray, (250, 520), (560, 520), 0, 2)  # the signature line
    if scribble:
        points = np.array([[270, 515], [300, 495], [330, 518], [360, 498], [400, 516]], np.int32)
        cv2.polylines(gray, [points], False, 0, 3)
    layout = Layout(pages=[Page(number=1, width=SIZE, height=SIZE, words=[CAPTION, TICKED])])
    return Doc(layout, lambda _: gray), SignatureLocator(label="Signature:")


def test_a_tick_box_above_the_signature_line_is_not_a_signature() -> None:
    blank, locator = page_with(scribble=False)
    hit = locate_signature(blank, locator)
    assert hit is not None and hit.text == "false", hit and hit.how
    assert hit.box is not None and hit.box.y0 > TICKED.box.y1
    signed, locator = page_with(scribble=True)
    hit = locate_signature(signed, locator)
    assert hit is not None and hit.text == "true", hit and hit.how


def test_only_print_over_the_area_cuts_it_short() -> None:
    area, label = Box(x0=0.24, y0=0.46, x1=0.57, y1=0.528), CAPTION.box
    page = Page(number=1, width=SIZE, height=SIZE, words=[CAPTION, TICKED])
    assert below_print(page, area, label).y0 > TICKED.box.y1
    scrawl = TICKED.model_copy(update={"confidence": 0.2})  # a signature OCR made a word of
    aside = word("Police", 0.65, 0.455, 0.72, 0.475)  # print beyond the area's right edge
    for words in ([CAPTION, scrawl], [CAPTION, aside], [CAPTION]):
        others = Page(number=1, width=SIZE, height=SIZE, words=words)
        assert below_print(others, area, label) == area
