"""Templates: what a document type looks like and where each field is found (YAML data)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rekey.config import load_folder


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabelLocator(_Strict):
    """The value printed beside (or below) a caption such as ``Policy number:``."""

    kind: Literal["label"] = "label"
    text: str
    direction: Literal["right", "below"] = "right"
    window: float = Field(0.7, gt=0, le=1)  # how far from the label to look, page-relative
    lines: int = Field(1, ge=1, le=5)  # a value may wrap onto following lines
    page: int | None = None


class RegexLocator(_Strict):
    """The first match of a pattern in the page text."""

    kind: Literal["regex"] = "regex"
    pattern: str
    group: int | str = 0
    page: int | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"bad regular expression: {exc}") from exc
        return pattern


class AcroformLocator(_Strict):
    """The value of a fillable PDF form field, by its full name."""

    kind: Literal["acroform"] = "acroform"
    name: str


Locator = Annotated[LabelLocator | RegexLocator | AcroformLocator, Field(discriminator="kind")]
FieldType = Literal["text", "date", "money", "identifier", "checkbox", "signature", "table"]


class FieldSpec(_Strict):
    type: FieldType = "text"
    locators: list[Locator] = Field(min_length=1)
    required: bool = False
    threshold: float = Field(0.8, ge=0, le=1)
    formats: list[str] = Field(default_factory=list)  # dates: strptime formats, in order
    decimal: Literal["auto", ".", ","] = "auto"  # money: which mark separates decimals


class Template(_Strict):
    name: str
    doc_type: str
    version: int = 1
    language: str = "eng"
    keywords: list[str] = Field(min_length=1)
    exclude_keywords: list[str] = Field(default_factory=list)
    priority: int = 0
    fields: dict[str, FieldSpec]


@cache
def load_templates(folder: Path) -> dict[str, Template]:
    return load_folder(folder, Template)
