"""Reading speed against the plain libraries rekey builds on (ratios: rekey / baseline)."""

from __future__ import annotations

import inspect
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pdfplumber
import pytesseract
from PIL import Image

from benchmarks import timing
from benchmarks.crops import page_image
from benchmarks.figures import Context, CorpusDoc, Missing, figure
from benchmarks.scoring import score_fields

OCR_PAGES = 3
DIGITAL_DOCS = 8
SCAN_DPI = 300
MIN_WORDS = 3


def _detail(ctx: Context, name: str, detail: dict[str, Any]) -> timing.Measured:
    ctx.extra.setdefault("speed_details", {})[name] = detail
    if detail["ratio"] is None:
        raise Missing("the baseline took no measurable time")
    return timing.measured_ratio(detail)


def scanned_pages(ctx: Context, limit: int = OCR_PAGES) -> list[Path]:
    """First pages of a few scanned documents, one per rendition first, saved as PNG at the
    scan's own resolution: the same image files go to rekey and to plain Tesseract."""
    scans = ctx.pick(lambda d: d.scanned and d.truth.container in ("pdf", "tiff", "png"))
    by_rendition: dict[str, CorpusDoc] = {}
    for doc in scans:
        by_rendition.setdefault(doc.truth.rendition, doc)
    chosen = [*by_rendition.values(), *(d for d in scans if d not in by_rendition.values())]
    folder = ctx.work / "ocr-pages"
    folder.mkdir(parents=True, exist_ok=True)
    pages = []
    for doc in chosen[:limit]:
        target = folder / f"{doc.path.stem}.png"
        if doc.path.suffix.lower() == ".pdf":
            pdf_page_png(doc.path, doc.truth.dpi or SCAN_DPI, target)
        else:
            page_image(doc.path, 1).save(target)
        pages.append(target)
    return pages


def pdf_page_png(path: Path, dpi: int, target: Path) -> None:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        pdf[0].render(scale=dpi / 72, grayscale=True).to_pil().save(target)
    finally:
        pdf.close()


@figure("speed.ocr_vs_tesseract")
def ocr_vs_tesseract(ctx: Context) -> timing.Measured:
    """rekey's OCR path for an image file (open and prepare the page: upright, straighten,
    clean; then full-page OCR into words) vs plain ``pytesseract.image_to_data`` on the
    same raw page images."""
    pages = scanned_pages(ctx)
    if not pages:
        raise Missing("no scanned document in the corpus")

    def rekey() -> None:
        for page in pages:
            rekey_ocr(page)

    def baseline() -> None:
        for page in pages:
            with Image.open(page) as image:
                pytesseract.image_to_data(image, output_type=pytesseract.Output.DICT)

    detail = timing.summary(timing.interleaved(rekey, baseline, ctx.repeat))
    return _detail(ctx, "ocr_vs_tesseract", detail | {"pages": [p.name for p in pages]})


def rekey_ocr(path: Path) -> Any:
    """An image file through rekey's extractor registry and, when reading only prepares the
    pages (a Source), full-page OCR of each, as the extraction engine does."""
    from extractors.registry import read_document

    opened = read_document(path)
    if hasattr(opened, "pages"):  # a Layout: the words were read with the file
        return opened
    from extractors.engine import scan_facts
    from extractors.ocr import ocr_page

    return [scan_facts(opened, ocr_page(n, opened.image(n))) for n in sorted(opened.scanned)]


ZONAL_DOCS = 6
REGISTERED_DOCS = 12


def zoned_doc_types(templates: list[Any]) -> set[str]:
    """Doc types whose template names the boxes OCR must read (on page 1 at least)."""
    return {t.doc_type for t in templates if hasattr(t, "zones") and t.zones(1)}


@figure("speed.zonal_vs_fullpage")
def zonal_vs_fullpage(ctx: Context) -> timing.Measured:
    """Extraction of scanned documents with zonal OCR (only the template's boxes) vs the
    same extraction reading every scanned page whole: ``extractors.engine.extract_source``
    with ``zonal=True`` / ``zonal=False``, on the same opened (prepared) documents."""
    try:
        from extractors.engine import extract_source
    except ImportError as exc:
        raise Missing(f"zonal OCR not there yet ({exc})") from exc
    if "zonal" not in inspect.signature(extract_source).parameters:
        raise Missing("extractors.engine.extract_source has no zonal switch yet")
    from extractors.registry import read_document
    from extractors.templates import load_templates

    templates = list(load_templates(ctx.settings.templates_dir).values())
    zoned = zoned_doc_types(templates)
    if not zoned:
        raise Missing("no template declares zones (region locators) yet")
    docs = ctx.pick(lambda d: d.scanned and d.truth.doc_type in zoned, ZONAL_DOCS)
    if not docs:
        raise Missing(f"no scanned document of a zoned kind ({', '.join(sorted(zoned))})")
    sources = [read_document(d.path) for d in docs]

    def zonal() -> None:
        for source in sources:
            extract_source(source, templates, zonal=True)

    def fullpage() -> None:
        for source in sources:
            extract_source(source, templates, zonal=False)

    detail = timing.summary(timing.interleaved(zonal, fullpage, ctx.repeat))
    accuracy = {
        side: field_accuracy(docs, sources, templates, zonal=on)
        for side, on in (("zonal_field_accuracy", True), ("fullpage_field_accuracy", False))
    }
    return _detail(
        ctx, "zonal_vs_fullpage", detail | accuracy | {"documents": [d.name for d in docs]}
    )


