"""The back office's entry forms as data: captions, legacy input names, validation, display.

Forms are rendered from these tuples, so the chaos knob can shuffle the row order without
touching the templates. Input names and ids are meaningless legacy codes (``f_0031``); only
the caption in the table cell beside an input says what it is.

Values are stored canonically (ISO dates, plain decimals) and shown in the legacy format
(``DD/MM/YYYY``, ``1,234.56``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

CURRENCIES = ("EUR", "USD", "GBP", "CNY")
NATIONALITIES = (
    "Austria",
    "Belgium",
    "China",
    "France",
    "Germany",
    "Ireland",
    "Italy",
    "Netherlands",
    "Spain",
    "Switzerland",
    "United Kingdom",
    "United States",
)
ID_TYPES = ("Passport", "Personalausweis", "National ID card", "Driving licence")
# a claim's claimant may also show a residence permit or a Chinese resident identity card
CLAIM_ID_TYPES = (*ID_TYPES, "Residence permit", "Resident ID")
INCOME_BANDS = ("< 25,000", "25,000 - 50,000", "50,000 - 100,000", "100,000 - 250,000", "> 250,000")
SOURCES_OF_FUNDS = ("Salary", "Savings", "Inheritance", "Business income", "Pension", "Investments")
YES_NO = ("No", "Yes")

Kind = Literal["text", "date", "amount", "select", "textarea", "email", "account"]


@dataclass(frozen=True)
class FormField:
    key: str  # column in the table
    caption: str  # the visible text in the cell left of the input
    name: str  # the legacy input name and id
    kind: Kind = "text"
    required: bool = True
    hint: str = ""
    options: tuple[str, ...] = ()

    @property
    def widget(self) -> str:
        return self.kind if self.kind in ("select", "textarea") else "text"


CLAIM_FIELDS: tuple[FormField, ...] = (
    FormField("policy_number", "Policy number", "f_0031"),
    FormField("claimant_name", "Claimant name", "f_0032"),
    FormField("date_of_loss", "Date of loss", "f_0033", "date", hint="DD/MM/YYYY"),
    FormField("amount", "Amount claimed", "f_0034", "amount", hint="e.g. 1,234.56"),
    FormField("currency", "Currency", "f_0035", "select", options=CURRENCIES),
    FormField("description", "Description", "f_0036", "textarea", required=False),
    FormField("external_ref", "External ref", "f_0037", required=False),
    FormField("id_type", "ID type", "f_0038", "select", False, options=CLAIM_ID_TYPES),
    FormField("id_number", "ID number", "f_0039", required=False),
)

PAYOUT_FIELDS: tuple[FormField, ...] = (
    FormField("payout_account", "Payout account", "f_0041", "account", required=False),
)

# Expense line items: one row per item; input names carry the row number, f_0101_3.
LINE_FIELDS: tuple[FormField, ...] = (
    FormField("date", "Date", "f_0101", "date"),
    FormField("description", "Description", "f_0102"),
    FormField("amount", "Amount", "f_0103", "amount"),
)
MAX_LINES = 30

CUSTOMER_FIELDS: tuple[FormField, ...] = (
    FormField("full_name", "Full name", "f_0211"),
    FormField("date_of_birth", "Date of birth", "f_0212", "date", hint="DD/MM/YYYY"),
    FormField("nationality", "Nationality", "f_0213", "select", options=NATIONALITIES),
    FormField("id_type", "ID type", "f_0214", "select", options=ID_TYPES),
    FormField("id_number", "ID number", "f_0215"),
    FormField("address_line1", "Address", "f_0216"),
    FormField("address_line2", "Address (cont.)", "f_0217", required=False),
    FormField("phone", "Phone", "f_0218", required=False),
    FormField("email", "E-mail", "f_0219", "email", required=False),
    FormField("occupation", "Occupation", "f_0220", required=False),
    FormField("employer", "Employer", "f_0221", required=False),
    FormField("income_band", "Income band", "f_0222", "select", options=INCOME_BANDS),
    FormField(
        "source_of_funds", "Source of funds", "f_0223", "select", False, options=SOURCES_OF_FUNDS
    ),
    FormField("tax_residency", "Tax residency", "f_0224", required=False, hint="e.g. GB"),
    FormField("pep", "Politically exposed", "f_0225", "select", options=YES_NO),
    FormField("external_ref", "External ref", "f_0226", required=False),
)

_AMOUNT = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$")
# an IBAN, or a bank card number (a UnionPay card for claims paid out in CNY)
_ACCOUNT = re.compile(r"^([A-Z]{2}\d{2}[A-Z0-9]{8,30}|\d{16,19})$")


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


def read_form(fields: tuple[FormField, ...], form: dict[str, str], suffix: str = "") -> dict:
    """Posted legacy names (``f_0031``) → values keyed by :attr:`FormField.key`.

    A ``<select>`` posts the option's numeric code; it is turned back into the option text.
    """
    values: dict[str, str] = {}
    for field in fields:
        value = form.get(field.name + suffix, "")
        if field.options and value:
            index = int(value) - 1 if value.isdigit() else -1
            value = field.options[index] if 0 <= index < len(field.options) else "?"
        values[field.key] = value
    return values


def read_lines(form: dict[str, str]) -> list[dict[str, str]]:
    """The posted line items, blank rows left out."""
    lines = []
    for number in range(1, MAX_LINES + 1):
        row = read_form(LINE_FIELDS, form, f"_{number}")
        if any(v.strip() for v in row.values()):
            lines.append(row)
    return lines


def validate(
    fields: tuple[FormField, ...], raw: dict[str, str], where: str = ""
) -> tuple[dict[str, str], list[str]]:
    """Check posted values; return the cleaned (canonical) values and the error messages."""
    clean: dict[str, str] = {}
    errors: list[str] = []
    for field in fields:
        caption = where + field.caption
        value = raw.get(field.key, "")
        value = value.strip() if field.kind == "textarea" else " ".join(value.split())
        clean[field.key] = value
        if not value:
            if field.required:
                errors.append(f"{caption} is required")
            continue
        if field.kind == "date":
            try:
                clean[field.key] = parse_date(value)
            except ValueError:
                errors.append(f"{caption} must be a valid date in the form DD/MM/YYYY")
        elif field.kind == "amount":
            try:
                amount = parse_amount(value)
            except ValueError:
                errors.append(f"{caption} must be a number like 1,234.56")
            else:
                if amount <= 0:
                    errors.append(f"{caption} must be greater than 0")
                clean[field.key] = f"{amount:.2f}"
        elif field.kind == "select" and value not in field.options:
            errors.append(f"{caption} must be one of " + ", ".join(field.options))
        elif field.kind == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            errors.append(f"{caption} is not an e-mail address")
        elif field.kind == "account":
            clean[field.key] = value = value.replace(" ", "").upper()
            if not _ACCOUNT.fullmatch(value):
                errors.append(f"{caption} is not an account number (IBAN or card number)")
    return clean, errors


def validate_lines(lines: list[dict[str, str]]) -> tuple[list[dict[str, str]], list[str]]:
    clean, errors = [], []
    for number, line in enumerate(lines, 1):
        values, problems = validate(LINE_FIELDS, line, where=f"Line {number}: ")
        clean.append(values)
        errors += problems
    return clean, errors


def display(fields: tuple[FormField, ...], record: dict[str, str]) -> dict[str, str]:
    """Stored values → the legacy display format (DD/MM/YYYY, 1,234.56)."""
    shown = dict(record)
    for field in fields:
        value = record.get(field.key) or ""
        if value and field.kind == "date":
            shown[field.key] = datetime.strptime(value, "%Y-%m-%d").strftime("%d/%m/%Y")
        elif value and field.kind == "amount":
            shown[field.key] = f"{Decimal(value):,.2f}"
    return shown
