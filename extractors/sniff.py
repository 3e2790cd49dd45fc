"""What a file really is, from its first bytes (never from its name)."""

from __future__ import annotations

from pathlib import Path

from rekey.errors import BadDocument

SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
]
DESCRIBE = {
    b"\x7fELF": "an executable program",
    b"MZ": "a Windows executable",
    b"PK\x03\x04": "a ZIP archive (or an Office file)",
}


CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TABULAR = frozenset({CSV, XLSX})


def media_type(path: Path) -> str:
    """Return the media type of ``path`` or raise :class:`BadDocument` saying what it is.

    Content decides; the name only tells a CSV from other text and an XLSX from other ZIPs.
    """
    with path.open("rb") as fh:
        head = fh.read(1024)
    if not head:
        raise BadDocument("the file is empty (0 bytes)")
    suffix = path.suffix.lower()
    if suffix == ".xlsx" and head.startswith(b"PK\x03\x04"):
        return XLSX
    if suffix == ".csv" and _looks_like_text(head) and b"," in head.split(b"\n")[0]:
        return CSV
    for magic, kind in SIGNATURES:
        if head.startswith(magic) or (magic == b"%PDF-" and magic in head):
            return kind
    for magic, what in DESCRIBE.items():
        if head.startswith(magic):
            raise BadDocument(f"the file is {what}, not a PDF or an image")
    if _looks_like_text(head):
        raise BadDocument("the file is plain text, not a PDF or an image")
    raise BadDocument("the file is not a PDF or an image (unrecognised content)")


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a character cut by the 1 KB window
    return True
