"""Value formats: how a case value is typed into a screen and how a screen value reads back.

Each format turns a case value (canonical: ISO dates, plain decimals) into screen text with
``to_screen`` and turns screen text back into the canonical form with ``from_screen``, so a
read-back compares like with like. ``action`` names the input action (see ``pages.ACTIONS``).
A new format is one small class added to :data:`ValueFormat`.

Two of them exist for screens that want a case value in another shape than the document:

``{kind: select, options: {individual: Individual/sole proprietor, ...}}``
    a ``<select>`` whose option texts are not the case's values: ``options`` maps each case
    value to the text of its option (a case value that is already an option's text is taken
    as it is; any other is a BusinessRuleError before anything is keyed). The canonical
    form, and what the read-back compares, is the option's text. Without ``options`` the
    case value is the option's text.
``{kind: mask, mask: "###-##-####"}``
    an identifier the screen wants with fixed separators (a W-9's SSN ``123456789`` keyed as
    ``123-45-6789``): each ``#`` takes the next letter or digit of the value, every other
    character of the mask is written as it is. The value may come with or without the
    separators; one with a different number of letters and digits is refused. Canonical
    form: the masked text.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def squash(text: str | None) -> str:
    return " ".join((text or "").split())


class _Format(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    action: ClassVar[str] = "fill"

    def canonical(self, value: str | None) -> str:
        return squash(value)

    def to_screen(self, value: str | None) -> str:
        return self.canonical(value)

    def from_screen(self, text: str) -> str:
        return squash(text)


class TextFormat(_Format):
    kind: Literal["text"] = "text"


class SelectFormat(_Format):
    """A ``<select>`` chosen by the option's visible text; ``options`` maps case values to
    option texts where they differ (``F`` → ``Female``)."""

    kind: Literal["select"] = "select"
    action: ClassVar[str] = "select"
    options: dict[str, str] = {}

    @field_validator("options")
    @classmethod
    def _texts(cls, options: dict[str, str]) -> dict[str, str]:
        if any(not squash(k) or not squash(v) for k, v in options.items()):
            raise ValueError("option values and texts must not be empty")
        return {squash(k): squash(v) for k, v in options.items()}

    def canonical(self, value: str | None) -> str:
        value = squash(value)
        if not value or not self.options or value in self.options.values():
            return value
        if value in self.options:
            return self.options[value]
        known = ", ".join(self.options)
        raise ValueError(f"{value!r} is not one of the mapped values ({known})")


class MaskFormat(_Format):
    """An identifier keyed with fixed separators: ``#`` is one letter or digit, anything
    else in *mask* is written as it is (``###-##-####`` for a US social security number)."""

    kind: Literal["mask"] = "mask"
    mask: str

    @field_validator("mask")
    @classmethod
    def _has_slots(cls, mask: str) -> str:
        if "#" not in mask:
            raise ValueError("a mask needs at least one # (one letter or digit)")
        return mask

    def canonical(self, value: str | None) -> str:
        chars = [c for c in squash(value) if c.isalnum()]
        if not chars:
            return ""
        if len(chars) != self.mask.count("#"):
            raise ValueError(f"{value!r} does not fit {self.mask!r}")
        it = iter(chars)
        return "".join(next(it) if m == "#" else m for m in self.mask)

    def from_screen(self, text: str) -> str:
        return self.canonical(text)


class DateFormat(_Format):
    """Case value ``YYYY-MM-DD``; on screen as *pattern*, e.g. ``%d/%m/%Y``."""

    kind: Literal["date"] = "date"
    pattern: str = "%d/%m/%Y"

    @field_validator("pattern")
    @classmethod
    def _round_trips(cls, pattern: str) -> str:
        sample = date(2001, 2, 3)
        try:
            ok = datetime.strptime(sample.strftime(pattern), pattern).date() == sample
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"date pattern {pattern!r} does not round-trip a date")
        return pattern

    def canonical(self, value: str | None) -> str:
        value = squash(value)
        return date.fromisoformat(value).isoformat() if value else ""

    def to_screen(self, value: str | None) -> str:
        value = self.canonical(value)
        return date.fromisoformat(value).strftime(self.pattern) if value else ""

    def from_screen(self, text: str) -> str:
        text = squash(text)
        return datetime.strptime(text, self.pattern).date().isoformat() if text else ""


class AmountFormat(_Format):
    """Case value a plain decimal (``1234.56``); on screen ``1,234.56``."""

    kind: Literal["amount"] = "amount"
    thousands: str = ","
    decimal: str = "."
    places: int = Field(default=2, ge=0, le=6)

    def _parse(self, text: str) -> Decimal:
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(f"{text!r} is not a decimal amount") from exc
        if not number.is_finite():
            raise ValueError(f"{text!r} is not a decimal amount")
        if number.as_tuple().exponent < -self.places:  # type: ignore[operator]
            raise ValueError(f"{text!r} has more than {self.places} decimal places")
        return number.quantize(Decimal(1).scaleb(-self.places))

    def canonical(self, value: str | None) -> str:
        value = squash(value)
        return str(self._parse(value)) if value else ""

    def to_screen(self, value: str | None) -> str:
        value = self.canonical(value)
        if not value:
            return ""
        text = f"{Decimal(value):,.{self.places}f}"
        return text.translate(str.maketrans({",": self.thousands, ".": self.decimal}))

    def from_screen(self, text: str) -> str:
        text = squash(text).replace(self.thousands, "").replace(self.decimal, ".")
        return str(self._parse(text)) if text else ""


class IdentifierFormat(_Format):
    """An identifier (IBAN, account number) that the screen stores without spaces, in
    capitals: ``GB29 nwbk 6016`` → ``GB29NWBK6016``."""

    kind: Literal["identifier"] = "identifier"

    def canonical(self, value: str | None) -> str:
        return "".join((value or "").split()).upper()

    def from_screen(self, text: str) -> str:
        return self.canonical(text)


class YesNoFormat(_Format):
    """A yes/no case value (``true``, ``false``, ``yes``, ``no``, ``1``, ``0``) chosen in a
    ``<select>`` by the visible text *yes* or *no*; canonical form is that text."""

    kind: Literal["yes_no"] = "yes_no"
    action: ClassVar[str] = "select"
    yes: str = "Yes"
    no: str = "No"

    def canonical(self, value: str | None) -> str:
        text = squash(value).lower()
        if not text:
            return ""
        if text in ("true", "yes", "y", "1", self.yes.lower()):
            return self.yes
        if text in ("false", "no", "n", "0", self.no.lower()):
            return self.no
        raise ValueError(f"{value!r} is neither yes nor no")

    def from_screen(self, text: str) -> str:
        return squash(text)


class CheckboxFormat(_Format):
    """A yes/no case value keyed by ticking (or clearing) a checkbox; canonical form, and
    what a checkbox reads back as, is ``true`` or ``false``."""

    kind: Literal["checkbox"] = "checkbox"
    action: ClassVar[str] = "check"

    def canonical(self, value: str | None) -> str:
        text = squash(value).lower()
        if not text:
            return ""
        if text in ("true", "yes", "y", "1", "on", "checked"):
            return "true"
        if text in ("false", "no", "n", "0", "off"):
            return "false"
        raise ValueError(f"{value!r} is neither yes nor no")

    def from_screen(self, text: str) -> str:
        return self.canonical(text)


ValueFormat = Annotated[
    TextFormat
    | SelectFormat
    | MaskFormat
    | DateFormat
    | AmountFormat
    | IdentifierFormat
    | YesNoFormat
    | CheckboxFormat,
    Field(discriminator="kind"),
]
