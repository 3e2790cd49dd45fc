"""Server-side checks of a posted Ledgerline form.

The browser posts what was typed (JSON: ``{"values": {key: text}, "lines": [{key: text}]}``);
nothing is trusted from it. :func:`check` answers the cleaned record (ISO dates, plain
decimals, option values instead of codes) and the field errors the page shows, each tied to
the field it is about (``"date_of_birth"``, ``"lines.1.charge"``) or to the whole form
(``None``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from samples.backoffice.forms import parse_amount
from samples.spa.screens import DMY, ISO, Field, Screen

DATE_PATTERNS = {DMY: (r"\d{2}/\d{2}/\d{4}", "%d/%m/%Y"), ISO: (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d")}
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class FieldError:
    field: str | None
    message: str

    def as_json(self) -> dict[str, str | None]:
        return {"field": self.field, "message": self.message}


def parse_date(text: str, date_format: str) -> str:
    """*text* in the screen's *date_format* → ISO ``YYYY-MM-DD``; raises ValueError."""
    pattern, strp = DATE_PATTERNS[date_format]
    if not re.fullmatch(pattern, text):
        raise ValueError(text)
    return datetime.strptime(text, strp).date().isoformat()


def as_text(value: object) -> str:
    """A posted JSON value as text; anything but a string or a number reads as blank."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value)


def check_field(field: Field, value: object, screen: Screen, where: str = "") -> tuple[str, str]:
    """One posted value → (cleaned value, error message or "")."""
    caption = where + field.caption
    if field.kind == "checkbox":
        return ("Yes" if value is True else "No"), ""
    text = as_text(value)
    text = text.strip() if field.kind == "textarea" else " ".join(text.split())
    if field.kind in ("code", "country"):
        text = text.replace(" ", "").upper()
    if not text:
        return "", f"{caption} is required" if field.required else ""
    if field.kind == "select":
        index = int(text) - 1 if text.isdigit() else -1
        if not 0 <= index < len(field.options):
            choices = ", ".join(shown for _, shown in field.options)
            return "", f"{caption} must be one of {choices}"
        return field.options[index][0], ""
    if field.kind == "date":
        try:
            iso = parse_date(text, screen.date_format or ISO)
        except ValueError:
            return text, f"{caption} must be a valid date in the form {screen.date_format}"
        if "birth" in field.key and date.fromisoformat(iso) > date.today():
            return iso, f"{caption} cannot be in the future"
        return iso, ""
    if field.kind == "amount":
        try:
            amount = parse_amount(text)
        except ValueError:
            return text, f"{caption} must be a number like 1,234.56"
        return f"{amount:.2f}", "" if amount > 0 else f"{caption} must be greater than 0"
    if field.kind == "email" and not EMAIL.fullmatch(text):
        return text, f"{caption} is not an e-mail address"
    if field.kind == "country" and not re.fullmatch(r"[A-Z]{1,3}", text):
        return text, f"{caption} must be a country code of 1 to 3 letters"
    if field.pattern and not re.fullmatch(field.pattern, text):
        form = f" in the form {field.hint}" if field.hint else ""
        return text, f"{caption} is not valid{form}"
    return text, ""


def check(
    screen: Screen, values: dict[str, object], lines: list[dict[str, object]]
) -> tuple[dict[str, str], list[dict[str, str]], list[FieldError]]:
    """The posted form → (clean values, clean non-blank lines, errors)."""
    clean: dict[str, str] = {}
    errors: list[FieldError] = []
    for field in screen.fields:
        clean[field.key], problem = check_field(field, values.get(field.key), screen)
        if problem:
            errors.append(FieldError(field.key, problem))
    clean_lines = check_lines(screen, lines, errors) if screen.line_fields else []
    if not errors:
        errors += RULES.get(screen.id, no_rule)(clean, clean_lines)
    return clean, clean_lines, errors


def check_lines(
    screen: Screen, lines: list[dict[str, object]], errors: list[FieldError]
) -> list[dict[str, str]]:
    """The non-blank service lines cleaned; their problems appended to *errors*."""
    posted = [x for x in lines if isinstance(x, dict) and not blank(x)]
    if not posted:
        errors.append(FieldError("lines", "Enter at least one service line"))
    if len(posted) > screen.max_lines:
        errors.append(FieldError("lines", f"At most {screen.max_lines} service lines"))
    clean = []
    for number, line in enumerate(posted[: screen.max_lines], 1):
        row = {}
        for field in screen.line_fields:
            value, problem = check_field(field, line.get(field.key), screen, f"Line {number}: ")
            row[field.key] = value
            if problem:
                errors.append(FieldError(f"lines.{number}.{field.key}", problem))
        clean.append(row)
    return clean


def blank(line: dict[str, object]) -> bool:
    return not any(as_text(v).strip() for v in line.values())


def no_rule(values: dict[str, str], lines: list[dict[str, str]]) -> list[FieldError]:
    return []


def tax_rule(values: dict[str, str], lines: list[dict[str, str]]) -> list[FieldError]:
    """A W-9 carries a social security number or an employer identification number."""
    if bool(values["ssn"]) == bool(values["ein"]):
        message = "Enter either a social security number or an employer identification number"
        return [FieldError("ssn", message)]
    return []


def identity_rule(values: dict[str, str], lines: list[dict[str, str]]) -> list[FieldError]:
    if values["date_of_expiry"] <= values["date_of_birth"]:
        return [FieldError("date_of_expiry", "Date of expiry must be after the date of birth")]
    return []


def medical_rule(values: dict[str, str], lines: list[dict[str, str]]) -> list[FieldError]:
    """Box 28 is the sum of the lines' charges (box 24F)."""
    total = sum((Decimal(x["charge"]) for x in lines), Decimal(0))
    if Decimal(values["total_charge"]) != total:
        message = f"Total charge must equal the sum of the line charges ({total:,.2f})"
        return [FieldError("total_charge", message)]
    return []


RULES = {"tax": tax_rule, "identity": identity_rule, "medical": medical_rule}
