"""The two ways rekey runs Tesseract, behind one interface (:class:`Engine`).

- ``pytesseract`` (the default): the ``tesseract`` command, one process per call. Nothing to
  install beyond Debian's ``tesseract-ocr``; each call pays a process start and a model load
  (~0.1 s here) and the image's trip through a file.
- ``tesserocr``: Tesseract's own C++ API in this process (the ``inprocess`` extra), reading
  Debian's models (the tessdata folder the ``tesseract`` command lists). The model is loaded
  once per process, language and mode; a call costs only the reading. It pays where rekey
  makes many calls (zonal reads, second readings) and on large pages; ``make bench``
  measures both (``realworld.funsd`` and ``realworld.funsd_inprocess``, ``speed.ocr_engines``).

Choose with the setting ``ocr_engine`` (``REKEY_OCR_ENGINE``). Both return the words of
Tesseract's TSV output, so the same image gives the same kind of result either way.

A third engine reads with other eyes: ``rapidocr``, PaddleOCR's PP-OCRv4 detector and
recogniser (one model for Chinese and Latin script) run by ONNX Runtime, from the
``rapidocr-onnxruntime`` wheel, which carries its models. Its mistakes are not Tesseract's,
so where the two read a field alike the reading is better founded than either alone
(:mod:`extractors.crosscheck`).
"""

from __future__ import annotations

import re
import subprocess
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pytesseract
from PIL import Image

from rekey.errors import BadDocument, ConfigError

OEM_LSTM = 1  # the LSTM recogniser only
VARIABLES = {"tessedit_do_invert": "0"}  # no look for white-on-black text: costs, never pays
OSD_VARIABLES = {"min_characters_to_try": "5"}


@dataclass(frozen=True)
class RawWord:
    """A word in pixel coordinates of the image Tesseract was given."""

    text: str
    left: int
    top: int
    width: int
    height: int
    confidence: float  # 0..1


class Engine(Protocol):
    name: str

    def words(self, gray: np.ndarray, lang: str, psm: int, chars: str | None) -> list[RawWord]:
        """The words Tesseract reads on ``gray`` (``chars``: only these may be read)."""

    def orientation(self, gray: np.ndarray) -> tuple[int, float] | None:
        """OSD: the clockwise turn that makes the page upright and its confidence."""


def as_bitmap(gray: np.ndarray) -> Image.Image:
    """The page as pytesseract hands it over: BMP, written without compressing (PNG, its
    default, costs ~30 ms a page to encode for nothing)."""
    image = Image.fromarray(gray)
    image.format = "BMP"
    return image


def raw_words(columns: dict[str, list[Any]]) -> list[RawWord]:
    """The non-empty words of Tesseract's TSV, by column."""
    rows = zip(
        columns["text"],
        columns["left"],
        columns["top"],
        columns["width"],
        columns["height"],
        columns["conf"],
        strict=True,
    )
    return [
        RawWord(str(text).strip(), int(left), int(top), int(w), int(h), max(0.0, float(c)) / 100)
        for text, left, top, w, h, c in rows
        if str(text).strip()
    ]


TSV_COLUMNS = ("level", "page", "block", "par", "line", "word")
TSV_COLUMNS += ("left", "top", "width", "height", "conf", "text")
WORD_LEVEL = "5"


def parse_tsv(tsv: str) -> dict[str, list[str]]:
    """Tesseract's TSV (no header, as its API returns it) → its word rows, by column."""
    rows = [line.split("\t") for line in tsv.splitlines()]
    words = [row for row in rows if len(row) == len(TSV_COLUMNS) and row[0] == WORD_LEVEL]
    return {name: [row[i] for row in words] for i, name in enumerate(TSV_COLUMNS)}


class Subprocess:
    """``tesseract`` run by pytesseract, one process per call."""

    name = "pytesseract"

    def words(self, gray: np.ndarray, lang: str, psm: int, chars: str | None) -> list[RawWord]:
        variables = VARIABLES | ({"tessedit_char_whitelist": chars} if chars else {})
        config = f"--psm {psm} --oem {OEM_LSTM} " + " ".join(
            f"-c {key}={value}" for key, value in variables.items()
        )
        try:
            data = pytesseract.image_to_data(
                as_bitmap(gray), lang=lang, config=config, output_type=pytesseract.Output.DICT
            )
        except pytesseract.TesseractError as exc:
            raise BadDocument(f"OCR failed: {exc.message or exc}") from exc
        return raw_words(data)

    def orientation(self, gray: np.ndarray) -> tuple[int, float] | None:
        config = "--psm 0 " + " ".join(f"-c {k}={v}" for k, v in OSD_VARIABLES.items())
        try:
            found = pytesseract.image_to_osd(
                gray, config=config, output_type=pytesseract.Output.DICT
            )
        except pytesseract.TesseractError:
            return None
        return int(found["rotate"]), float(found["orientation_conf"])


LISTED_IN = re.compile(r'"(.+?)"')


