"""The claim entry form as data: captions, legacy input names, and server-side validation.

The form is rendered from :data:`CLAIM_FIELDS` in order, so a later chaos knob can shuffle
the order or split the list over two steps without touching the templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

CURRENCIES = ("EUR", "USD", "GBP", "CNY")

Widget = Literal["text", "select", "textarea"]


@dataclass(frozen=True)
class FormField:
    key: str  # column in the claims table
    caption: str  # the visible text in the cell left of the input
    name: str  # the legacy input name and id
    widget: Widget = "text"
    required: bool = True
    hint: str = ""
    options: tuple[str, ...] = ()


CLAIM_FIELDS: tuple[FormField, ...] = (
    FormField("policy_number", "Policy number", "f_0031"),
    FormField("claimant_name", "Claimant name", "f_0032"),
    FormField("date_of_loss", "Date of loss", "f_0033", hint="DD/MM/YYYY"),
    FormField("amount", "Amount claimed", "f_0034", hint="e.g. 1,234.56"),
    FormField("currency", "Currency", "f_0035", widget="select", options=CURRENCIES),
    FormField("description", "Description", "f_0036", widget="textarea", required=False),
    FormField("external_ref", "External ref", "f_0037", required=False),
)

_AMOUNT = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$")


def parse_date(text: str) -> str:
    """``DD/MM/YYYY`` → ISO ``YYYY-MM-DD``; raises ValueError."""
    if not re.fullmatch(r"\d{2}/\d{2}/\d{4}", text):
        raise ValueError(text)
    return datetime.strptime(text, "%d/%m/%Y").date().isoformat()


def parse_amount(text: str) -> Decimal:
    """``1,234.56`` or ``1234.56`` → Decimal; raises ValueError."""
    if not _AMOUNT.fullmatch(text):
        raise ValueError(text)
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards
        raise ValueError(text) from exc


def read_form(form: dict[str, str]) -> dict[str, str]:
    """Posted legacy names (``f_0031``) → values keyed by :attr:`FormField.key`.

    A ``<select>`` posts the option's numeric code; it is turned back into the option text.
    """
    values: dict[str, str] = {}
    for field in CLAIM_FIELDS:
        value = form.get(field.name, "")
        if field.options and value:
            index = int(value) - 1 if value.isdigit() else -1
            value = field.options[index] if 0 <= index < len(field.options) else "?"
        values[field.key] = value
    return values


def validate_claim(raw: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Check posted values (keyed by :attr:`FormField.key`); return cleaned values and errors."""
    clean: dict[str, str] = {}
    errors: list[str] = []
    for field in CLAIM_FIELDS:
        value = " ".join(raw.get(field.key, "").split())
        if field.widget == "textarea":
            value = raw.get(field.key, "").strip()
        if not value:
            if field.required:
                errors.append(f"{field.caption} is required")
            clean[field.key] = ""
            continue
        clean[field.key] = value
    if clean["date_of_loss"]:
        try:
            clean["date_of_loss"] = parse_date(clean["date_of_loss"])
        except ValueError:
            errors.append("Date of loss must be a valid date in the form DD/MM/YYYY")
    if clean["amount"]:
        try:
            amount = parse_amount(clean["amount"])
        except ValueError:
            errors.append("Amount claimed must be a number like 1,234.56")
        else:
            if amount <= 0:
                errors.append("Amount claimed must be greater than 0")
            clean["amount"] = f"{amount:.2f}"
    if clean["currency"] and clean["currency"] not in CURRENCIES:
        errors.append("Currency must be one of " + ", ".join(CURRENCIES))
    return clean, errors


def display(record: dict[str, str]) -> dict[str, str]:
    """Stored values → the legacy display format (DD/MM/YYYY, 1,234.56)."""
    shown = dict(record)
    if record.get("date_of_loss"):
        shown["date_of_loss"] = datetime.strptime(record["date_of_loss"], "%Y-%m-%d").strftime(
            "%d/%m/%Y"
        )
    if record.get("amount"):
        shown["amount"] = f"{Decimal(record['amount']):,.2f}"
    return shown
