"""Registration: a scanned page brought onto its blank form, so fixed zones fall where the
form prints them, whatever the printer and scanner did (scaled to fit A4 or Letter, shifted,
tilted, any resolution, no DPI tag).

OpenCV's own tools: ORB features on both (the blank's computed once), the strongest of
each tile of a 4 × 4 grid so that they cover the page, brute-force Hamming matches kept by
Lowe's ratio test, a homography by MAGSAC++ (``cv2.USAC_MAGSAC``), then
refined by ECC (``cv2.findTransformECC``) at half the work size in at most 8 steps. The
refinement is kept only while the matched features still fit it: on a page whose ruled
lines were removed before reading (an untagged scan) ECC can drift several pixels, and the
features' own fit stands. On print-and-scan W-9s and CMS-1500s (32 pages, generator seeds
300-315) this read 83.3 % of fields right, against 80.9 % with ECC run to 40 steps and
kept always, and 82.3 % without ECC; a W-9 template drafted from its blank needs the
refinement for its small tick boxes and comb fields. A page ORB cannot register (a faint
second-generation copy scanned at 100 dpi gives it a few dozen matches) is tried again with
SIFT's features, ten times the time. The fit's quality (matches kept, inliers, their share
and how far they reach across the blank, residual in reference pixels, ECC correlation, the
features used) is recorded on the page; a page that does not register well (too few
inliers, too small a share, inliers in one corner only, too large a residual) keeps its own
geometry and none of its zonal fields is trusted: a fit to a form's title alone ran a line
off at the foot of a CMS-1500 and read a neighbour's value with confidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pypdfium2

from rekey.errors import ConfigError
from rekey.models import Registration

ECC_SHARE = 0.5  # ECC refines at half the work size
ECC_STEPS, ECC_EPS = 8, 1e-4  # 40 steps at 1e-5 cost twice the time for no more fields
WORK_WIDTH = 1100  # pixels across: features are found at this size (about 130 dpi)
REFERENCE_DPI = 300  # the blank is held, and pages registered, at this resolution
FEATURES = 3000  # 6000 took twice as long for the same residual
TILES = 4  # ... found on a grid of 4 × 4 tiles, a share in each
CANDIDATES = 8  # ... the strongest of this many times as many
RATIO = 0.8  # Lowe's ratio test
RANSAC_PX = 3.0  # a match this far (work pixels) from the fit is an outlier
MIN_INLIERS = 40
MIN_SHARE = 0.25
MIN_SPREAD = 0.4  # ... reaching across this share of the blank both ways
MAX_RESIDUAL = 4.0  # reference pixels (1/3 mm at 300 dpi): median distance after the fit
SCALE_RANGE = (0.6, 1.7)  # a page scaled beyond these is not this form
MAX_PERSPECTIVE = 2e-4  # scanners do not photograph: the fit is nearly affine


@dataclass(frozen=True)
class Features:
    """Keypoints found on a page at :data:`WORK_WIDTH`, their descriptors, and the distance
    they are matched by."""

    keypoints: tuple[cv2.KeyPoint, ...]
    descriptors: np.ndarray | None
    norm: int


@dataclass(frozen=True, eq=False)
class Reference:
    """A blank page at :data:`REFERENCE_DPI`, with its features at :data:`WORK_WIDTH`."""

    gray: np.ndarray
    factor: float  # work pixels per reference pixel
    small: np.ndarray  # the blank at the work size
    half: np.ndarray  # the blank at ECC's size (ECC_SHARE of the work size)


def detector(features: int = FEATURES) -> cv2.ORB:
    return cv2.ORB_create(nfeatures=features, scaleFactor=1.2, nlevels=8, fastThreshold=10)


def orb_features(small: np.ndarray) -> Features:
    """ORB's keypoints and descriptors, the strongest of each tile of a :data:`TILES` grid:
    left to itself ORB spends nearly all its features on a form's title and logo, and a fit
    to one corner of the page runs off a line or more at the far side."""
    height, width = small.shape
    found = detector(FEATURES * CANDIDATES).detect(small, None)
    tiles: dict[tuple[int, int], list[cv2.KeyPoint]] = {}
    for point in found:
        x, y = point.pt
        tiles.setdefault((int(y * TILES / height), int(x * TILES / width)), []).append(point)
    per_tile = FEATURES // TILES**2
    keypoints = [
        point
        for points in tiles.values()
        for point in sorted(points, key=lambda p: p.response, reverse=True)[:per_tile]
    ]
    kept, descriptors = detector().compute(small, keypoints)
    return Features(tuple(kept), descriptors, cv2.NORM_HAMMING)


def sift_features(small: np.ndarray) -> Features:
    """SIFT's keypoints and descriptors: ten times ORB's time, but it still finds a faint
    second-generation copy scanned at 100 dpi, where ORB finds a few dozen matches or none."""
    keypoints, descriptors = cv2.SIFT_create(nfeatures=FEATURES).detectAndCompute(small, None)
    return Features(tuple(keypoints), descriptors, cv2.NORM_L2)


# the features a page is registered by, in turn: the next only when the one before fails
FINDERS = {"orb": orb_features, "sift": sift_features}


@cache
def blank_features(reference: Reference, finder: str) -> Features:
    return FINDERS[finder](reference.small)


def at_work_size(gray: np.ndarray) -> tuple[np.ndarray, float]:
    factor = WORK_WIDTH / gray.shape[1]
    small = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    return small, factor


def reference_of(gray: np.ndarray) -> Reference:
    small, factor = at_work_size(gray)
    half = cv2.resize(small, None, fx=ECC_SHARE, fy=ECC_SHARE, interpolation=cv2.INTER_AREA)
    return Reference(gray, factor, small, half)


@cache
def load_reference(path: Path, page: int = 1) -> Reference:
    """The blank a template names (a PDF page, rendered; or an image), ready to register to."""
    if not path.is_file():
        raise ConfigError(f"the blank {path} is not there", key="reference")
    if path.suffix.lower() == ".pdf":
        pdf = pypdfium2.PdfDocument(str(path))
        try:
            bitmap = pdf[page - 1].render(scale=REFERENCE_DPI / 72, grayscale=True)
            gray = np.asarray(bitmap.to_pil().convert("L"))
        finally:
            pdf.close()
    else:
        gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if gray is None:
            raise ConfigError(f"cannot read the blank {path}", key="reference")
    return reference_of(gray)


def _sane(h: np.ndarray) -> bool:
    """A scan's homography: scaled within reason, not mirrored, barely in perspective."""
    affine = h[:2, :2] / h[2, 2]
    det = float(np.linalg.det(affine))
    if det <= 0:
        return False
    scale = det**0.5
    return SCALE_RANGE[0] <= scale <= SCALE_RANGE[1] and float(np.abs(h[2, :2]).max()) < (
        MAX_PERSPECTIVE
    )