@cache
def list_langs() -> tuple[str, ...]:
    """What ``tesseract --list-langs`` prints, line by line: where its models are, then
    one model a line (pytesseract's own list drops ``Latin``). Empty when it cannot run."""
    try:
        listed = subprocess.run(
            [pytesseract.pytesseract.tesseract_cmd, "--list-langs"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return ()
    return tuple(listed.stdout.splitlines())


@cache
def tessdata_dir() -> Path:
    """Where the ``tesseract`` command finds its models (Debian's, so both engines read
    with the same ones)."""
    if not list_langs():
        raise ConfigError(
            "cannot ask tesseract where its models are; install tesseract-ocr "
            "(scripts/bootstrap does)",
            key="ocr_engine",
        )
    header = list_langs()[0]
    found = LISTED_IN.search(header)
    if found is None:
        raise ConfigError(f"tesseract --list-langs said {header!r}", key="ocr_engine")
    return Path(found.group(1))


class InProcess:
    """Tesseract's API in this process (tesserocr): one loaded model per thread, language,
    page segmentation mode and character list."""

    name = "tesserocr"

    def __init__(self) -> None:
        try:
            import tesserocr
        except ImportError as exc:
            raise ConfigError(
                "the in-process engine needs tesserocr: pip install 'rekey[inprocess]', "
                "or set REKEY_OCR_ENGINE=pytesseract",
                key="ocr_engine",
            ) from exc
        self._tesserocr = tesserocr
        self._local = threading.local()

    def _api(self, lang: str, psm: int, variables: dict[str, str]) -> Any:
        apis = self._local.__dict__.setdefault("apis", {})
        key = (lang, psm, tuple(sorted(variables.items())))
        if key not in apis:
            try:
                api = self._tesserocr.PyTessBaseAPI(
                    path=f"{tessdata_dir()}/", lang=lang, psm=psm, oem=OEM_LSTM
                )
            except RuntimeError as exc:
                raise BadDocument(f"OCR failed: cannot load the {lang!r} model ({exc})") from exc
            for name, value in variables.items():
                api.SetVariable(name, value)
            apis[key] = api
        return apis[key]

    def words(self, gray: np.ndarray, lang: str, psm: int, chars: str | None) -> list[RawWord]:
        variables = VARIABLES | ({"tessedit_char_whitelist": chars} if chars else {})
        api = self._api(lang, psm, variables)
        api.SetImage(Image.fromarray(gray))
        try:
            return raw_words(parse_tsv(api.GetTSVText(0)))
        finally:
            api.Clear()

    def orientation(self, gray: np.ndarray) -> tuple[int, float] | None:
        api = self._api("osd", 0, OSD_VARIABLES)
        api.SetImage(Image.fromarray(gray))
        try:
            found = api.DetectOrientationScript()
        finally:
            api.Clear()
        if not found:
            return None
        return (360 - int(found["orient_deg"])) % 360, float(found["orient_conf"])


HAN_OR_MARK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def line_words(chars: list[str], boxes: list[Any], scores: list[float]) -> list[RawWord]:
    """A line read by PP-OCR, character by character, as words: a space ends a word, and
    each Chinese character (or full-width mark) is a word of its own, as Tesseract gives
    them. A word's confidence is its least sure character's."""
    words: list[RawWord] = []
    run: list[tuple[str, Any, float]] = []

    def close() -> None:
        if run:
            xs = [x for _, box, _ in run for x, _ in box]
            ys = [y for _, box, _ in run for _, y in box]
            left, top = int(min(xs)), int(min(ys))
            text = "".join(ch for ch, _, _ in run)
            width, height = int(max(xs)) - left, int(max(ys)) - top
            words.append(RawWord(text, left, top, width, height, min(s for *_, s in run)))
            run.clear()

    for ch, box, score in zip(chars, boxes, scores, strict=False):
        if not ch.strip():
            close()
        elif HAN_OR_MARK.match(ch):
            close()
            run.append((ch, box, float(score)))
            close()
        else:
            run.append((ch, box, float(score)))
    close()
    return words


class Paddle:
    """PP-OCRv4 (detector, then recogniser) by ONNX Runtime: one model set per thread,
    each on one core, as Tesseract runs. ``lang``, ``psm`` and ``chars`` are Tesseract's
    and are not used: the model reads Chinese and Latin script, finding lines itself."""

    name = "rapidocr"

    def __init__(self) -> None:
        try:
            import rapidocr_onnxruntime
        except ImportError as exc:
            raise ConfigError(
                "the rapidocr engine needs rapidocr-onnxruntime: run scripts/bootstrap",
                key="ocr_engine",
            ) from exc
        self._module = rapidocr_onnxruntime
        self._local = threading.local()

    def _reader(self) -> Any:
        if not hasattr(self._local, "reader"):
            one = {"intra_op_num_threads": 1, "inter_op_num_threads": 1}
            self._local.reader = self._module.RapidOCR(**one, use_cls=False)
        return self._local.reader

    def words(self, gray: np.ndarray, lang: str, psm: int, chars: str | None) -> list[RawWord]:
        try:
            lines, _ = self._reader()(np.ascontiguousarray(gray), return_word_box=True)
        except Exception as exc:  # ONNX Runtime raises its own kinds, all a failed reading
            raise BadDocument(f"OCR failed (rapidocr): {exc}") from exc
        return [w for line in lines or [] for w in line_words(line[4], line[3], line[5])]

    def orientation(self, gray: np.ndarray) -> tuple[int, float] | None:
        return None  # turning pages upright is Tesseract's (OSD)


ENGINES = {"pytesseract": Subprocess, "tesserocr": InProcess, "rapidocr": Paddle}


@cache
def engine(name: str) -> Engine:
    """The engine called ``name`` (one per process)."""
    if name not in ENGINES:
        raise ConfigError(f"unknown OCR engine {name!r}: use one of {sorted(ENGINES)}")
    return ENGINES[name]()
