"""Identifier checks through python-stdnum, as pure functions returning problems.

Each ``check_<scheme>(number)`` returns a list of :class:`Problem` (empty when the number is
sound). A problem is an error unless it is marked a warning: evidence that the number may
be fine but a person should look (a legacy 15-digit resident ID; a region code python-stdnum
does not know for the birth year; an EIN prefix not in python-stdnum's table).

Numbers in messages are always masked with :func:`validators.masking.mask`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import Field as PydField
from pydantic import model_validator
from stdnum import iban, luhn, numdb
from stdnum.cn import ric
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.us import ein, itin, rtn, ssn

from rekey.models import Case, Finding
from validators.masking import mask
from validators.mrz import mrz_problems
from validators.registry import Params, RuleContext, rule
from validators.values import text


@dataclass(frozen=True)
class Problem:
    message: str
    warning: bool = False


Scheme = Literal[
    "cn_ric", "us_ssn", "us_itin", "us_tin", "us_ein", "us_rtn", "iban", "luhn", "mrz_td3"
]

# -- Chinese resident identity card (GB 11643-1999) -------------------------------------------


def ric_upgrade(number: str) -> str:
    """A legacy 15-digit resident ID (GB 11643-1989) as its 18-digit form.

    The 15-digit form is region (6) + birth date YYMMDD (6) + sequence (3); every such card
    was issued to someone born in the 1900s, so the year gains ``19`` and a check digit.
    """
    body = f"{number[:6]}19{number[6:]}"
    return body + ric.calc_check_digit(body + "0")


def ric_birth(number: str) -> date | None:
    """The birth date a 15- or 18-digit resident ID carries, or ``None``."""
    compact = ric.compact(number)
    if len(compact) == 15 and compact.isdigit():
        compact = ric_upgrade(compact)
    if len(compact) != 18 or not compact[:14].isdigit():
        return None
    try:
        return ric.get_birth_date(compact)
    except (InvalidComponent, ValueError):
        return None


def ric_region(number: str) -> Literal["known", "unknown", "not_in_birth_year"]:
    """Whether python-stdnum knows the region code, and knows it for the birth year."""
    info = {k: v for _, props in numdb.get("cn/loc").info(number[:6]) for k, v in props.items()}
    if "county" not in info:
        return "unknown"
    try:
        ric.get_birth_place(number)
    except InvalidComponent:
        return "not_in_birth_year"
    return "known"


def check_cn_ric(number: str) -> list[Problem]:
    compact = ric.compact(number)
    shown = mask(compact)
    problems: list[Problem] = []
    if len(compact) == 15 and compact.isdigit():
        compact = ric_upgrade(compact)
        problems.append(
            Problem(
                f"The resident ID {shown} is a legacy 15-digit number (before 1999); "
                f"read as {mask(compact)}. Ask for the current 18-digit card.",
                warning=True,
            )
        )
    if len(compact) != 18:
        return [Problem(f"The resident ID {shown} has {len(compact)} characters, not 18.")]
    if not compact[:17].isdigit() or not (compact[17].isdigit() or compact[17] == "X"):
        return [Problem(f"The resident ID {shown} holds characters other than digits and X.")]
    if compact[-1] != ric.calc_check_digit(compact):
        return [
            Problem(f"The resident ID {shown} has a wrong check digit; it is misread or false.")
        ]
    if ric_birth(compact) is None:
        return [Problem(f"The resident ID {shown} carries no real birth date.")]
    region = ric_region(compact)
    if region == "unknown":
        return [Problem(f"The resident ID {shown} starts with a region code that does not exist.")]
    if region == "not_in_birth_year":
        problems.append(
            Problem(
                f"The resident ID {shown}: its region code was not valid in the birth year; "
                "check the card.",
                warning=True,
            )
        )
    return problems


# -- United States ----------------------------------------------------------------------------

REASONS: dict[type[ValidationError], str] = {
    InvalidChecksum: "has a wrong check digit",
    InvalidLength: "has the wrong number of digits",
    InvalidFormat: "is not in the right format",
    InvalidComponent: "has a part that is never issued",
}


def reason(exc: ValidationError) -> str:
    return next((text for kind, text in REASONS.items() if isinstance(exc, kind)), "is not valid")


def stdnum_check(module, what: str) -> Callable[[str], list[Problem]]:
    def check(number: str) -> list[Problem]:
        try:
            module.validate(number)
        except ValidationError as exc:
            return [Problem(f"The {what} {mask(number)} {reason(exc)}.")]
        return []

    return check


check_us_ssn = stdnum_check(ssn, "social security number")
check_us_itin = stdnum_check(itin, "ITIN")
check_us_rtn = stdnum_check(rtn, "routing number")
check_iban = stdnum_check(iban, "IBAN")


def check_us_tin(number: str) -> list[Problem]:
    """An SSN, or an ITIN when it starts with 9 (both go in the W-9's SSN boxes)."""
    return check_us_itin(number) if ssn.compact(number).startswith("9") else check_us_ssn(number)


def check_us_ein(number: str) -> list[Problem]:
    """An EIN; a prefix python-stdnum does not list is a warning (the IRS adds campuses)."""
    try:
        ein.validate(number)
    except InvalidComponent:
        prefix = ein.compact(number)[:2]
        return [
            Problem(
                f"The EIN {mask(number)} starts with {prefix}, a prefix the IRS is not known "
                "to assign; check it.",
                warning=True,
            )
        ]
    except ValidationError as exc:
        return [Problem(f"The EIN {mask(number)} {reason(exc)}.")]
    return []


def check_luhn(number: str) -> list[Problem]:
    digits = "".join(number.split()).replace("-", "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        return [Problem(f"The card number {mask(number)} is not 12 to 19 digits.")]
    if not luhn.is_valid(digits):
        return [Problem(f"The card number {mask(number)} fails the Luhn check; it is misread.")]
    return []


def check_mrz_td3(line2: str) -> list[Problem]:
    return [Problem(message) for message in mrz_problems(line2)]


CHECKS: dict[str, Callable[[str], list[Problem]]] = {
    "cn_ric": check_cn_ric,
    "us_ssn": check_us_ssn,
    "us_itin": check_us_itin,
    "us_tin": check_us_tin,
    "us_ein": check_us_ein,
    "us_rtn": check_us_rtn,
    "iban": check_iban,
    "luhn": check_luhn,
    "mrz_td3": check_mrz_td3,
}


def check(scheme: str, number: str) -> list[Problem]:
    return CHECKS[scheme](number)


# -- payout accounts ----------------------------------------------------------------------------


def account_kind(number: str) -> Literal["iban", "card", "other"]:
    compact = "".join(number.split()).replace("-", "")
    if len(compact) > 4 and compact[:2].isalpha() and compact[2:4].isdigit():
        return "iban"
    if compact.isdigit() and 12 <= len(compact) <= 19:
        return "card"
    return "other"


EURO = [
    "AT",
    "BE",
    "CY",
    "DE",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MC",
    "MT",
    "NL",
    "PT",
    "SI",
    "SK",
    "SM",
    "VA",
    "AD",
]
IBAN_CURRENCY = {country: "EUR" for country in EURO} | {
    "GB": "GBP", "CH": "CHF", "LI": "CHF", "SE": "SEK", "DK": "DKK", "NO": "NOK",
    "PL": "PLN", "CZ": "CZK", "HU": "HUF", "RO": "RON", "BG": "BGN", "IS": "ISK",
}  # fmt: skip
CARD_CURRENCY = {"62": "CNY"}  # China UnionPay cards pay out in yuan


def account_currency(number: str) -> tuple[str, str] | None:
    """(where the account is, its currency) for an IBAN or a known card range, else ``None``."""
    compact = "".join(number.split()).replace("-", "").upper()
    kind = account_kind(compact)
    if kind == "iban" and compact[:2] in IBAN_CURRENCY:
        return f"an IBAN from {compact[:2]}", IBAN_CURRENCY[compact[:2]]
    if kind == "card":
        for prefix, currency in CARD_CURRENCY.items():
            if compact.startswith(prefix):
                return "a China UnionPay card", currency
    return None


# -- rules --------------------------------------------------------------------------------------


class IdChecksumParams(Params):
    """Check ``field`` with ``scheme``, or with the scheme ``by_type`` gives its ID type.

    ``by_type`` keys are compared case-insensitively with the ``type_field`` value; an ID
    type not listed (a passport number on a claim form) has no check digit to test.
    """

    field: str = "id_number"
    scheme: Scheme | None = None
    type_field: str = "id_type"
    by_type: dict[str, Scheme] = PydField(default_factory=dict)

    @model_validator(mode="after")
    def scheme_or_by_type(self) -> IdChecksumParams:
        if self.scheme is None and not self.by_type:
            raise ValueError("give a scheme, or by_type mapping ID types to schemes")
        return self


def scheme_for(case: Case, params: IdChecksumParams) -> str | None:
    if params.scheme is not None:
        return params.scheme
    id_type = text(case, params.type_field)
    wanted = {key.casefold(): value for key, value in params.by_type.items()}
    return wanted.get(id_type.casefold()) if id_type else None


@rule("id_checksum", IdChecksumParams)
def id_checksum(case: Case, params: IdChecksumParams, ctx: RuleContext) -> list[Finding]:
    """The identification number passes its scheme's checks (check digit, parts, length)."""
    number = text(case, params.field)
    scheme = scheme_for(case, params)
    if number is None or scheme is None:
        return []
    return [
        ctx.finding([params.field], p.message, warning=p.warning) for p in check(scheme, number)
    ]


class AccountParams(Params):
    field: str = "bank_account"
    accept: list[Literal["iban", "card"]] = PydField(default_factory=lambda: ["iban", "card"])


@rule("bank_account", AccountParams)
def bank_account(case: Case, params: AccountParams, ctx: RuleContext) -> list[Finding]:
    """The payout account is a valid IBAN or a card number passing Luhn."""
    number = text(case, params.field)
    if number is None:
        return []
    kind = account_kind(number)
    if kind not in params.accept:
        accepted = " or ".join("an IBAN" if k == "iban" else "a card number" for k in params.accept)
        return [ctx.finding([params.field], f"The bank account {mask(number)} is not {accepted}.")]
    problems = check_iban(number) if kind == "iban" else check_luhn(number)
    return [ctx.finding([params.field], p.message, warning=p.warning) for p in problems]


class CurrencyParams(Params):
    account: str = "bank_account"
    currency: str = "currency"


@rule("currency_matches_account", CurrencyParams)
def currency_matches_account(case: Case, params: CurrencyParams, ctx: RuleContext) -> list[Finding]:
    """The claim's currency is the currency of the payout account's country."""
    number, currency = text(case, params.account), text(case, params.currency)
    where = account_currency(number) if number else None
    if where is None or currency is None or currency.upper() == where[1]:
        return []
    return [
        ctx.finding(
            [params.currency, params.account],
            f"The payout account {mask(number)} is {where[0]}, which pays in {where[1]}, "
            f"but the amount is in {currency}.",
        )
    ]


class PhoneParams(Params):
    field: str = "phone"
    region_field: str | None = None  # a field holding the ISO country, e.g. tax_residency
    region: str | None = None  # the country assumed for numbers without +CC


def phone_problem(number: str, region: str | None) -> str | None:
    """Why ``number`` is not a phone number, or ``None``. Uses phonenumbers when installed."""
    try:
        import phonenumbers
    except ImportError:  # a plausibility check: 6 to 15 digits (E.164 allows 15)
        main = number.lower().split("x")[0].split("ext")[0]
        digits = sum(ch.isdigit() for ch in main)
        return None if 6 <= digits <= 15 else f"has {digits} digits"
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        return f"cannot be read ({exc})"
    if not phonenumbers.is_possible_number(parsed):
        return "has the wrong number of digits"
    if not phonenumbers.is_valid_number(parsed):
        return "is not a number in use"
    return None


@rule("phone", PhoneParams)
def phone(case: Case, params: PhoneParams, ctx: RuleContext) -> list[Finding]:
    """The phone number is a possible number (for its country, when known)."""
    number = text(case, params.field)
    if number is None:
        return []
    region = (text(case, params.region_field) if params.region_field else None) or params.region
    problem = phone_problem(number, region.upper() if region else None)
    if problem is None:
        return []
    return [ctx.finding([params.field], f"The phone number {mask(number)} {problem}.")]