def _refined(
    ref_half: np.ndarray, page_small: np.ndarray, h: np.ndarray
) -> tuple[np.ndarray, float]:
    """ECC's refinement of ``h`` (page→reference, work pixels), run at :data:`ECC_SHARE` of
    the work size (``ref_half``: the blank at that size), and its correlation; the fit
    unchanged, correlation 0, when ECC does not converge."""
    half = np.diag([ECC_SHARE, ECC_SHARE, 1.0])
    shrink = {"fx": ECC_SHARE, "fy": ECC_SHARE, "interpolation": cv2.INTER_AREA}
    page_half = cv2.resize(page_small, None, **shrink)
    warp = np.linalg.inv(half @ h @ np.linalg.inv(half)).astype(np.float32)  # reference → page
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, ECC_STEPS, ECC_EPS)
    try:
        correlation, warp = cv2.findTransformECC(
            ref_half, page_half, warp, cv2.MOTION_HOMOGRAPHY, criteria, None, 3
        )
    except cv2.error:
        return h, 0.0
    refined = np.linalg.inv(half) @ np.linalg.inv(warp.astype(np.float64)) @ half
    return refined, float(correlation)


def fit_page(gray: np.ndarray, reference: Reference) -> tuple[np.ndarray | None, Registration]:
    """The homography taking ``gray``'s pixels to the reference's, and how well it fits: by
    the first of :data:`FINDERS` whose features register the page well, else the fit with
    the most inliers."""
    small, factor = at_work_size(gray)
    tried = []
    for finder, features_of in FINDERS.items():
        h, fit = _fit(small, features_of(small), blank_features(reference, finder), reference)
        fit = fit.model_copy(update={"features": finder})
        if h is not None:  # work pixels of the page → reference pixels: undo both downscalings
            h = np.diag([1 / reference.factor, 1 / reference.factor, 1.0]) @ h
            h = h @ np.diag([factor, factor, 1.0])
        if fit.good:
            return h, fit
        tried.append((h, fit))
    return max(tried, key=lambda tried_fit: tried_fit[1].inliers)


