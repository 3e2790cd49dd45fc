"""A passport data page copied onto A4: its fields placed by its MRZ, and the marks over
capitals that both OCR models leave out."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from extractors.engine import extract_source
from extractors.locators import Doc
from extractors.mrz import framed_boxes, read_lines
from extractors.registry import read_document
from extractors.templates import MrzFrame, RegionLocator, load_templates
from extractors.verify import marks_unread, marks_unseen
from rekey.models import Box, Layout, Page, Word
from rekey.settings import PROJECT_ROOT
from samples.corpus.fonts import SANS_BOLD, font_file

SMALL = PROJECT_ROOT / "samples" / "corpus" / "small"
TEMPLATES = PROJECT_ROOT / "samples" / "templates"
TD3 = MrzFrame(mrz=(0.034, 0.815, 0.929, 0.922), aspect=0.704)


def ocr_word(text: str, x0: float, y0: float, x1: float, y1: float) -> Word:
    return Word(text=text, box=Box(x0=x0, y0=y0, x1=x1, y1=y1), confidence=0.9, source="ocr")


def test_boxes_follow_the_mrz_at_its_scale_across_and_down() -> None:
    """A data page printed at half its width, 0.2 in from the left and 0.3 down, on a page
    twice as tall as wide: every box is where the frame puts it on that page."""
    # the frame is 1 wide and 0.704 tall; on a 1000 x 2000 page printed at 500 units wide
    left, top = 0.2, 0.3
    across, down = 0.5, 0.5 * 0.704 * 1000 / 2000

    def at(x: float, y: float) -> tuple[float, float]:
        return left + x * across, top + y * down

    line1 = "P<GBRDOE<<JANE" + "<" * 30
    line2 = "1234567897GBR8001014F3001012" + "<" * 14 + "04"
    (x0, y0), (x1, y1) = at(0.034, 0.815), at(0.929, 0.868)
    words = [ocr_word(line1, x0, y0, x1, y1), ocr_word(line2, x0, y1, x1, at(0, 0.922)[1])]
    layout = Layout(pages=[Page(number=1, width=1000, height=2000, words=words)])
    doc = Doc(layout)
    assert read_lines(doc, None) is not None
    surname = RegionLocator(boxes=[(0.33, 0.29, 0.95, 0.333)], frame=TD3)
    placed = framed_boxes(doc, layout.pages[0], surname)
    assert placed is not None
    (bx0, by0, bx1, by1), sure = placed[0][0], placed[1]
    (ex0, ey0), (ex1, ey1) = at(0.33, 0.29), at(0.95, 0.333)
    # kept in by the share of the words' margin the smaller print would overrun
    assert abs(bx0 - ex0 - surname.pad * (1 - across)) < 1e-9
    assert abs(by0 - ey0 - surname.pad * (1 - down)) < 1e-9
    assert abs(bx1 - ex1 + surname.pad * (1 - across)) < 1e-9
    assert abs(by1 - ey1 + surname.pad * (1 - down)) < 1e-9
    assert sure == 1.0
    no_mrz = Layout(pages=[Page(number=1, width=1000, height=2000, words=[])])
    assert framed_boxes(Doc(no_mrz), no_mrz.pages[0], surname) is None


def test_a_data_page_copied_onto_a4_reads_as_the_page_itself(tmp_path) -> None:
    """The sample passport at its own size on a white A4 sheet (as a copier prints it),
    no DPI tag: the printed fields read as on the page alone, and the MRZ places the
    name's band on the name, not on a caption."""
    template = load_templates(TEMPLATES)["passport"]
    alone = extract_source(read_document(SMALL / "0007-passport-digital.png"), [template])
    data_page = Image.open(SMALL / "0007-passport-digital.png").convert("L")
    sheet = Image.new("L", (2480, 3508), 255)
    sheet.paste(data_page, (430, 1250))
    path = tmp_path / "copied.png"
    sheet.save(path)
    copied = extract_source(read_document(path), [template])
    for name in ("surname", "given_names", "place_of_birth", "date_of_issue", "document_number"):
        assert copied.fields[name].value == alone.fields[name].value, name
    doc = Doc(copied.layout)
    surname = template.fields["surname"].locators[1]
    assert isinstance(surname, RegionLocator) and surname.frame is not None
    placed = framed_boxes(doc, copied.layout.pages[0], surname)
    assert placed is not None
    x0, y0, x1, y1 = placed[0][0]
    inside = [
        w.text
        for w in copied.layout.pages[0].words
        if x0 <= w.box.cx <= x1 and y0 <= w.box.cy <= y1
    ]
    assert " ".join(inside) == alone.fields["surname"].value


def drawn(text: str, above: str | None = None) -> tuple[np.ndarray, Word]:
    """``text`` in bold capitals about 40 px tall, with ``above`` on the line over it, and
    the box OCR gives the word: the capitals' own, without any mark over them."""
    font = ImageFont.truetype(str(font_file(SANS_BOLD)), 56)
    caption = ImageFont.truetype(str(font_file(SANS_BOLD)), 36)
    image = Image.new("L", (900, 200), 255)
    draw = ImageDraw.Draw(image)
    if above:
        draw.text((40, 40), above, font=caption, fill=0)
    draw.text((40, 100), text, font=font, fill=0)
    x0, y0, x1, y1 = draw.textbbox((40, 100), text.replace("Ü", "U"), font=font)
    word = ocr_word(text, x0 / 900, y0 / 200, x1 / 900, y1 / 200)
    return np.asarray(image), word


def test_a_mark_over_a_capital_that_the_reading_left_out_is_seen() -> None:
    umlaut, box = drawn("MÜHLDORF", above="Place of birth")
    read_plain = box.model_copy(update={"text": "MUHLDORF"})
    assert marks_unread(umlaut, [read_plain]) == "a mark over 'MUHLDORF' was not read"
    assert marks_unread(umlaut, [box]) is None  # read with its mark
    plain, box = drawn("MUHLDORF", above="Date of expiry")  # descenders from the line above
    assert marks_unread(plain, [box]) is None
    mixed = box.model_copy(update={"text": "Muhldorf"})  # only words in capitals are looked at
    assert marks_unread(umlaut, [mixed]) is None


def test_a_mark_the_second_reading_adds_counts_only_where_it_is_printed() -> None:
    plain, box = drawn("manager", above="Occupation")
    added = box.model_copy(update={"text": "manàger"})  # the Latin model's own accent
    assert marks_unseen(plain, [added]) == "the mark read in 'manàger' is not in the print"
    dotted, box = drawn("Maling", above="Occupation")  # an i's dot is not a mark
    assert marks_unseen(dotted, [box.model_copy(update={"text": "Mäling"})]) is not None
    for printed, caption in (("Müller-Lüdenscheid", "Full name"), ("SÖMMERDA", "Place of birth")):
        marked, box = drawn(printed, above=caption)
        assert marks_unseen(marked, [box]) is None, printed
