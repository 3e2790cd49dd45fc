"""Turn pages into scans: rasterise, degrade, and write image-only PDFs or multi-page TIFFs.

Conventions recorded in the truth files:

* ``skew_degrees``: the angle each page was rotated by before any quarter turn, in degrees,
  positive counter-clockwise (OpenCV's convention).
* ``rotation``: the quarter turn applied last, in degrees clockwise (0, 90, 180, 270); turn the
  image that many degrees counter-clockwise to put it upright.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image


@dataclass(frozen=True)
class Rendition:
    name: str
    dpi: int
    max_skew: float
    min_skew: float = 0.0
    noise: float = 0.0
    speckle: float = 0.0  # share of pixels flipped to ink or paper
    jpeg_quality: int | None = None
    blur: float = 0.0
    lighting: float = 0.0  # depth of the uneven-lighting gradient
    rotate_share: float = 0.0  # chance that a page is turned 90 or 180 degrees
    stamp: bool = False


RENDITIONS = {
    "clean_scan": Rendition("clean_scan", 300, max_skew=1.0, noise=4.0, jpeg_quality=85),
    "office_scan": Rendition(
        "office_scan",
        200,
        min_skew=1.0,
        max_skew=3.0,
        noise=6.0,
        speckle=0.0008,
        jpeg_quality=35,
    ),
    "bad_fax": Rendition(
        "bad_fax",
        150,
        max_skew=5.0,
        noise=10.0,
        speckle=0.002,
        blur=1.1,
        lighting=0.35,
        rotate_share=0.4,
        stamp=True,
        jpeg_quality=60,
    ),
}


@dataclass(frozen=True)
class PagePlan:
    skew: float
    rotation: int


def plan_pages(rendition: Rendition, pages: int, rng: np.random.Generator) -> list[PagePlan]:
    """Per-page skew and quarter turn, drawn from ``rng``."""
    out = []
    for _ in range(pages):
        magnitude = float(rng.uniform(rendition.min_skew, rendition.max_skew))
        skew = round(magnitude * (1 if rng.random() < 0.5 else -1), 2)
        rotation = 0
        if rng.random() < rendition.rotate_share:
            rotation = int(rng.choice([90, 180]))
        out.append(PagePlan(skew, rotation))
    return out


def rasterise(pdf: Path, dpi: int, pages: int | None = None) -> list[np.ndarray]:
    """Greyscale uint8 arrays of the first ``pages`` pages of ``pdf`` at ``dpi``."""
    document = pdfium.PdfDocument(str(pdf))
    try:
        count = len(document) if pages is None else min(pages, len(document))
        return [
            np.asarray(document[i].render(scale=dpi / 72, grayscale=True).to_pil().convert("L"))
            for i in range(count)
        ]
    finally:
        document.close()


def resample(image: np.ndarray, from_dpi: int, to_dpi: int) -> np.ndarray:
    if from_dpi == to_dpi:
        return image
    scale = to_dpi / from_dpi
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def stamp(image: np.ndarray, box: tuple[float, float, float, float], text: str) -> np.ndarray:
    """A grey, tilted rubber stamp across the page-relative ``box`` (x0, y0, x1, y1)."""
    h, w = image.shape
    layer = np.full_like(image, 255)
    cx, cy = int((box[0] + box[2]) / 2 * w), int((box[1] + box[3]) / 2 * h)
    half_w, half_h = int(w * 0.17), int(h * 0.025)
    cv2.rectangle(layer, (cx - half_w, cy - half_h), (cx + half_w, cy + half_h), 110, 4)
    scale = half_h / 16
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 3)
    cv2.putText(layer, text, (cx - tw // 2, cy + th // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, 110, 3)
    turn = cv2.getRotationMatrix2D((cx, cy), 12, 1.0)
    layer = cv2.warpAffine(layer, turn, (w, h), borderValue=255)
    return np.minimum(image, layer)


def degrade(
    image: np.ndarray, rendition: Rendition, page: PagePlan, rng: np.random.Generator
) -> np.ndarray:
    """One page as ``rendition`` would scan it: skew, light, blur, noise, JPEG, quarter turn."""
    h, w = image.shape
    out = image
    if page.skew:
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), page.skew, 1.0)
        out = cv2.warpAffine(out, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    work = out.astype(np.float32)
    if rendition.lighting:
        ys, xs = np.mgrid[0:h:8, 0:w:8].astype(np.float32)
        corner = rng.uniform(0, 1, 2)
        gradient = (
            1 - rendition.lighting * ((xs / w - corner[0]) ** 2 + (ys / h - corner[1]) ** 2) / 2
        )
        work *= cv2.resize(gradient, (w, h), interpolation=cv2.INTER_LINEAR)
    if rendition.blur:
        work = cv2.GaussianBlur(work, (0, 0), rendition.blur)
    if rendition.noise:
        work += rng.normal(0, rendition.noise, (h, w)).astype(np.float32)
    out = np.clip(work, 0, 255).astype(np.uint8)
    if rendition.speckle:
        flips = rng.random((h, w)) < rendition.speckle
        out[flips & (rng.random((h, w)) < 0.5)] = 0
        out[flips & (out > 0)] = 255
    if rendition.jpeg_quality:
        ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, rendition.jpeg_quality])
        assert ok
        out = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    if page.rotation:
        out = np.rot90(out, k=-page.rotation // 90).copy()  # clockwise
    return out


def write_pdf(images: list[np.ndarray], dpi: int, path: Path, quality: int = 75) -> Path:
    """An image-only PDF whose page size is pixels / dpi * 72 points."""
    pages = [Image.fromarray(a) for a in images]
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    pages[0].save(
        buffer, "PDF", save_all=True, append_images=pages[1:], resolution=float(dpi),
        quality=quality,
    )  # fmt: skip
    path.write_bytes(buffer.getvalue())
    return path


def write_tiff(images: list[np.ndarray], dpi: int, path: Path, quality: int = 75) -> Path:
    """A multi-page TIFF (JPEG-compressed greyscale) with its resolution tags set."""
    pages = [Image.fromarray(a) for a in images]
    path.parent.mkdir(parents=True, exist_ok=True)
    pages[0].save(
        path, "TIFF", save_all=True, append_images=pages[1:], dpi=(dpi, dpi),
        compression="jpeg", quality=quality,
    )  # fmt: skip
    return path


PAPERS_MM = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
MM_PER_INCH = 25.4


@dataclass(frozen=True)
class PrintScan:
    """A page printed on ``paper`` with the printer's scale-to-fit (``fit``: 0.90-1.00 of the
    largest size that fits), shifted by ``offset_mm`` and tilted by ``skew`` degrees on the
    glass, scanned at ``dpi``; ``faint`` is a second-generation copy (grey ink, soft)."""

    paper: str
    fit: float
    offset_mm: tuple[float, float]
    skew: float
    dpi: int
    faint: bool = False
    tagged: bool = True


def plan_print_scan(rng: np.random.Generator) -> PrintScan:
    return PrintScan(
        paper=str(rng.choice(list(PAPERS_MM))),
        fit=float(rng.uniform(0.90, 1.00)),
        offset_mm=(float(rng.uniform(-10, 10)), float(rng.uniform(-10, 10))),
        skew=float(rng.uniform(-2.0, 2.0)),
        dpi=int(rng.choice([100, 150, 200, 300])),
        faint=bool(rng.random() < 0.3),
        tagged=bool(rng.random() < 0.5),
    )


def print_and_scan(
    page: np.ndarray, page_dpi: int, plan: PrintScan, rng: np.random.Generator
) -> np.ndarray:
    """``page`` (rendered at ``page_dpi``) as ``plan`` prints and scans it: the whole sheet
    of paper at the scan's resolution, the printed page scaled, shifted and tilted on it."""
    paper_w, paper_h = (mm / MM_PER_INCH * plan.dpi for mm in PAPERS_MM[plan.paper])
    h, w = page.shape
    fits = min(paper_w / (w / page_dpi * plan.dpi), paper_h / (h / page_dpi * plan.dpi))
    scale = min(fits, 1.0) * plan.fit * plan.dpi / page_dpi
    dx, dy = (mm / MM_PER_INCH * plan.dpi for mm in plan.offset_mm)
    centre = (paper_w / 2 + dx, paper_h / 2 + dy)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), plan.skew, scale)
    matrix[:, 2] += np.array(centre) - np.array([w / 2, h / 2])
    size = (round(paper_w), round(paper_h))
    sheet = cv2.warpAffine(page, matrix, size, flags=cv2.INTER_AREA, borderValue=255)
    work = sheet.astype(np.float32)
    if plan.faint:  # a copy of a copy: grey ink, softened edges
        work = 255 - (255 - cv2.GaussianBlur(work, (0, 0), 0.8)) * 0.6
    work += rng.normal(0, 5.0, work.shape).astype(np.float32)
    out = np.clip(work, 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if ok else out
