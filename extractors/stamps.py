"""Rubber stamps: find a tilted, framed stamp on a prepared page and lift its ink off.

A received-stamp is pressed on at an angle, across whatever is printed there. Its frame is
the tell: two long parallel rules at an angle no printed rule has on a straightened page.
Inside the frame, ink that runs straight, in any direction, for longer than a fourth of the
frame's height is the stamp's own lettering. It is whited out with its blurred edges,
except where it is darker than the stamp's ink alone: there a printed stroke runs under the
stamp, and that ink is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_TILT, MAX_TILT = 4.0, 40.0  # degrees: a printed rule is straight on a straightened page
LINE_SHARE = 0.12  # a frame side runs at least this share of the page width
STROKE_SHARE = 0.24  # the stamp's lettering: strokes longer than this share of its height
MIN_STROKE = 9  # pixels
EDGE = 9  # pixels across a stroke's blurred edges
PALER = 40  # grey levels paler than the stamp's ink: a stroke's blurred edge
ANGLE_STEP = 6  # degrees between the stroke directions tried
SIDE_REACH = 6  # pixels either side of a frame rule sampled for its ink
DARKER = 5  # grey levels darker than the stamp's ink: a printed stroke beneath it
INK = 170  # grey level below which a pixel counts as ink when tracing strokes
PAD = 15  # pixels round the frame that are the stamp's too


@dataclass(frozen=True)
class Stamp:
    angle: float  # degrees, counter-clockwise
    u0: float  # the frame's extent along the stamp, in page pixels of the rotated axes
    u1: float
    v0: float  # and across it
    v1: float
    ink: float  # grey level of the stamp's ink (its frame's rules)

    @property
    def height(self) -> float:
        return self.v1 - self.v0


def _segments(ink: np.ndarray, least: int) -> np.ndarray:
    """Straight runs of ink at least ``least`` pixels long, as rows of x0, y0, x1, y1."""
    lines = cv2.HoughLinesP(
        ink, 1, np.pi / 360, threshold=least // 2, minLineLength=least, maxLineGap=6
    )
    return np.zeros((0, 4)) if lines is None else np.asarray(lines, float).reshape(-1, 4)


def _angles(segments: np.ndarray) -> np.ndarray:
    dx, dy = segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1]
    return (np.degrees(np.arctan2(-dy, dx)) + 90) % 180 - 90


def _along(angle: float, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Page pixels in the stamp's axes: ``u`` along it, ``v`` across (down the page)."""
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    return x * c - y * s, x * s + y * c


