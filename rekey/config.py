"""Loading YAML data files (templates, rule sets, screen maps) into pydantic models.

Every error names the file and the key, e.g.
``samples/templates/claim.yaml: fields.policy_number.locators.0.text: Field required``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ValidationError

from rekey.errors import ConfigError
from rekey.settings import PROJECT_ROOT

M = TypeVar("M", bound=BaseModel)


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"bad regular expression: {exc}") from exc
    return pattern


Regex = Annotated[str, AfterValidator(_compiles)]  # a str that must compile as a regex


def shown(path: Path) -> str:
    """``path`` as a person reads it in an error: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the file ({exc.strerror})", file=shown(path)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML ({exc})", file=shown(path)) from exc
    if not isinstance(data, dict):
        raise ConfigError("the file must hold a mapping at the top level", file=shown(path))
    return data


def validation_to_config_error(path: Path, exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return ConfigError(f"{first['msg']}{more}", file=shown(path), key=key)


def load_model(path: Path, model: type[M], **defaults: object) -> M:
    data = {**defaults, **read_yaml(path)}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_to_config_error(path, exc) from exc


def load_folder(folder: Path, model: type[M], key: str = "name") -> dict[str, M]:
    """Every ``*.yaml`` in ``folder``, keyed by ``key`` (default: the file's stem)."""
    if not folder.is_dir():
        raise ConfigError("the folder does not exist", file=folder)
    loaded: dict[str, M] = {}
    for path in sorted(folder.glob("*.yaml")):
        item = load_model(path, model, **{key: path.stem})
        loaded[getattr(item, key)] = item
    return loaded