def _fit(
    small: np.ndarray, page: Features, blank: Features, reference: Reference
) -> tuple[np.ndarray | None, Registration]:
    """The homography taking the page's work pixels to the blank's, and how well it fits."""
    failed = Registration(good=False, matches=0, inliers=0, inlier_share=0.0)
    if page.descriptors is None or blank.descriptors is None or len(page.keypoints) < MIN_INLIERS:
        return None, failed
    pairs = cv2.BFMatcher(page.norm).knnMatch(page.descriptors, blank.descriptors, k=2)
    kept = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(kept) < MIN_INLIERS:
        return None, failed.model_copy(update={"matches": len(kept)})
    src = np.float32([page.keypoints[m.queryIdx].pt for m in kept])
    dst = np.float32([blank.keypoints[m.trainIdx].pt for m in kept])
    h, mask = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, RANSAC_PX)
    if h is None or not _sane(h):
        return None, failed.model_copy(update={"matches": len(kept)})
    inlier = mask.ravel().astype(bool)

    def residual_of(fit: np.ndarray) -> float:
        moved = cv2.perspectiveTransform(src[inlier].reshape(-1, 1, 2), fit).reshape(-1, 2)
        return float(np.median(np.linalg.norm(moved - dst[inlier], axis=1))) / reference.factor

    refined, correlation = _refined(reference.half, small, h)
    residual = residual_of(refined)
    if residual > MAX_RESIDUAL:  # ECC drifted (a page whose rules were removed): the features'
        refined, residual = h, residual_of(h)  # own fit stands
    share = float(inlier.mean())
    spread = spread_of(dst[inlier], reference)
    good = (
        int(inlier.sum()) >= MIN_INLIERS
        and share >= MIN_SHARE
        and spread >= MIN_SPREAD
        and residual <= MAX_RESIDUAL
        and _sane(refined)
    )
    fit = Registration(
        good=good,
        matches=len(kept),
        inliers=int(inlier.sum()),
        inlier_share=round(share, 3),
        spread=round(spread, 3),
        residual_px=round(residual, 2),
        correlation=round(correlation, 3),
    )
    return refined, fit


def spread_of(points: np.ndarray, reference: Reference) -> float:
    """How far matched points (the blank's work pixels) reach across the blank: the smaller
    of their spans across and down (5th to 95th percentile), as a share of its size."""
    height, width = (side * reference.factor for side in reference.gray.shape)
    low, high = np.percentile(points, [5, 95], axis=0)
    return float(min((high[0] - low[0]) / width, (high[1] - low[1]) / height))


def warp_to(gray: np.ndarray, h: np.ndarray, reference: Reference) -> np.ndarray:
    """``gray`` in the reference's frame (its size, its resolution), paper where it has none."""
    height, width = reference.gray.shape
    return cv2.warpPerspective(gray, h, (width, height), flags=cv2.INTER_LINEAR, borderValue=255)


BLANK_INK = 160  # grey levels darker than this on the blank are its print
DROP_MARGIN = 5  # pixels round the blank's print dropped with it (the fit is within ~2)
BRIDGE_PX = 11  # a stroke on both sides of a dropped rule this near is one stroke across it


@cache
def _print_of(reference: Reference) -> np.ndarray:
    """Where the blank prints (its captions, rules, comb ticks), widened by the fit's slack."""
    ink = (reference.gray < BLANK_INK).astype(np.uint8)
    return cv2.dilate(ink, np.ones((DROP_MARGIN, DROP_MARGIN), np.uint8)) > 0


def drop_out(registered: np.ndarray, reference: Reference) -> np.ndarray:
    """A registered page with the blank's own print whited out, leaving what was filled in:
    a value written across a comb's ticks or a box's rule is read without them (the
    form-processing "drop-out"). Where a written stroke runs into the print on one side and
    out of it on the other, across or down, the page's ink in between is kept: a digit
    typed over a comb's tick keeps its stroke (``3046043``, not ``3046()43``)."""
    dropped = _print_of(reference)
    out = registered.copy()
    out[dropped] = 255
    written = (out < BLANK_INK).astype(np.uint8)
    across = cv2.morphologyEx(written, cv2.MORPH_CLOSE, np.ones((1, BRIDGE_PX), np.uint8))
    down = cv2.morphologyEx(written, cv2.MORPH_CLOSE, np.ones((BRIDGE_PX, 1), np.uint8))
    stroke = dropped & (registered < BLANK_INK) & ((across | down) > 0)
    out[stroke] = registered[stroke]
    return out
