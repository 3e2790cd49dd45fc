"""The one error hierarchy of rekey.

::

    RekeyError                      base of everything rekey raises on purpose
    ├── BadDocument                 the file cannot be read: quarantine, never retried
    │   └── ReadingCrashed          reading or understanding it raised something unforeseen;
    │                               names the stage and the exception
    ├── BusinessRuleError           the case breaks a rule or is refused: review, never retried
    ├── ApplicationError            the back office is down, slow or lost the session: retried
    ├── ConfigError                 a template, rule set, screen map or setting is wrong;
    │                               names the file and the key
    └── StoreError                  the case store cannot be reached or refused a write
        └── DuplicateDocument       a case for the same content (sha256) already exists

Lower-level errors (pdfplumber, pytesseract, Playwright, SQLAlchemy) are translated at the
boundary with ``raise ... from exc`` so callers only ever handle these four.
"""

from __future__ import annotations

from pathlib import Path


class RekeyError(Exception):
    """Base class of every error rekey raises on purpose."""


class BadDocument(RekeyError):
    """The document cannot be read. It is quarantined with this message as the reason."""


class ReadingCrashed(BadDocument):
    """Reading or understanding the document raised an exception rekey did not foresee (a
    bug, or a file no check caught). Quarantined with the stage, the exception's type and
    message: retrying would raise it again."""

    LIMIT = 300

    def __init__(self, stage: str, name: str, exc: BaseException):
        self.stage, self.exception = stage, type(exc).__name__
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        detail = detail if len(detail) <= self.LIMIT else detail[: self.LIMIT] + "…"
        super().__init__(
            f"{name}: {stage} crashed with {self.exception}"
            + (f": {detail}" if detail else "")
            + "; the file is kept in quarantine, report it with this reason"
        )


class BusinessRuleError(RekeyError):
    """The case breaks a business rule or the back office refused it. It goes to review."""


class ApplicationError(RekeyError):
    """The back office failed in a way a retry may fix (down, timeout, session lost)."""


class ConfigError(RekeyError):
    """A template, rule set, screen map or setting is wrong.

    The message always names the file and the key, e.g.
    ``samples/templates/claim.yaml: fields.policy_number.locators.0.kind: ...``.
    """

    def __init__(self, message: str, *, file: str | Path | None = None, key: str | None = None):
        self.file = str(file) if file is not None else None
        self.key = key
        where = ": ".join(part for part in (self.file, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class StoreError(RekeyError):
    """The case store cannot be reached or refused a write."""


class DuplicateDocument(StoreError):
    """A case for the same content (sha256) already exists."""
