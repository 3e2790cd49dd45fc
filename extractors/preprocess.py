"""Scan clean-up with OpenCV, as small pure steps: ``gray -> gray``.

``extractors.source.prepare`` chains them: resample so the text is the size Tesseract
reads best (:mod:`extractors.textsize`), run only the clean-up steps the page's own measures
call for (:func:`clean`), turn the page upright on strong evidence only
(:mod:`extractors.orientation`) and straighten it (any angle up to ±10°).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

TARGET_DPI = 300
MAX_SKEW = 10.0


@dataclass(frozen=True)
class Prepared:
    gray: np.ndarray
    rotation: int  # quarter turn applied, degrees clockwise
    skew: float  # degrees the page was tilted (positive: counter-clockwise)
    scale: float  # resampling factor applied


def resample(gray: np.ndarray, dpi: float, target: float = TARGET_DPI) -> tuple[np.ndarray, float]:
    scale = target / dpi
    if abs(scale - 1) < 0.05:
        return gray, 1.0
    interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interpolation), scale


def even_lighting(gray: np.ndarray) -> np.ndarray:
    """Divide by the page's background (a wide blur of the paper) so shadows go flat."""
    kernel = max(31, (min(gray.shape) // 20) | 1)
    background = cv2.medianBlur(cv2.resize(gray, None, fx=0.25, fy=0.25), kernel // 4 | 1)
    background = cv2.resize(background, (gray.shape[1], gray.shape[0]))
    flat = cv2.divide(gray, np.maximum(background, 1), scale=255)
    return cv2.normalize(flat, None, 0, 255, cv2.NORM_MINMAX)


def despeckle(gray: np.ndarray) -> np.ndarray:
    return cv2.medianBlur(gray, 3)


SPECK_AREA = 4  # px: an ink component this small is a speck, not a character's part
SPECKLED = 0.05  # specks per larger ink component from which a page is speckled
# (on the development corpus: clean scans and rendered pages at most 0.045, office scans
# 0.07 to 3, faxes 0.16 to 0.9)


def speckle(gray: np.ndarray) -> float:
    """How speckled the page is: its tiny ink components per larger one."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink_mask(gray), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    tiny = int((areas <= SPECK_AREA).sum())
    return tiny / max(len(areas) - tiny, 1)


def ink_mask(gray: np.ndarray) -> np.ndarray:
    _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return mask


def _profile_score(mask: np.ndarray, angle: float) -> float:
    h, w = mask.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    rotated = cv2.warpAffine(mask, matrix, (w, h), flags=cv2.INTER_NEAREST)
    rows = rotated.sum(axis=1, dtype=np.float64)
    return float(np.var(rows))


def estimate_skew(gray: np.ndarray, limit: float = MAX_SKEW) -> float:
    """The page's tilt in degrees (positive: counter-clockwise), by projection profiles."""
    small = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    mask = ink_mask(small)
    best, step = 0.0, 1.0
    candidates = np.arange(-limit, limit + step, step)
    for _ in range(3):
        scores = [(_profile_score(mask, a), a) for a in candidates]
        best = max(scores)[1]
        step /= 5
        candidates = np.arange(best - 5 * step, best + 5 * step + step / 2, step)
    return float(-best)


def rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    """Rotate by ``angle`` degrees counter-clockwise about the centre, filling with paper."""
    h, w = gray.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(
        gray,
        matrix,
        (w, h),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255,
    )


def quarter_turn(gray: np.ndarray, degrees: int) -> np.ndarray:
    turns = {
        0: None,
        90: cv2.ROTATE_90_CLOCKWISE,
        180: cv2.ROTATE_180,
        270: cv2.ROTATE_90_COUNTERCLOCKWISE,
    }
    code = turns[degrees % 360]
    return gray if code is None else cv2.rotate(gray, code)


def turned_ratio(gray: np.ndarray) -> float:
    """How much more line structure the page shows turned a quarter than as it is.

    Above 1 the text runs vertically. Latin pages give < 0.7 upright and > 1.4 turned;
    pages of square CJK characters land near 1 either way (ambiguous).
    """
    small = cv2.resize(gray, None, fx=0.2, fy=0.2, interpolation=cv2.INTER_AREA)
    mask = ink_mask(small)
    angles = range(-6, 7, 2)
    upright = max(_profile_score(mask, a) for a in angles)
    turned = cv2.rotate(mask, cv2.ROTATE_90_CLOCKWISE)
    across = max(_profile_score(turned, a) for a in angles)
    return across / max(upright, 1e-9)


def ink_centroid(gray: np.ndarray) -> tuple[float, float]:
    """Where the ink sits, as page fractions (x, y); forms and letters fill from the top."""
    mask = ink_mask(cv2.resize(gray, None, fx=0.1, fy=0.1, interpolation=cv2.INTER_AREA))
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return 0.5, 0.5
    return float(xs.mean() / mask.shape[1]), float(ys.mean() / mask.shape[0])


def straighten(gray: np.ndarray) -> tuple[np.ndarray, float]:
    skew = estimate_skew(gray)
    if abs(skew) < 0.1:
        return gray, skew
    return rotate(gray, -skew), skew


def remove_specks(gray: np.ndarray, max_area: int = 12) -> np.ndarray:
    """Paint out isolated dots of ink (fax and scanner speckle) smaller than ``max_area``."""
    mask = ink_mask(gray)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    small = np.nonzero(stats[:, cv2.CC_STAT_AREA] <= max_area)[0]
    small = small[small != 0]
    if len(small) == 0:
        return gray
    out = gray.copy()
    out[np.isin(labels, small)] = 255
    return out


def ink_split(gray: np.ndarray) -> float:
    """The grey level that best splits ink from paper (Otsu)."""
    level, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return float(level)


def whiten_paper(gray: np.ndarray) -> np.ndarray:
    """Set the paper to white: everything lighter than halfway between the ink/paper split
    and white. Cutting at the split itself erased the thin strokes of serif CJK characters
    and the pale cores of blurred fax strokes."""
    out = gray.copy()
    out[gray > (ink_split(gray) + 255) / 2] = 255
    return out


UNEVEN_PAPER = 40  # grey levels between the paper's lightest and darkest parts: shaded


def paper_range(gray: np.ndarray) -> float:
    """Grey levels between the lightest and darkest paper: the page with its ink removed (a
    wide median of a quarter-size copy), 2nd to 98th percentile. Shadows and shading show."""
    small = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    background = cv2.medianBlur(small, max(31, (min(gray.shape) // 20) | 1) // 4 | 1)
    low, high = np.percentile(background, [2, 98])
    return float(high - low)


RULE_CAPS = 3  # a run of ink three capitals long, straight across or down, is a rule
RULE_MARGIN = 5  # pixels round a rule whited out with it: its blurred, jagged edges


# a rule down the page must be longer: a headline's letters have tall stems (the W-9's
# logo lost its W at three capitals; word recall on FUNSD moved 0.1 point)
DOWN_LONGER = 8 / 3


def rules_mask(gray: np.ndarray, length: int) -> np.ndarray:
    """The page's ruled lines: ink running straight across for ``length`` pixels, or down
    for :data:`DOWN_LONGER` times that."""
    ink = ink_mask(gray)
    across = cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1))
    down = cv2.getStructuringElement(cv2.MORPH_RECT, (1, round(length * DOWN_LONGER)))
    return cv2.morphologyEx(ink, cv2.MORPH_OPEN, across) | cv2.morphologyEx(
        ink, cv2.MORPH_OPEN, down
    )


def remove_rules(gray: np.ndarray, length: int, margin: int = RULE_MARGIN) -> np.ndarray:
    """White out the ruled lines of a form (table rules, boxes, underlines) with ``margin``
    pixels round them. Tesseract reads a rule touching a word as part of it, or as ``|``."""
    rules = rules_mask(gray, length)
    if not rules.any():
        return gray
    out = gray.copy()
    out[cv2.dilate(rules, np.ones((margin, margin), np.uint8)) > 0] = 255
    return out


def clean(
    gray: np.ndarray, unknown_resolution: bool, cap_px: float = 30.0
) -> tuple[np.ndarray, list[str]]:
    """The clean-up steps that earn their place on this page; returns the steps run.

    A page of known resolution gets its lighting evened and its paper whitened, and, when
    it is speckled (:func:`speckle`), a 3x3 median blur and speck removal too: on a clean
    page those only take the dots off ``ü`` and run bold letters together. On an image of
    unknown resolution, scaled from its text so its capitals are ``cap_px`` tall (real
    office scans, FUNSD), the blur lost 1.5 points of word recall, whitening 0.2 and speck
    removal 0.5, so none of them runs. Ruled lines are removed when the page has any (+3
    points), and the lighting is then evened (+0.4; alone, on shaded paper, +0.2)."""
    if not unknown_resolution:
        if speckle(gray) < SPECKLED:
            return whiten_paper(even_lighting(gray)), ["even lighting", "whitening"]
        cleaned = remove_specks(whiten_paper(despeckle(even_lighting(gray))))
        return cleaned, ["even lighting", "median blur", "whitening", "speck removal"]
    unruled = remove_rules(gray, round(RULE_CAPS * cap_px))
    if unruled is not gray:
        return even_lighting(unruled), ["rules removed", "even lighting"]
    if paper_range(gray) > UNEVEN_PAPER:
        return even_lighting(gray), ["even lighting"]
    return gray, []


PRINTED_ROW = 0.01  # share of a row's width in ink: printed, not noise


def print_top(gray: np.ndarray) -> int:
    """The first row of the page's print (speckle and a scanner's edge shadows ignored)."""
    small = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    ink = cv2.medianBlur(ink_mask(small), 3)
    rows = np.nonzero((ink > 0).mean(axis=1) >= PRINTED_ROW)[0]
    return int(rows[0] * 4) if len(rows) else 0
