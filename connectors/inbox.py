"""The inbox side of the outside world: which files are documents, their fingerprint,
the copy kept with each case, and quarantine with a reason file.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import shutil
from collections.abc import Iterable
from pathlib import Path

from rekey.models import Document, utcnow

CHUNK = 1 << 20


def is_ignored(path: Path, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns)


def list_documents(folder: Path, ignore: Iterable[str] = ()) -> list[Path]:
    """The files in ``folder`` (not recursive) that are documents, in name order."""
    patterns = list(ignore)
    return sorted(p for p in folder.iterdir() if p.is_file() and not is_ignored(p, patterns))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(path: Path) -> Document:
    return Document(original_name=path.name, sha256=sha256_of(path), size=path.stat().st_size)


def safe_name(name: str) -> str:
    """A file name that cannot climb out of its folder."""
    cleaned = name.replace("/", "_").replace("\\", "_").lstrip(".")
    return cleaned or "document"


def keep_copy(path: Path, case_dir: Path) -> Path:
    """Copy the original into the case's folder (the inbox file itself is left alone)."""
    case_dir.mkdir(parents=True, exist_ok=True)
    target = case_dir / f"original{path.suffix.lower()}"
    shutil.copy2(path, target)
    return target


def quarantine(
    path: Path,
    reason: str,
    folder: Path,
    name: str | None = None,
    case_id: str | None = None,
) -> Path:
    """Copy ``path`` into quarantine as ``name`` with ``NAME.reason.txt`` beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_name(name or path.name)
    stem = f"{case_id}-{name}" if case_id else name
    target = folder / stem
    shutil.copy2(path, target)
    reason_file = folder / f"{stem}.reason.txt"
    details = {"file": name, "case": case_id, "at": utcnow().isoformat(), "reason": reason}
    reason_file.write_text(
        f"{reason}\n\n{json.dumps(details, ensure_ascii=False, indent=2)}\n", encoding="utf-8"
    )
    return target
