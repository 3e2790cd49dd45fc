"""rekey's own bank account-opening form: values and a one-page PDF.

Same visual style as the claim form (labels in a fixed left column, values to their right),
so one kind of template reads both. The annual income band is a row of checkboxes, the
politically-exposed-person declaration a single checkbox.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from faker import Faker
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from samples.corpus.claim_form import LABEL_X, LINE, VALUE_X, _checkbox, _header, sign_off
from samples.corpus.fonts import BOLD, REGULAR, register_pdf_fonts
from samples.corpus.values import (
    DATE_FORMATS,
    LOCALES,
    FormValues,
    date_between,
    format_date,
    hard_name,
)

TITLE = "Account Opening Application"
FORM_ID = "Form RK-AOP-1"
ACCOUNT_ERRORS = ("under_18", "signature_missing")
INCOME_BANDS = ["< 25,000", "25,000 - 50,000", "50,000 - 100,000", "100,000 - 250,000", "> 250,000"]
SOURCES_OF_FUNDS = ["Salary", "Savings", "Inheritance", "Business income", "Pension", "Investments"]
NATIONALITY = {"en_US": "United States", "en_GB": "United Kingdom", "de_DE": "Germany"}
TAX_RESIDENCY = {"en_US": "US", "en_GB": "GB", "de_DE": "DE"}
ID_TYPES = {"en_US": "Passport", "en_GB": "Passport", "de_DE": "Personalausweis"}

SECTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "1. Applicant",
        [
            ("Full name:", "full_name"),
            ("Date of birth:", "date_of_birth"),
            ("Nationality:", "nationality"),
            ("ID type:", "id_type"),
            ("ID number:", "id_number"),
            ("Address:", "address_line1"),
            ("", "address_line2"),
            ("Phone:", "phone"),
            ("Email:", "email"),
        ],
    ),
    (
        "2. Employment and funds",
        [
            ("Occupation:", "occupation"),
            ("Employer:", "employer"),
            ("Source of funds:", "source_of_funds"),
            ("Tax residency:", "tax_residency"),
        ],
    ),
]


def account_values(
    seed: int, today: date, *, error: str | None = None, varied: bool = True
) -> FormValues:
    """One account-opening application; ``error`` plants ``under_18`` or ``signature_missing``."""
    if error not in (None, *ACCOUNT_ERRORS):
        raise ValueError(f"account opening forms cannot carry planted error {error!r}")
    rng = random.Random(f"account-{seed}")
    locale = rng.choice(LOCALES)
    fake = Faker(locale)
    fake.seed_instance(seed)
    name = hard_name(rng, fake) if varied else fake.name()
    signed = date_between(rng, today - timedelta(days=60), today - timedelta(days=1))
    if error == "under_18":
        dob = date_between(
            rng, signed - timedelta(days=17 * 365), signed - timedelta(days=14 * 365)
        )
    else:
        dob = date_between(rng, date(1940, 1, 1), signed - timedelta(days=19 * 365))
    date_format = rng.choice(sorted(DATE_FORMATS)) if varied else "dmy_slash"
    street = fake.street_address().replace("\n", ", ")  # en_GB's may run to two lines
    two_lines = rng.random() < 0.6
    line2 = f"{fake.postcode()} {fake.city()}"
    if two_lines and rng.random() < 0.5:
        street = f"Flat {rng.randrange(1, 40)}, {street}"
    band = rng.randrange(len(INCOME_BANDS))
    truth: dict[str, Any] = {
        "full_name": name,
        "date_of_birth": dob.isoformat(),
        "nationality": NATIONALITY[locale],
        "id_type": ID_TYPES[locale],
        "id_number": f"{rng.choice('CFGHJKLMNPRTVWXYZ')}{rng.randrange(10**7, 10**8)}",
        "address_line1": street if two_lines else f"{street}, {line2}",
        "address_line2": line2 if two_lines else "",
        "phone": fake.phone_number(),
        "email": fake.email(),
        "occupation": fake.job()[:48],
        "employer": fake.company(),
        "income_band": INCOME_BANDS[band],
        "source_of_funds": rng.choice(SOURCES_OF_FUNDS),
        "tax_residency": TAX_RESIDENCY[locale],
        "pep": rng.random() < 0.1,
        "signature": error != "signature_missing",
        "date_signed": signed.isoformat(),
        "_formats": {"date": date_format},
    }
    display = {k: v for k, v in truth.items() if isinstance(v, str)} | {
        "date_of_birth": format_date(dob, date_format),
        "date_signed": format_date(signed, date_format),
    }
    ticks = {f"income_{i}": i == band for i in range(len(INCOME_BANDS))}
    ticks |= {"pep": truth["pep"], "signed": truth["signature"]}
    return FormValues(display=display, ticks=ticks, truth=truth)


def render_account_pdf(path: Path, values: Mapping[str, str], ticks: Mapping[str, bool]) -> Path:
    """Write the one-page account-opening form with ``values`` as printed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    register_pdf_fonts()
    canvas = Canvas(str(path), pagesize=A4, invariant=1)
    canvas.setTitle(f"{TITLE} {values.get('full_name', '')}")
    canvas.setAuthor("rekey samples")
    y = _header(canvas, 1, 1, TITLE, FORM_ID)
    for title, rows in SECTIONS:
        canvas.setFont(BOLD, 11)
        canvas.drawString(LABEL_X, y, title)
        y -= LINE
        for label, name in rows:
            if not label and not values.get(name):
                continue
            canvas.setFont(BOLD, 10)
            canvas.drawString(LABEL_X + 10, y, label)
            canvas.setFont(REGULAR, 11)
            canvas.drawString(VALUE_X, y, values.get(name, ""))
            y -= LINE
        y -= 8
    canvas.setFont(BOLD, 10)
    canvas.drawString(LABEL_X + 10, y, "Annual income:")
    canvas.setFont(REGULAR, 9)
    for i, band in enumerate(INCOME_BANDS):
        x = VALUE_X + (i % 3) * 120
        row_y = y - (i // 3) * 18
        _checkbox(canvas, x, row_y, ticks.get(f"income_{i}", False))
        canvas.drawString(x + 14, row_y, band)
    y -= 18 * 2 + LINE
    canvas.setFont(BOLD, 11)
    canvas.drawString(LABEL_X, y, "3. Declarations")
    y -= LINE
    canvas.setFont(REGULAR, 10)
    _checkbox(canvas, LABEL_X + 10, y, ticks.get("pep", False))
    canvas.drawString(LABEL_X + 26, y, "I am a politically exposed person (PEP)")
    sign_off(
        canvas,
        y - LINE * 2,
        ("Signature:", "Date signed:"),
        values.get("full_name", ""),
        values.get("date_signed", ""),
        ticks.get("signed", True),
    )
    canvas.showPage()
    canvas.save()
    return path
