"""The real IRS W-9 and CMS-1500 blanks, filled with generated values.

The blanks are carried in the repository with their provenance (``samples/forms``, see its
README); ``$REKEY_FORMS_DIR`` or an explicit folder reads other copies.

Two outputs per form: the *fillable* PDF (AcroForm values set, appearance streams generated,
``NeedAppearances`` on, the W-9's XFA removed so viewers show the AcroForm) and the
*flattened* PDF (each value drawn into the page content at its widget's rectangle, widgets
and the AcroForm removed).
"""

from __future__ import annotations

import io
import os
import random
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from faker import Faker
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject
from reportlab.pdfgen.canvas import Canvas

from samples.corpus.values import date_between

W9_BLANK = "irs-w9/fw9-blank.pdf"
CMS1500_BLANK = "cms-1500/cms1500-blank.pdf"
BLANKS = {"w9": W9_BLANK, "cms1500": CMS1500_BLANK}
W9_CLASSES = ["individual", "c_corporation", "s_corporation", "partnership", "trust_estate", "llc"]
ICD10 = ["S52.501A", "J06.9", "M54.5", "E11.9", "I10", "K21.9", "S93.401A", "R51"]
CPT = ["99213", "99214", "73110", "29125", "97110", "99203", "81002"]


def forms_dir(explicit: Path | None = None) -> Path:
    """Where the blanks live: ``explicit``, ``$REKEY_FORMS_DIR``, or ``samples/forms``."""
    if explicit is not None:
        return explicit
    if env := os.environ.get("REKEY_FORMS_DIR"):
        return Path(env)
    return Path(__file__).resolve().parents[1] / "forms"


def w9_values(seed: int) -> tuple[dict[str, str], dict[str, Any]]:
    """(AcroForm values by partial field name, truth) for one W-9."""
    rng = random.Random(f"w9-{seed}")
    fake = Faker("en_US")
    fake.seed_instance(seed)
    klass = rng.choice(W9_CLASSES)
    person = klass == "individual"
    name = fake.name()
    business = "" if person and rng.random() < 0.6 else fake.company()
    ssn = f"{rng.randrange(100, 666)}{rng.randrange(1, 100):02d}{rng.randrange(1, 10000):04d}"
    ein = f"{rng.randrange(10, 99)}{rng.randrange(1, 10**7):07d}"
    address = fake.street_address()
    city = f"{fake.city()}, {fake.state_abbr()} {fake.zipcode()}"
    account = f"{rng.randrange(10**9, 10**10)}"
    values = {
        "f1_1[0]": name,
        "f1_2[0]": business,
        f"c1_1[{W9_CLASSES.index(klass)}]": f"/{W9_CLASSES.index(klass) + 1}",
        "f1_7[0]": address,
        "f1_8[0]": city,
        "f1_10[0]": account,
    }
    if klass == "llc":
        values["f1_3[0]"] = rng.choice("CSP")
    if person:
        values |= {"f1_11[0]": ssn[:3], "f1_12[0]": ssn[3:5], "f1_13[0]": ssn[5:]}
    else:
        values |= {"f1_14[0]": ein[:2], "f1_15[0]": ein[2:]}
    truth = {
        "name": name,
        "business_name": business,
        "tax_classification": klass,
        "llc_classification": values.get("f1_3[0]", ""),
        "address": address,
        "city_state_zip": city,
        "account_numbers": account,
        "ssn": ssn if person else "",
        "ein": "" if person else ein,
    }
    return values, truth


