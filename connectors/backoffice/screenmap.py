"""Screen maps: YAML files that tell the robot where things are on each back-office screen.

One file per screen in ``settings.screens_dir``: ``login.yaml``, ``claim_search.yaml``,
``claim_entry.yaml`` and ``claim_record.yaml``. Each is validated by pydantic at load time;
any problem raises :class:`~rekey.errors.ConfigError` naming the file and the key, e.g.
``samples/screens/claim_entry.yaml: fields.policy_number.locator.bogus: Extra inputs ...``.

A locator is exactly one of ``caption`` (the visible caption text in the table cell left of
the input or value), ``role`` (+ ``name``, the accessible name) or ``css``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from connectors.backoffice.formats import TextFormat, ValueFormat
from rekey.errors import ConfigError
from rekey.settings import PROJECT_ROOT


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Locator(Spec):
    caption: str | None = None
    role: str | None = None
    name: str | None = None
    css: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Locator:
        given = [k for k in ("caption", "role", "css") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("give exactly one of caption, role or css")
        if self.name is not None and not self.role:
            raise ValueError("name is only used with role")
        return self


class FieldSpec(Spec):
    locator: Locator
    format: ValueFormat = TextFormat()

    @field_validator("format", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"kind": value} if isinstance(value, str) else value


class Screen(Spec):
    path: str

    @field_validator("path")
    @classmethod
    def _absolute(cls, path: str) -> str:
        if not path.startswith("/"):
            raise ValueError("path must start with '/'")
        return path


class LoginScreen(Screen):
    user: Locator
    password: Locator
    submit: Locator
    error: Locator  # where a refusal is shown


class SearchScreen(Screen):
    query: Locator  # the search box for the external reference
    submit: Locator
    rows: Locator  # one per result; the two below are looked up inside a row
    reference: Locator
    external_reference: Locator


class Dialog(Spec):
    accept: str  # the message of the dialog to accept; any other dialog is dismissed


class EntryScreen(Screen):
    fields: dict[str, FieldSpec]
    save: Locator
    dialog: Dialog | None = None
    errors: Locator  # validation messages shown by the back office
    reference: Locator  # where the new reference appears after saving
    reference_pattern: str = r"\S+"

    @field_validator("reference_pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return pattern


class RecordScreen(Screen):
    fields: dict[str, FieldSpec]  # caption → value cell, read back and compared

    @field_validator("path")
    @classmethod
    def _has_reference(cls, path: str) -> str:
        if "{reference}" not in path:
            raise ValueError("path must contain '{reference}'")
        return path


S = TypeVar("S", bound=Spec)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def load_screen(path: Path, model: type[S]) -> S:
    """Read one screen map; raise ConfigError naming the file and the key on any problem."""
    where = _shown(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read screen map: {exc.strerror}", file=where) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=where) from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or None
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(first["msg"] + more, file=where, key=key) from exc


@dataclass(frozen=True)
class ScreenMaps:
    login: LoginScreen
    search: SearchScreen
    entry: EntryScreen
    record: RecordScreen


SCREEN_FILES = {
    "login": ("login.yaml", LoginScreen),
    "search": ("claim_search.yaml", SearchScreen),
    "entry": ("claim_entry.yaml", EntryScreen),
    "record": ("claim_record.yaml", RecordScreen),
}


def load_screens(directory: Path) -> ScreenMaps:
    """Load every screen map the claim robot needs from *directory*."""
    directory = Path(directory)
    maps = {k: load_screen(directory / name, model) for k, (name, model) in SCREEN_FILES.items()}
    return ScreenMaps(**maps)
