"""Registration: a scanned page brought onto its blank form, so fixed zones fall where the
form prints them, whatever the printer and scanner did (scaled to fit A4 or Letter, shifted,
tilted, any resolution, no DPI tag).

OpenCV's own tools: ORB features on both (the blank's computed once), brute-force Hamming
matches kept by Lowe's ratio test, a homography by MAGSAC++ (``cv2.USAC_MAGSAC``), then
refined by ECC (``cv2.findTransformECC``) at half the work size in at most 8 steps. The
refinement is kept only while the matched features still fit it: on a page whose ruled
lines were removed before reading (an untagged scan) ECC can drift several pixels, and the
features' own fit stands. On print-and-scan W-9s and CMS-1500s (32 pages, generator seeds
300-315) this read 83.3 % of fields right, against 80.9 % with ECC run to 40 steps and
kept always, and 82.3 % without ECC; a W-9 template drafted from its blank needs the
refinement for its small tick boxes and comb fields. The fit's quality (matches kept,
inlier share, residual in reference pixels, ECC correlation) is recorded on the page; a
page that does not register well (:func:`Fit.good`: too few inliers, too small a share, too
large a residual) keeps its own geometry and none of its zonal fields is trusted.
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
RATIO = 0.8  # Lowe's ratio test
RANSAC_PX = 3.0  # a match this far (work pixels) from the fit is an outlier
MIN_INLIERS = 60
MIN_SHARE = 0.25
MAX_RESIDUAL = 4.0  # reference pixels (1/3 mm at 300 dpi): median distance after the fit
SCALE_RANGE = (0.6, 1.7)  # a page scaled beyond these is not this form
MAX_PERSPECTIVE = 2e-4  # scanners do not photograph: the fit is nearly affine


@dataclass(frozen=True, eq=False)
class Reference:
    """A blank page at :data:`REFERENCE_DPI`, with its features at :data:`WORK_WIDTH`."""

    gray: np.ndarray
    factor: float  # work pixels per reference pixel
    half: np.ndarray  # the blank at ECC's size (ECC_SHARE of the work size)
    keypoints: tuple[cv2.KeyPoint, ...]
    descriptors: np.ndarray


def detector() -> cv2.ORB:
    return cv2.ORB_create(nfeatures=FEATURES, scaleFactor=1.2, nlevels=8, fastThreshold=10)


def at_work_size(gray: np.ndarray) -> tuple[np.ndarray, float]:
    factor = WORK_WIDTH / gray.shape[1]
    small = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    return small, factor


def reference_of(gray: np.ndarray) -> Reference:
    small, factor = at_work_size(gray)
    keypoints, descriptors = detector().detectAndCompute(small, None)
    half = cv2.resize(small, None, fx=ECC_SHARE, fy=ECC_SHARE, interpolation=cv2.INTER_AREA)
    return Reference(gray, factor, half, tuple(keypoints), descriptors)


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
    """The homography taking ``gray``'s pixels to the reference's, and how well it fits."""
    small, factor = at_work_size(gray)
    keypoints, descriptors = detector().detectAndCompute(small, None)
    failed = Registration(good=False, matches=0, inliers=0, inlier_share=0.0)
    if descriptors is None or reference.descriptors is None or len(keypoints) < MIN_INLIERS:
        return None, failed
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(descriptors, reference.descriptors, k=2)
    kept = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(kept) < MIN_INLIERS:
        return None, failed.model_copy(update={"matches": len(kept)})
    src = np.float32([keypoints[m.queryIdx].pt for m in kept])
    dst = np.float32([reference.keypoints[m.trainIdx].pt for m in kept])
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
    h = refined
    # work pixels of the page → reference pixels: undo both downscalings
    to_reference = np.diag([1 / reference.factor, 1 / reference.factor, 1.0]) @ h
    full = to_reference @ np.diag([factor, factor, 1.0])
    share = float(inlier.mean())
    good = (
        int(inlier.sum()) >= MIN_INLIERS
        and share >= MIN_SHARE
        and residual <= MAX_RESIDUAL
        and _sane(full)
    )
    fit = Registration(
        good=good,
        matches=len(kept),
        inliers=int(inlier.sum()),
        inlier_share=round(share, 3),
        residual_px=round(residual, 2),
        correlation=round(correlation, 3),
    )
    return full, fit


def warp_to(gray: np.ndarray, h: np.ndarray, reference: Reference) -> np.ndarray:
    """``gray`` in the reference's frame (its size, its resolution), paper where it has none."""
    height, width = reference.gray.shape
    return cv2.warpPerspective(gray, h, (width, height), flags=cv2.INTER_LINEAR, borderValue=255)


BLANK_INK = 160  # grey levels darker than this on the blank are its print
DROP_MARGIN = 5  # pixels round the blank's print dropped with it (the fit is within ~2)


@cache
def _print_of(reference: Reference) -> np.ndarray:
    """Where the blank prints (its captions, rules, comb ticks), widened by the fit's slack."""
    ink = (reference.gray < BLANK_INK).astype(np.uint8)
    return cv2.dilate(ink, np.ones((DROP_MARGIN, DROP_MARGIN), np.uint8)) > 0


def drop_out(registered: np.ndarray, reference: Reference) -> np.ndarray:
    """A registered page with the blank's own print whited out, leaving what was filled in:
    a value written across a comb's ticks or a box's rule is read without them (the
    form-processing "drop-out")."""
    out = registered.copy()
    out[_print_of(reference)] = 255
    return out
