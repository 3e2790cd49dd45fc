"""The figure registry: one small function per figure, found by its path in the result file.

Adding a figure is one decorated function::

    @figure("speed.zonal_vs_fullpage")
    def zonal_vs_fullpage(ctx: Context) -> float:
        ...                                   # return the value (a number or a dict)
        raise Missing("zonal OCR not there")  # or say why it cannot be measured yet

The value lands at that path in ``latest.json`` (``"accuracy"`` fills the whole section).
A timed figure returns :class:`benchmarks.timing.Measured` (value and spread over its
repeats); the spread lands beside it as ``<path>_spread``.
A figure that raises :class:`Missing` (or fails) is written as ``null`` and named in
``missing``; a figure may also note missing parts of its value with :meth:`Context.note`.
Expensive work several figures share (the accuracy pass) goes through :meth:`Context.once`.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.timing import Measured
from rekey.models import Truth
from rekey.settings import Settings

log = logging.getLogger("benchmarks")


class Missing(Exception):
    """The figure cannot be measured yet; the message says why."""


FigureFn = Callable[["Context"], Any]


@dataclass(frozen=True)
class Figure:
    path: str  # dotted path in the result file, e.g. "speed.ocr_vs_tesseract"
    fn: FigureFn


FIGURES: dict[str, Figure] = {}


def figure(path: str) -> Callable[[FigureFn], FigureFn]:
    def register(fn: FigureFn) -> FigureFn:
        if path in FIGURES:
            raise ValueError(f"figure {path!r} is registered twice")
        FIGURES[path] = Figure(path, fn)
        return fn

    return register


@dataclass(frozen=True)
class CorpusDoc:
    path: Path
    truth: Truth

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def row(self) -> str:
        return f"{self.truth.kind}/{self.truth.rendition}"

    @property
    def scanned(self) -> bool:
        return self.truth.rendition not in ("digital", "flattened", "csv", "xlsx")


@dataclass
class Context:
    """What every figure may use: settings, the corpus, options, and shared results."""

    settings: Settings
    corpus: Path
    documents: list[CorpusDoc]
    today: date
    out: Path  # results folder
    work: Path  # scratch data folder for this run (under var/bench/)
    repeat: int = 5
    cases: int = 5  # keying cases per repeat
    flow_docs: int = 10  # documents through the flow for orchestration_overhead
    workers: int = 2
    realworld: Path | None = None  # ../shared/realworld, when it is there
    realworld_pages: int | None = None  # FUNSD pages to read (None: all)
    seed: int | None = None  # the corpus seed
    holdout: Context | None = None  # the accuracy figures' context on the held-out corpus
    missing: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # more keys for the result file
    _cache: dict[str, Any] = field(default_factory=dict)

    def note(self, path: str, reason: str) -> None:
        self.missing.append(f"{path}: {reason}")

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time; its value (or its exception) every time after."""
        if key not in self._cache:
            try:
                self._cache[key] = (True, compute())
            except Exception as exc:
                self._cache[key] = (False, exc)
        ok, value = self._cache[key]
        if not ok:
            raise value
        return value

    def pick(self, test: Callable[[CorpusDoc], bool], limit: int | None = None) -> list[CorpusDoc]:
        chosen = [d for d in self.documents if test(d)]
        return chosen[:limit] if limit is not None else chosen


def with_overrides(settings: Settings, **overrides: Any) -> Settings:
    """A fresh Settings (no cached paths carried over) with ``overrides``; keys Settings
    does not have (yet) are left out."""
    known = {k: v for k, v in overrides.items() if k in Settings.model_fields}
    return Settings(**(settings.model_dump() | known))


def selected(only: list[str] | None) -> list[Figure]:
    """Figures by path, by a path prefix (``speed``) or by their last part (``ocr_vs_...``)."""
    if not only:
        return list(FIGURES.values())
    wanted = [
        f
        for f in FIGURES.values()
        if any(
            f.path == o or f.path.startswith(o + ".") or f.path.rsplit(".", 1)[-1] == o
            for o in only
        )
    ]
    unknown = [
        o
        for o in only
        if not any(
            f.path == o or f.path.startswith(o + ".") or f.path.rsplit(".", 1)[-1] == o
            for f in FIGURES.values()
        )
    ]
    if unknown:
        raise SystemExit(f"unknown figure(s): {', '.join(unknown)}; known: {', '.join(FIGURES)}")
    return wanted


def set_path(result: dict[str, Any], path: str, value: Any) -> None:
    head, _, last = path.rpartition(".")
    node = result
    for part in head.split(".") if head else []:
        node = node.setdefault(part, {})
    if isinstance(value, dict) and isinstance(node.get(last), dict):
        node[last].update(value)
    else:
        node[last] = value


def run_figure(fig: Figure, ctx: Context, result: dict[str, Any]) -> None:
    """Run one figure into ``result``; a Missing or a failure becomes null + a missing entry."""
    log.info("figure %s ...", fig.path)
    try:
        value = fig.fn(ctx)
    except Missing as exc:
        ctx.note(fig.path, str(exc))
        value = None
    except Exception as exc:  # a broken figure is reported, never written as a number
        log.error("figure %s failed:\n%s", fig.path, traceback.format_exc())
        ctx.note(fig.path, f"failed: {type(exc).__name__}: {exc!s:.300}")
        value = None
    if isinstance(value, Measured):  # a timed figure: its spread goes beside it
        set_path(result, f"{fig.path}_spread", value.spread)
        value = value.value
    set_path(result, fig.path, value)