@figure("speed.inprocess_vs_pytesseract")
def inprocess_vs_pytesseract(ctx: Context) -> timing.Measured:
    """Zonal extraction of scanned documents (``extract_source``, many small Tesseract
    calls: zones, second readings) with the in-process engine (tesserocr) vs the default
    one (pytesseract, a process per call), on the same opened documents, one thread."""
    try:
        import tesserocr  # noqa: F401
    except ImportError as exc:
        raise Missing("tesserocr is not installed (the inprocess extra)") from exc
    from extractors.engine import extract_source
    from extractors.ocr import using_engine
    from extractors.registry import read_document
    from extractors.templates import load_templates

    templates = list(load_templates(ctx.settings.templates_dir).values())
    docs = ctx.pick(lambda d: d.scanned and d.truth.doc_type in zoned_doc_types(templates))
    docs = docs[:ZONAL_DOCS]
    if not docs:
        raise Missing("no scanned document of a zoned kind")
    sources = [read_document(d.path) for d in docs]

    def reading(engine: str) -> Callable[[], None]:
        def run() -> None:
            with using_engine(engine):
                for source in sources:
                    extract_source(source, templates)

        return run

    with using_engine("tesserocr"):  # its models loaded before the first timed run
        extract_source(sources[0], templates)
    detail = timing.summary(
        timing.interleaved(reading("tesserocr"), reading("pytesseract"), ctx.repeat)
    )
    accuracy = {}
    for engine in ("tesserocr", "pytesseract"):
        with using_engine(engine):
            accuracy[f"{engine}_field_accuracy"] = field_accuracy(docs, sources, templates, True)
    return _detail(
        ctx, "inprocess_vs_pytesseract", detail | accuracy | {"documents": [d.name for d in docs]}
    )


@figure("speed.registration_share")
def registration_share(ctx: Context) -> timing.Measured:
    """Registration's cost: the seconds spent bringing scanned pages onto their blank (the
    ``seconds`` each page's registration records) over the seconds of the documents' whole
    reading (opening and preparing the file, classifying, registering, reading the zones),
    on the corpus's scanned documents whose template names a blank. Median of the repeats."""
    from extractors.engine import extract_source
    from extractors.registry import read_document
    from extractors.templates import load_templates

    templates = list(load_templates(ctx.settings.templates_dir).values())
    blanks = {t.doc_type for t in templates if t.reference is not None}
    docs = ctx.pick(lambda d: d.scanned and d.truth.doc_type in blanks, REGISTERED_DOCS)
    if not docs:
        raise Missing(f"no scanned document of a kind with a blank ({', '.join(sorted(blanks))})")
    shares, registered = [], 0
    for _ in range(max(1, ctx.repeat)):
        spent = whole = 0.0
        for doc in docs:
            seconds, found = timing.timed(
                lambda doc=doc: extract_source(read_document(doc.path), templates)
            )
            fits = [p.registration for p in found.layout.pages if p.registration]
            spent += sum(f.seconds or 0.0 for f in fits)
            registered += sum(f.good for f in fits)
            whole += seconds
        shares.append(spent / whole)
    ctx.extra.setdefault("speed_details", {})["registration_share"] = {
        "documents": [d.name for d in docs],
        "pages_registered_well": registered // max(1, ctx.repeat),
        "share_spread": timing.spread(shares),
    }
    return timing.Measured(round(statistics.median(shares), 4), timing.spread(shares))


def field_accuracy(docs: list[Any], sources: list[Any], templates: list[Any], zonal: bool) -> float:
    """The share of the documents' truth fields one path extracts right."""
    from extractors.engine import extract_source

    scores = []
    for doc, source in zip(docs, sources, strict=True):
        found = extract_source(source, templates, zonal=zonal)
        types = {n: s.type for n, s in found.template.fields.items()} if found.template else None
        fields = {n: {"value": f.value} for n, f in found.fields.items()}
        scores += score_fields(doc.truth.fields, fields, types)
    return round(sum(s.correct for s in scores) / len(scores), 4) if scores else 0.0


def digital_pdfs(ctx: Context, limit: int = DIGITAL_DOCS) -> list[Path]:
    """Digital PDFs whose every page has a text layer (so neither side runs OCR)."""
    chosen = []
    for doc in ctx.pick(lambda d: d.truth.rendition == "digital" and d.truth.container == "pdf"):
        with pdfplumber.open(doc.path) as pdf:
            if all(len(p.extract_words()) >= MIN_WORDS for p in pdf.pages):
                chosen.append(doc.path)
        if len(chosen) >= limit:
            break
    return chosen


@figure("speed.digital_vs_pdfplumber")
def digital_vs_pdfplumber(ctx: Context) -> timing.Measured:
    """``extractors.pdf.pdf_to_layout`` (words, boxes, AcroForm values) vs pdfplumber's own
    ``page.extract_words()`` over the same digital PDFs."""
    from extractors.pdf import pdf_to_layout

    pdfs = digital_pdfs(ctx)
    if not pdfs:
        raise Missing("no digital PDF with a text layer in the corpus")

    def rekey() -> None:
        for path in pdfs:
            pdf_to_layout(path)

    def baseline() -> None:
        for path in pdfs:
            with pdfplumber.open(path) as pdf:
                for page in pdf.pages:
                    page.extract_words()

    detail = timing.summary(timing.interleaved(rekey, baseline, ctx.repeat))
    return _detail(ctx, "digital_vs_pdfplumber", detail | {"documents": len(pdfs)})
