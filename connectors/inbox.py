"""The inbox side of the outside world: which files are documents, their fingerprint,
the copy kept with each case, and quarantine with a reason file.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import stat
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from rekey.models import Document, utcnow

CHUNK = 1 << 20
NAME_MAX = 255  # bytes in one file name (ext4, xfs, btrfs, tmpfs)
REASON_SUFFIX = ".reason.txt"
# a name in processing/, done/ or quarantine/ leaves room for "~NNNNN" and the reason suffix
KEEP_NAME_MAX = NAME_MAX - len(REASON_SUFFIX) - len("~99999")
SUFFIX_MAX = 16  # a longer "suffix" is part of the name, not a file type


def is_ignored(path: Path, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns)


def list_documents(folder: Path, ignore: Iterable[str] = ()) -> list[Path]:
    """The regular files in ``folder`` (not recursive) that are documents, in name order;
    symbolic links are never followed."""
    patterns = list(ignore)
    return sorted(p for p in folder.iterdir() if is_regular(p) and not is_ignored(p, patterns))


def is_regular(path: Path) -> bool:
    """A regular file itself (not a link to one, a FIFO or a folder)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(path: Path) -> Document:
    return Document(original_name=path.name, sha256=sha256_of(path), size=path.stat().st_size)


def shown_name(name: str) -> str:
    """``name`` as text that can be printed and written anywhere: bytes that are not UTF-8
    (kept by Python as surrogates) and control characters are shown as escapes."""
    raw = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(
        ch.encode("unicode_escape").decode() if unicodedata.category(ch) == "Cc" else ch
        for ch in raw
    )


def is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def safe_name(name: str) -> str:
    """A file name that cannot climb out of its folder, is valid UTF-8 without control
    characters, and fits :data:`KEEP_NAME_MAX` bytes."""
    cleaned = os.fsencode(name).decode("utf-8", "replace").replace("\ufffd", "_")
    cleaned = "".join("_" if unicodedata.category(ch) == "Cc" else ch for ch in cleaned)
    cleaned = cleaned.replace("/", "_").replace("\\", "_").lstrip(".")
    return fit_name(cleaned or "document")


def fit_name(name: str, limit: int = KEEP_NAME_MAX) -> str:
    """``name`` if it fits ``limit`` bytes (UTF-8); else its stem cut on a character
    boundary, a short digest of the whole name added (two long names sharing a start stay
    apart) and its suffix kept."""
    if len(name.encode()) <= limit:
        return name
    path = Path(name)
    suffix = path.suffix if len(path.suffix.encode()) <= SUFFIX_MAX else ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    tag = "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:8]
    room = limit - len(tag.encode()) - len(suffix.encode())
    cut = stem.encode()[:room].decode("utf-8", "ignore")
    return cut + tag + suffix


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
    """Copy ``path`` into quarantine as ``name`` with ``NAME.reason.txt`` beside it (a long
    name shortened to fit the file system, the full one in the reason)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = shown_name(name or path.name)
    stem = safe_name(f"{case_id}-{name}" if case_id else name)
    target = folder / stem
    shutil.copy2(path, target)
    reason_file = folder / f"{stem}{REASON_SUFFIX}"
    details = {"file": name, "case": case_id, "at": utcnow().isoformat(), "reason": reason}
    reason_file.write_text(
        f"{reason}\n\n{json.dumps(details, ensure_ascii=False, indent=2)}\n", encoding="utf-8"
    )
    return target
