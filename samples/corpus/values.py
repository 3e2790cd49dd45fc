"""Seeded values for generated documents: what is printed, and the truth behind it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from faker import Faker

LOCALES = ["en_US", "en_GB", "de_DE"]
CURRENCY_BY_LOCALE = {"en_US": "USD", "en_GB": "GBP", "de_DE": "EUR", "zh_CN": "CNY"}
IBAN_COUNTRY = {"en_GB": "GB", "de_DE": "DE", "en_US": "DE"}
EXPENSE_ITEMS = [
    "Ambulance transport",
    "Emergency room visit",
    "Replacement laptop",
    "Windscreen repair",
    "Locksmith call-out",
    "Hotel stay (2 nights)",
    "Physiotherapy session",
    "Prescription medicine",
    "Towing service",
    "Taxi to hospital",
]


@dataclass
class FormValues:
    """One filled form: the printed strings, the checkbox ticks, and the truth."""

    display: dict[str, str]
    ticks: dict[str, bool]
    truth: dict[str, Any]
    expenses: list[list[str]] = field(default_factory=list)
    expenses_total: str = ""


def money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


# Display formats a form may use; the truth always holds ISO dates and "1234.56" amounts.
DATE_FORMATS = {
    "dmy_slash": "%d/%m/%Y",
    "iso": "%Y-%m-%d",
    "long": "%d %B %Y",
    "dmy_dot": "%d.%m.%Y",
}
AMOUNT_FORMATS = {"en": "1,234.56", "de": "1.234,56"}
MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
CLAIM_ERRORS = ("loss_after_signature", "over_coverage", "signature_missing", "policy_not_found")
HARD_NAMES = [
    "Siobhán O'Brien",
    "Jürgen Müller-Lüdenscheid",
    "D'Arcy O'Neill-Fitzgerald",
    "Zoë Brontë-Ångström",
    "Maximilian Alexander von Hohenzollern-Sigmaringen",
    "Renée Dubois-Łukasiewicz",
    "Bartholomew Featherstonehaugh-Cholmondeley",
    "Ødegård Ólafsdóttir",
]


def format_date(d: date, fmt: str) -> str:
    """``d`` as printed in display format ``fmt`` (a key of :data:`DATE_FORMATS`)."""
    if fmt == "long":  # spelled out without the C locale's help, so it is stable
        return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
    return d.strftime(DATE_FORMATS[fmt])


def format_amount(amount: Decimal, convention: str) -> str:
    """``amount`` with thousands separators in ``convention`` ("en" or "de")."""
    text = f"{amount:,.2f}"
    if convention == "de":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text


def hard_name(rng: random.Random, fake: Faker) -> str:
    """A name that is awkward to read: about half the time one of :data:`HARD_NAMES`."""
    return rng.choice(HARD_NAMES) if rng.random() < 0.5 else fake.name()


def luhn_complete(digits: str) -> str:
    """``digits`` with a Luhn check digit appended."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            n -= 9 if n > 9 else 0
        total += n
    return digits + str((10 - total % 10) % 10)


def cn_bank_card(rng: random.Random) -> str:
    """A 19-digit UnionPay-style card number (prefix 62) passing Luhn."""
    return luhn_complete("62" + "".join(str(rng.randrange(10)) for _ in range(16)))


def date_between(rng: random.Random, start: date, end: date) -> date:
    return _date(rng, start, end)


def _date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def claim_values(
    seed: int,
    today: date,
    *,
    error: str | None = None,
    policy_number: str | None = None,
    varied: bool = False,
) -> FormValues:
    """A claim generated deterministically from ``seed``.

    With no ``error`` it passes every rule; ``error`` plants one claim rule's violation
    (see :data:`CLAIM_ERRORS`). ``varied`` picks hard names and mixed date/amount display
    formats; without it the draws (and so the demo inbox) are those of the first version.
    """
    rng = random.Random(seed)
    locale = rng.choice(LOCALES)
    fake = Faker(locale)
    fake.seed_instance(seed)
    name = fake.name()
    style = random.Random(f"{seed}-style")
    date_format, amount_format = "dmy_slash", "en"
    if varied:
        name = hard_name(style, fake)
        date_format = style.choice(sorted(DATE_FORMATS))
        amount_format = style.choice(sorted(AMOUNT_FORMATS))
    dob = _date(rng, date(1945, 1, 1), date(2000, 12, 31))
    loss = _date(rng, today - timedelta(days=120), today - timedelta(days=10))
    signed = loss + timedelta(days=rng.randrange(1, 9))
    items = rng.randrange(1, 9)
    expenses = [
        (
            _date(rng, loss, signed),
            rng.choice(EXPENSE_ITEMS),
            Decimal(rng.randrange(2_000, 250_000)) / 100,
        )
        for _ in range(items)
    ]
    total = sum((amount for _, _, amount in expenses), Decimal("0"))
    if locale == "en_US":  # US accounts have no IBAN; pay out to a German one
        german = Faker("de_DE")
        german.seed_instance(seed)
        iban = german.iban()
    else:
        iban = fake.iban()
    drawn_policy = f"POL-{rng.randrange(100000, 999999)}"
    truth: dict[str, Any] = {
        "policy_number": policy_number or drawn_policy,
        "claimant_name": name,
        "id_type": "Passport",
        "id_number": f"{rng.choice('CDFGHJKLMN')}{rng.randrange(10**7, 10**8)}",
        "date_of_birth": dob.isoformat(),
        "phone": fake.phone_number(),
        "email": fake.email(),
        "date_of_loss": loss.isoformat(),
        "place_of_loss": f"{fake.city()}",
        "loss_description": rng.choice(
            [
                "Slipped on a wet floor in a shop and broke a wrist.",
                "Car hit from behind at traffic lights; rear bumper and boot damaged.",
                "Laptop stolen from a locked car parked outside the office.",
                "Water from a burst pipe damaged the kitchen floor and cupboards.",
            ]
        ),
        "amount_claimed": f"{total:.2f}",
        "currency": CURRENCY_BY_LOCALE[locale],
        "bank_account": iban,
        "injury": rng.random() < 0.4,
        "police_report": rng.random() < 0.5,
        "signature": True,
        "date_signed": signed.isoformat(),
        "expenses": [
            {"date": d.isoformat(), "description": text, "amount": f"{amount:.2f}"}
            for d, text, amount in expenses
        ],
    }
    if error == "loss_after_signature":
        signed = loss - timedelta(days=style.randrange(2, 30))
        truth["date_signed"] = signed.isoformat()
    elif error == "signature_missing":
        truth["signature"] = False
    elif error not in (None, "over_coverage", "policy_not_found"):
        raise ValueError(f"claim forms cannot carry planted error {error!r}")
    if varied:
        if style.random() < 0.25:
            truth["bank_account"] = cn_bank_card(style)
        truth["_formats"] = {"date": date_format, "amount": amount_format}

    def show_date(d: date) -> str:
        return format_date(d, date_format)

    def show_amount(a: Decimal) -> str:
        return format_amount(a, amount_format)

    display = {key: str(value) for key, value in truth.items() if isinstance(value, str)} | {
        "date_of_birth": show_date(dob),
        "date_of_loss": show_date(loss),
        "date_signed": show_date(signed),
        "amount_claimed": show_amount(total),
    }
    return FormValues(
        display=display,
        ticks={
            "injury": truth["injury"],
            "police_report": truth["police_report"],
            "signed": truth["signature"],
        },
        truth=truth,
        expenses=[[show_date(d), text, show_amount(amount)] for d, text, amount in expenses],
        expenses_total=show_amount(total),
    )