def _ridge(gray: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """The darkest grey across a rule at each step along it."""
    x0, y0, x1, y1 = segment
    n = max(int(np.hypot(x1 - x0, y1 - y0)), 2)
    t = np.linspace(0, 1, n)
    xs, ys = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
    nx, ny = -(y1 - y0) / n, (x1 - x0) / n
    darkest = np.full(n, 255.0)
    for d in range(-SIDE_REACH, SIDE_REACH + 1):
        xi = np.clip(np.rint(xs + d * nx).astype(int), 0, gray.shape[1] - 1)
        yi = np.clip(np.rint(ys + d * ny).astype(int), 0, gray.shape[0] - 1)
        darkest = np.minimum(darkest, gray[yi, xi])
    return darkest


def find_stamp(gray: np.ndarray, scale: float = 0.5) -> Stamp | None:
    """The framed stamp on a straightened page, or None: two long parallel rules at a tilt,
    a fifth to a half of their length apart."""
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ink = np.where(small < 200, 255, 0).astype(np.uint8)
    segments = _segments(ink, int(small.shape[1] * LINE_SHARE))
    if not len(segments):
        return None
    angles = _angles(segments)
    off_axis = np.minimum(np.abs(angles), 90 - np.abs(angles))  # a page turned sideways too
    tilted = (off_axis > MIN_TILT) & (off_axis < MAX_TILT)
    if not tilted.any():
        return None
    angle = float(np.median(angles[tilted]))
    sides = segments[tilted & (np.abs(angles - angle) < 2)] / scale
    if len(sides) < 2:  # tilted rules at scattered angles: no frame of two parallel sides
        return None
    u, v = _along(angle, sides[:, 0::2], sides[:, 1::2])
    length = u.max() - u.min()
    middles = v.mean(axis=1)
    if not 0.1 * length <= middles.max() - middles.min() <= 0.5 * length:
        return None
    level = float(np.median(np.concatenate([_ridge(gray, s) for s in sides])))
    return Stamp(angle, u.min(), u.max(), v.min(), v.max(), level)


def _line_kernel(length: int, angle: float) -> np.ndarray:
    r = length // 2
    kernel = np.zeros((2 * r + 1, 2 * r + 1), np.uint8)
    dx, dy = np.cos(np.radians(angle)) * r, -np.sin(np.radians(angle)) * r
    ends = (round(r - dx), round(r - dy)), (round(r + dx), round(r + dy))
    cv2.line(kernel, ends[0], ends[1], 1, 1)
    return kernel


def _frame_bounds(shape: tuple[int, int], stamp: Stamp, pad: float) -> tuple[int, int, int, int]:
    """The page rows and columns the frame (and ``pad`` round it) lies within."""
    c, s = np.cos(np.radians(stamp.angle)), np.sin(np.radians(stamp.angle))
    us = (stamp.u0 - pad, stamp.u1 + pad)
    vs = (stamp.v0 - pad, stamp.v1 + pad)
    xs = [u * c + v * s for u in us for v in vs]  # back from the stamp's axes to the page's
    ys = [v * c - u * s for u in us for v in vs]
    y0, y1 = max(0, int(min(ys))), min(shape[0], int(np.ceil(max(ys))) + 1)
    x0, x1 = max(0, int(min(xs))), min(shape[1], int(np.ceil(max(xs))) + 1)
    return y0, y1, x0, x1


def _inside(stamp: Stamp, bounds: tuple[int, int, int, int], pad: float) -> np.ndarray:
    """True inside the frame (and ``pad`` round it), over the page rows and columns
    ``bounds``."""
    y0, y1, x0, x1 = bounds
    ys, xs = np.mgrid[y0:y1, x0:x1]
    u, v = _along(stamp.angle, xs, ys)
    return (u > stamp.u0 - pad) & (u < stamp.u1 + pad) & (v > stamp.v0 - pad) & (v < stamp.v1 + pad)


def stamp_area(shape: tuple[int, int], stamp: Stamp, pad: float = PAD) -> np.ndarray:
    """True inside the stamp's frame (and ``pad`` pixels round it)."""
    area = np.zeros(shape, bool)
    y0, y1, x0, x1 = bounds = _frame_bounds(shape, stamp, pad)
    area[y0:y1, x0:x1] = _inside(stamp, bounds, pad)
    return area


def lift_stamp(gray: np.ndarray, stamp: Stamp) -> np.ndarray:
    """``gray`` with the stamp's strokes whited out inside its frame."""
    y0, y1, x0, x1 = bounds = _frame_bounds(gray.shape, stamp, PAD)
    area = _inside(stamp, bounds, PAD)
    crop = gray[y0:y1, x0:x1]
    ink = np.where(crop < INK, 255, 0).astype(np.uint8)
    length = max(int(stamp.height * STROKE_SHARE), MIN_STROKE) | 1
    strokes = np.zeros_like(ink)
    for step in range(0, 180, ANGLE_STEP):
        strokes |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, _line_kernel(length, stamp.angle + step))
    core = cv2.dilate(strokes, np.ones((5, 5), np.uint8)) > 0
    lift = core & area & (cv2.medianBlur(crop, 3) > stamp.ink - DARKER)
    # the strokes' blurred edges: paler than the stamp's ink, so no print's core
    edges = cv2.dilate(strokes, np.ones((EDGE, EDGE), np.uint8)) > 0
    lift |= edges & area & (crop > stamp.ink + PALER)
    out = gray.copy()
    out[y0:y1, x0:x1][lift] = 255
    return out


def without_stamp(gray: np.ndarray) -> np.ndarray:
    """The page with its framed stamp lifted off, or as it is when there is none."""
    stamp = find_stamp(gray)
    return gray if stamp is None else lift_stamp(gray, stamp)
