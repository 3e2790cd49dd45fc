"""A Chinese-language (简体中文) claim form: values and a one-page PDF.

reportlab cannot embed Noto Sans CJK (its OpenType outlines are CFF), so the text layer uses
the standard Adobe CID font ``STSong-Light`` (UniGB-UCS2-H, not embedded): pdfplumber reads it
back as Unicode and pdfium substitutes the installed Noto CJK face when it rasterises a scan.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from faker import Faker
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from stdnum.cn import ric

from samples.corpus.claim_form import LABEL_X, LINE, VALUE_X, sign_off, tick_row
from samples.corpus.values import FormValues, cn_bank_card, date_between, format_amount

FONT = "STSong-Light"
TITLE = "保险理赔申请表"
FORM_ID = "表 RK-CLM-CN-1"
CN_CLAIM_ERRORS = (
    "id_checksum",
    "loss_after_signature",
    "over_coverage",
    "signature_missing",
    "policy_not_found",
)
# County-level codes that exist throughout 1950-2010 in python-stdnum's register.
REGION_CODES = ["110101", "110102", "310104", "320102", "330106", "420106", "510104", "440106"]
DESCRIPTIONS = [
    "在商场湿滑地面摔倒，右手腕骨折。",
    "车辆在路口等红灯时被追尾，后保险杠受损。",
    "停在公司楼下的车内笔记本电脑被盗。",
    "厨房水管爆裂，地板和橱柜被水浸泡。",
]
SECTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "一、保单及申请人信息",
        [
            ("保单号：", "policy_number"),
            ("申请人姓名：", "claimant_name"),
            ("证件类型：", "id_type"),
            ("证件号码：", "id_number"),
            ("出生日期：", "date_of_birth"),
            ("联系电话：", "phone"),
            ("电子邮箱：", "email"),
        ],
    ),
    (
        "二、出险信息",
        [
            ("出险日期：", "date_of_loss"),
            ("出险地点：", "place_of_loss"),
            ("事故描述：", "loss_description"),
            ("索赔金额：", "amount_claimed"),
            ("币种：", "currency"),
        ],
    ),
    ("三、收款账户", [("银行卡号：", "bank_account")]),
]
CHECKBOXES = [("是否受伤", "injury"), ("是否已报警", "police_report")]


def ric_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits of a resident ID."""
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    return "10X98765432"[total % 11]


def resident_id(rng: random.Random, birth: date) -> str:
    """A valid 18-digit resident ID number for someone born on ``birth``."""
    for _ in range(50):
        body = f"{rng.choice(REGION_CODES)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        number = body + ric_check_digit(body)
        if ric.is_valid(number):
            return number
    raise RuntimeError(f"no valid resident ID for birth date {birth}")


def spoil_check_digit(number: str, rng: random.Random) -> str:
    """``number`` with a different, wrong, check character."""
    wrong = [c for c in "0123456789X" if c != number[-1]]
    return number[:-1] + rng.choice(wrong)


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def cn_claim_values(
    seed: int, today: date, *, error: str | None = None, policy_number: str = "POL-000000"
) -> FormValues:
    """A Chinese claim; ``error`` plants one of :data:`CN_CLAIM_ERRORS`."""
    if error not in (None, *CN_CLAIM_ERRORS):
        raise ValueError(f"Chinese claim forms cannot carry planted error {error!r}")
    rng = random.Random(f"claim_cn-{seed}")
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    dob = date_between(rng, date(1950, 1, 1), date(2000, 12, 31))
    loss = date_between(rng, today - timedelta(days=120), today - timedelta(days=10))
    signed = loss + timedelta(days=rng.randrange(1, 9))
    if error == "loss_after_signature":
        signed = loss - timedelta(days=rng.randrange(2, 30))
    amount = Decimal(rng.randrange(50_000, 5_000_000)) / 100
    id_number = resident_id(rng, dob)
    if error == "id_checksum":
        id_number = spoil_check_digit(id_number, rng)
    iso_dates = rng.random() < 0.4
    truth: dict[str, Any] = {
        "policy_number": policy_number,
        "claimant_name": fake.name(),
        "id_type": "居民身份证",
        "id_number": id_number,
        "date_of_birth": dob.isoformat(),
        "phone": fake.phone_number(),
        "email": fake.email(),
        "date_of_loss": loss.isoformat(),
        "place_of_loss": fake.city(),
        "loss_description": rng.choice(DESCRIPTIONS),
        "amount_claimed": f"{amount:.2f}",
        "currency": "CNY",
        "bank_account": cn_bank_card(rng),
        "injury": rng.random() < 0.4,
        "police_report": rng.random() < 0.5,
        "signature": error != "signature_missing",
        "date_signed": signed.isoformat(),
        "_formats": {"date": "iso" if iso_dates else "cn", "amount": "en", "currency": "元"},
    }

    def show(d: date) -> str:
        return d.isoformat() if iso_dates else cn_date(d)

    display = {k: v for k, v in truth.items() if isinstance(v, str)} | {
        "date_of_birth": show(dob),
        "date_of_loss": show(loss),
        "date_signed": show(signed),
        "amount_claimed": f"{format_amount(amount, 'en')} 元",
        "currency": "人民币 (CNY)",
    }
    ticks = {
        "injury": truth["injury"],
        "police_report": truth["police_report"],
        "signed": truth["signature"],
    }
    return FormValues(display=display, ticks=ticks, truth=truth)


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def render_cn_claim_pdf(path: Path, values: Mapping[str, str], ticks: Mapping[str, bool]) -> Path:
    """Write the one-page Chinese claim form with ``values`` as printed."""
    font = _font()
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = A4
    canvas = Canvas(str(path), pagesize=A4, invariant=1)
    canvas.setTitle(f"{TITLE} {values.get('policy_number', '')}")
    canvas.setAuthor("rekey samples")
    canvas.setFont(font, 18)
    canvas.drawString(LABEL_X, height - 60, TITLE)
    canvas.setFont(font, 9)
    canvas.drawRightString(width - 50, height - 60, f"{FORM_ID}   第 1 页 共 1 页")
    canvas.line(LABEL_X, height - 70, width - 50, height - 70)
    y = height - 100
    for title, rows in SECTIONS:
        canvas.setFont(font, 12)
        canvas.drawString(LABEL_X, y, title)
        y -= LINE
        for label, name in rows:
            canvas.setFont(font, 11)
            canvas.drawString(LABEL_X + 10, y, label)
            canvas.drawString(VALUE_X, y, values.get(name, ""))
            y -= LINE
        y -= 8
    canvas.setFont(font, 12)
    canvas.drawString(LABEL_X, y, "四、声明")
    y -= LINE
    canvas.setFont(font, 11)
    tick_row(canvas, y, CHECKBOXES, ticks)
    sign_off(
        canvas,
        y - LINE * 2,
        ("申请人签名：", "签署日期："),
        values.get("claimant_name", ""),
        values.get("date_signed", ""),
        ticks.get("signed", True),
        ((font, 11), (font, 11)),
    )
    canvas.showPage()
    canvas.save()
    return path
