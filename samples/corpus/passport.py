"""Passport data pages (ICAO 9303 TD3) drawn with Pillow at 300 dpi.

The machine-readable zone is two lines of 44 characters in DejaVu Sans Mono (an OCR-B-like
monospace face). Check digits use the 7-3-1 weighting over digits, letters (A=10 .. Z=35)
and the filler ``<`` (0).
"""

from __future__ import annotations

import random
import unicodedata
from datetime import date, timedelta
from typing import Any

from faker import Faker
from PIL import Image, ImageDraw, ImageFont

from samples.corpus.fonts import MONO, SANS, SANS_BOLD, font_file
from samples.corpus.values import LOCALES, date_between, format_date, hard_name

DPI = 300
SIZE_MM = (125, 88)  # TD3 data page
PASSPORT_ERRORS = ("id_checksum",)
STATE = {"en_US": "USA", "en_GB": "GBR", "de_DE": "D", "zh_CN": "CHN"}
NATIONALITY_TEXT = {
    "en_US": "UNITED STATES OF AMERICA",
    "en_GB": "BRITISH CITIZEN",
    "de_DE": "DEUTSCH",
    "zh_CN": "CHINESE",
}
CN_CITIES = ["BEIJING", "SHANGHAI", "GUANGZHOU", "CHENGDU", "WUHAN", "HANGZHOU"]
TRANSLITERATE = {"Ä": "AE", "Ö": "OE", "Ü": "UE", "ß": "SS", "Å": "AA", "Ø": "OE", "Æ": "AE"}


def char_value(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    if ch == "<":
        return 0
    return ord(ch) - ord("A") + 10


def check_digit(text: str) -> str:
    """ICAO 9303 check digit of ``text``."""
    return str(sum(char_value(c) * (7, 3, 1)[i % 3] for i, c in enumerate(text)) % 10)


def mrz_name(text: str) -> str:
    """``text`` in MRZ characters: upper case, transliterated, fillers for spaces/hyphens."""
    out = []
    for ch in text.upper():
        if ch in TRANSLITERATE:
            out.append(TRANSLITERATE[ch])
        elif ch in " -":
            out.append("<")
        else:
            base = unicodedata.normalize("NFKD", ch)[0]
            if "A" <= base <= "Z":
                out.append(base)
    return "".join(out)


def td3_mrz(
    *,
    state: str,
    surname: str,
    given_names: str,
    number: str,
    nationality: str,
    birth: date,
    sex: str,
    expiry: date,
    personal_number: str = "",
) -> tuple[str, str]:
    """The two 44-character lines of a TD3 machine-readable zone."""
    names = f"{mrz_name(surname)}<<{mrz_name(given_names)}"
    line1 = f"P<{state:<<3}{names}"[:44].ljust(44, "<")
    doc = number.ljust(9, "<")
    born = f"{birth:%y%m%d}"
    expires = f"{expiry:%y%m%d}"
    personal = personal_number.ljust(14, "<")
    personal_check = check_digit(personal) if personal_number else "<"
    line2 = (
        f"{doc}{check_digit(doc)}{nationality:<<3}{born}{check_digit(born)}{sex}"
        f"{expires}{check_digit(expires)}{personal}{personal_check}"
    )
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    return line1, line2 + check_digit(composite)


def passport_values(seed: int, today: date, *, error: str | None = None) -> dict[str, Any]:
    """The truth of one passport data page; ``error`` may be ``id_checksum``."""
    if error not in (None, *PASSPORT_ERRORS):
        raise ValueError(f"passports cannot carry planted error {error!r}")
    rng = random.Random(f"passport-{seed}")
    locale = rng.choice([*LOCALES, "zh_CN"])
    fake = Faker(locale)
    fake.seed_instance(seed)
    sex = rng.choice("MF")
    if locale == "zh_CN":
        surname, given = fake.last_romanized_name(), fake.first_romanized_name()
    else:
        full = hard_name(rng, fake).split()
        surname, given = full[-1], " ".join(full[:-1]) or fake.first_name()
    birth = date_between(rng, date(1945, 1, 1), date(2005, 12, 31))
    issued = date_between(rng, today - timedelta(days=9 * 365), today - timedelta(days=30))
    expiry = issued + timedelta(days=3652)  # ten years less a day, leap days aside
    letters = "CFGHJKLMNPRTVWXYZ"
    number = "".join(rng.choice(letters + "0123456789") for _ in range(9))
    state = STATE[locale]
    line1, line2 = td3_mrz(
        state=state,
        surname=surname,
        given_names=given,
        number=number,
        nationality=state,
        birth=birth,
        sex=sex,
        expiry=expiry,
    )
    if error == "id_checksum":  # the document number's check digit is wrong
        line2 = line2[:9] + str((int(line2[9]) + rng.randrange(1, 10)) % 10) + line2[10:]
    return {
        "document_number": number,
        "issuing_state": state,
        "surname": surname,
        "given_names": given,
        "nationality": state,
        "date_of_birth": birth.isoformat(),
        "sex": sex,
        "place_of_birth": rng.choice(CN_CITIES) if locale == "zh_CN" else fake.city().upper(),
        "date_of_issue": issued.isoformat(),
        "date_of_expiry": expiry.isoformat(),
        "mrz_line1": line1,
        "mrz_line2": line2,
        "_formats": {"date": "long", "nationality_text": NATIONALITY_TEXT[locale]},
    }


def _px(mm: float) -> int:
    return round(mm / 25.4 * DPI)


def render_passport(values: dict[str, Any]) -> Image.Image:
    """The data page as a 300-dpi greyscale image."""
    width, height = _px(SIZE_MM[0]), _px(SIZE_MM[1])
    img = Image.new("L", (width, height), 246)
    draw = ImageDraw.Draw(img)
    small = ImageFont.truetype(str(font_file(SANS)), 22)
    value = ImageFont.truetype(str(font_file(SANS_BOLD)), 30)
    title = ImageFont.truetype(str(font_file(SANS_BOLD)), 40)
    mono = ImageFont.truetype(str(font_file(MONO)), 50)
    draw.text((_px(5), _px(4)), "PASSPORT  /  PASSEPORT", font=title, fill=30)
    draw.rectangle((_px(5), _px(14), _px(38), _px(58)), outline=90, width=3, fill=215)
    draw.text((_px(12), _px(34)), "PHOTO", font=small, fill=120)
    rows = [
        ("Type / Code", f"P    {values['issuing_state']}"),
        ("Passport No.", values["document_number"]),
        ("Surname", values["surname"]),
        ("Given names", values["given_names"]),
        ("Nationality", values["_formats"]["nationality_text"]),
        ("Date of birth / Sex", f"{_long(values['date_of_birth'])}    {values['sex']}"),
        ("Place of birth", values["place_of_birth"]),
        ("Date of issue", _long(values["date_of_issue"])),
        ("Date of expiry", _long(values["date_of_expiry"])),
    ]
    x, y = _px(42), _px(13)
    for label, text in rows:
        draw.text((x, y), label, font=small, fill=90)
        draw.text((x, y + 24), text, font=value, fill=20)
        y += _px(5.4)
    mrz_y = height - _px(17)
    for i, line in enumerate((values["mrz_line1"], values["mrz_line2"])):
        draw.text((_px(4), mrz_y + i * _px(6)), line, font=mono, fill=10)
    return img


def _long(iso: str) -> str:
    return format_date(date.fromisoformat(iso), "long").upper()
