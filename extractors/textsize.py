"""How big a page's text is, measured from the image itself, and the scale that makes it
the size Tesseract reads best.

Tesseract's own notes on image quality put its best accuracy at capitals about 30 px tall.
A file's DPI tag is often missing (phone photos, screenshots, faxes saved as PNG, most
office scans) or wrong, so the text is measured instead: the connected components of ink
that look like characters (not rules, boxes or specks), whose tall end (capitals,
ascenders, digits) gives the capital height. A tag is believed only where the text agrees
with it (:func:`scale_for`).
"""

from __future__ import annotations

import cv2
import numpy as np

from extractors.raster import TARGET_DPI  # a page rendered or tagged is taken to this

TARGET_CAP_PX = 30.0  # Tesseract's best capital height, where large text is shrunk to
# smaller capitals are enlarged to this: on FUNSD (real scans, capitals ~10 px) 22 px read
# as many words as 30 px (77.0 % / 76.6 % on 30 pages, 77.1 % / 77.2 % on 30 others) in
# 20 % less time; text between the two is read as it is
SMALLEST_CAP_PX = 22.0
LARGEST_CAP_PX = 45.0  # capitals taller than this are shrunk to TARGET_CAP_PX
MIN_GLYPHS = 40  # fewer character-like components than this: too little text to measure
CAP_PERCENTILE = 80  # capitals, ascenders and digits are the tall end of the glyphs
TAG_TRUST = 2.0  # a DPI tag the text's own size agrees with to this factor is believed
NOT_WORTH = 0.2  # a scale this close to 1 is not worth resampling for
MIN_SCALE, MAX_SCALE = 0.25, 4.0


def ink(gray: np.ndarray) -> np.ndarray:
    _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return mask


def glyph_heights(gray: np.ndarray) -> np.ndarray:
    """Heights in pixels of the ink components that look like characters: taller than a
    speck, shorter than a tenth of the page, not much wider than tall (touching letters
    may join, a rule may not), and neither a hollow frame nor a solid block."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink(gray), connectivity=8)
    w = stats[1:, cv2.CC_STAT_WIDTH].astype(float)
    h = stats[1:, cv2.CC_STAT_HEIGHT].astype(float)
    fill = stats[1:, cv2.CC_STAT_AREA] / np.maximum(w * h, 1)
    looks = (h >= 5) & (h <= gray.shape[0] / 10) & (w <= 2.5 * h) & (w >= 1)
    looks &= (fill >= 0.08) & (fill <= 0.95)
    return h[looks]


def cap_height(gray: np.ndarray) -> float | None:
    """The page's capital height in pixels, or None when it has too little text."""
    heights = glyph_heights(gray)
    if len(heights) < MIN_GLYPHS:
        return None
    return float(np.percentile(heights, CAP_PERCENTILE))


def scale_for(cap: float | None, dpi: float, dpi_from: str = "none") -> float:
    """:func:`scaling`'s factor alone."""
    return scaling(cap, dpi, dpi_from)[0]


def scaling(cap: float | None, dpi: float, dpi_from: str = "none") -> tuple[float, bool]:
    """The resampling for a page whose capitals are ``cap`` px tall (None: not measurable).

    A PDF page rendered here has an exact DPI: it is taken to 300 dpi, the size the
    templates were made at. An image's DPI tag is believed when the text's own size agrees
    with it within :data:`TAG_TRUST`; otherwise, and when there is no tag, the text decides:
    small capitals to :data:`SMALLEST_CAP_PX`, large ones to
    :data:`TARGET_CAP_PX`. Returns the factor and whether the text decided it
    (the page's DPI was unknown or wrong)."""
    by_dpi = TARGET_DPI / dpi
    by_text = text_scale(cap) if cap else None
    agree = TARGET_CAP_PX / cap / by_dpi if cap else 0.0  # the tag's scale over the text's
    believed = dpi_from == "tag" and 1 / TAG_TRUST <= agree <= TAG_TRUST
    by_size = not (dpi_from == "rendered" or by_text is None or believed)
    scale = min(max(by_text if by_size else by_dpi, MIN_SCALE), MAX_SCALE)
    return (1.0 if abs(scale - 1) < NOT_WORTH else round(scale, 3)), by_size


def text_scale(cap: float) -> float:
    """The factor that brings capitals ``cap`` px tall to a size Tesseract reads well."""
    if cap < SMALLEST_CAP_PX:
        return SMALLEST_CAP_PX / cap
    return TARGET_CAP_PX / cap if cap > LARGEST_CAP_PX else 1.0


def resample(gray: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return gray
    interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interpolation)