def cms1500_values(seed: int, today: date) -> tuple[dict[str, str], dict[str, Any]]:
    """(AcroForm values, truth) for one CMS-1500 with one to four service lines."""
    rng = random.Random(f"cms1500-{seed}")
    fake = Faker("en_US")
    fake.seed_instance(seed)
    first, last = fake.first_name(), fake.last_name()
    birth = date_between(rng, date(1940, 1, 1), date(2010, 12, 31))
    area, phone = (
        f"{rng.randrange(201, 989)}",
        f"{rng.randrange(200, 999)}-{rng.randrange(10**4):04d}",
    )
    policy = f"{rng.choice('ABCDEFGHJK')}{rng.randrange(10**8, 10**9)}"
    illness = date_between(rng, today - timedelta(days=90), today - timedelta(days=20))
    insurer = rng.choice(["Aetna", "Cigna", "Humana", "UnitedHealthcare", "Blue Cross"])
    diagnoses = rng.sample(ICD10, rng.randrange(1, 4))
    values = {
        "insurance_name": f"{insurer} Claims",
        "insurance_address": fake.street_address(),
        "insurance_city_state_zip": f"{fake.city()}, {fake.state_abbr()} {fake.zipcode()}",
        "pt_name": f"{last.upper()}, {first.upper()}",
        "insurance_id": policy,
        "ins_name": f"{last.upper()}, {first.upper()}",
        "birth_mm": f"{birth:%m}",
        "birth_dd": f"{birth:%d}",
        "birth_yy": f"{birth:%Y}",
        "pt_street": fake.street_address(),
        "pt_city": fake.city(),
        "pt_state": fake.state_abbr(),
        "pt_zip": fake.zipcode(),
        "pt_AreaCode": area,
        "pt_phone": phone,
        "ins_policy": f"GRP{rng.randrange(10**5, 10**6)}",
        "pt_signature": "SIGNATURE ON FILE",
        "pt_date": f"{today:%m/%d/%Y}",
        "cur_ill_mm": f"{illness:%m}",
        "cur_ill_dd": f"{illness:%d}",
        "cur_ill_yy": f"{illness:%Y}",
        "tax_id": f"{rng.randrange(10, 99)}-{rng.randrange(10**7):07d}",
        "pt_account": f"ACC{rng.randrange(10**5, 10**6)}",
        "doc_name": f"Dr. {fake.name()}",
        "doc_street": fake.street_address(),
    }
    for i, code in enumerate(diagnoses, 1):
        values[f"diagnosis{i}"] = code
    services, total = [], Decimal("0")
    for i in range(1, rng.randrange(2, 6)):
        day = illness + timedelta(days=rng.randrange(0, 15))
        charge = Decimal(rng.randrange(5_000, 90_000)) / 100
        cpt = rng.choice(CPT)
        total += charge
        dollars, cents = f"{charge:.2f}".split(".")
        values |= {
            f"sv{i}_mm_from": f"{day:%m}",
            f"sv{i}_dd_from": f"{day:%d}",
            f"sv{i}_yy_from": f"{day:%y}",
            f"cpt{i}": cpt,
            f"ch{i}": f"{dollars} {cents}",
            f"day{i}": "1",
            f"diag{i}": "A",
        }
        services.append({"date": day.isoformat(), "cpt": cpt, "charge": f"{charge:.2f}"})
    t_dollars, t_cents = f"{total:.2f}".split(".")
    values["t_charge"] = f"{t_dollars} {t_cents}"
    truth = {
        "insurer": values["insurance_name"],
        "patient_name": f"{first} {last}",
        "insured_id": policy,
        "date_of_birth": birth.isoformat(),
        "phone": f"({area}) {phone}",
        "date_of_illness": illness.isoformat(),
        "diagnoses": diagnoses,
        "services": services,
        "total_charge": f"{total:.2f}",
    }
    return values, truth


def fill_form(blank: Path, values: Mapping[str, str], out: Path) -> Path:
    """The fillable PDF: ``blank`` with ``values`` set and appearance streams generated."""
    writer = PdfWriter(clone_from=PdfReader(blank))
    acroform = writer._root_object["/AcroForm"]
    if "/XFA" in acroform:  # otherwise XFA-aware viewers show the empty XFA form
        del acroform["/XFA"]
    for page in writer.pages:
        if "/Annots" in page:
            writer.update_page_form_field_values(page, dict(values), auto_regenerate=False)
    writer.set_need_appearances_writer(True)
    _set_checkboxes(writer, values)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh:
        writer.write(fh)
    return out


def _set_checkboxes(writer: PdfWriter, values: Mapping[str, str]) -> None:
    for page in writer.pages:
        for annot in page.get("/Annots", []):
            widget = annot.get_object()
            name = widget.get("/T")
            if name in values and values[name].startswith("/"):
                state = NameObject(values[name])
                widget[NameObject("/AS")] = state
                widget[NameObject("/V")] = state


def _widgets(page: Any) -> list[tuple[str, list[float], Any]]:
    out = []
    for annot in page.get("/Annots", []):
        widget = annot.get_object()
        if widget.get("/Subtype") == "/Widget" and "/T" in widget:
            out.append((str(widget["/T"]), [float(v) for v in widget["/Rect"]], widget))
    return out


def flatten_form(blank: Path, values: Mapping[str, str], out: Path) -> Path:
    """The flattened PDF: values drawn into the page, no form fields left."""
    reader = PdfReader(blank)
    writer = PdfWriter(clone_from=reader)
    for page in writer.pages:
        box = page.mediabox
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=(float(box.width), float(box.height)), invariant=1)
        drawn = False
        for name, (x0, y0, x1, y1), _ in _widgets(page):
            text = values.get(name, "")
            if not text:
                continue
            drawn = True
            if text.startswith("/"):  # a ticked checkbox
                canvas.setFont("Helvetica-Bold", min(10, y1 - y0))
                canvas.drawCentredString((x0 + x1) / 2, y0 + 1.5, "X")
                continue
            size = max(6.0, min(10.0, (y1 - y0) - 2))
            canvas.setFont("Courier", size)
            canvas.drawString(x0 + 2, y0 + (y1 - y0 - size) / 2 + 1.5, text)
        canvas.save()
        if drawn:
            page.merge_page(PdfReader(buffer).pages[0])
        if "/Annots" in page:  # widgets and the odd link: a flattened page keeps none
            del page["/Annots"]
    if "/AcroForm" in writer._root_object:
        del writer._root_object["/AcroForm"]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh:
        writer.write(fh)
    return out
