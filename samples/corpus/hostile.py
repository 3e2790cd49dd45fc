"""Hostile inputs for the intake tests, and a file that is still being written.

:func:`write_hostile` writes the set; :class:`SlowFile` and :func:`write_slowly` simulate a
producer that has not finished writing when a watcher picks the file up. Neither sleeps: the
test decides when the next chunk lands (``step()``), or releases it through an Event.
"""

from __future__ import annotations

import io
import shutil
import struct
import threading
import zlib
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

BOMB_SIDE = 20_000
HOSTILE_PASSWORD = "rekey-secret"
ODD_NAMES = ("claim ..final.pdf", "schadensmeldung-müller.pdf", "理赔 申请.pdf")


def small_pdf(text: str = "rekey hostile sample", pages: int = 1) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    for page in range(1, pages + 1):
        canvas.setFont("Helvetica", 12)
        canvas.drawString(72, 770, f"{text} - page {page} of {pages}")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def bomb_png(side: int = BOMB_SIDE) -> bytes:
    """A PNG declaring ``side`` x ``side`` 8-bit grey pixels, all white, compressed to KBs.

    The raw rows are streamed through zlib a block at a time, never held in memory whole.
    """
    row = side + 1  # filter byte + one byte per pixel
    compressor = zlib.compressobj(9)
    # Every row is filter 0 then 0xFF pixels; feed rows in blocks.
    block_rows = 256
    block = (b"\x00" + b"\xff" * side) * block_rows
    parts = []
    remaining = side
    while remaining:
        take = min(block_rows, remaining)
        parts.append(compressor.compress(block[: take * row]))
        remaining -= take
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"".join(
        [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header), _chunk(b"IDAT", b"".join(parts)),
         _chunk(b"IEND", b"")]
    )  # fmt: skip


def encrypted_pdf(password: str = HOSTILE_PASSWORD) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(small_pdf("encrypted"))))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def truncated_pdf() -> bytes:
    """The first part of a PDF: the header and a partial first object, no catalog or xref."""
    return small_pdf("truncated")[:160]


def write_hostile(out: Path) -> dict[str, Path]:
    """Write every hostile input under ``out``; returns them by kind."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "zero_bytes": (out / "empty.pdf", b""),
        "truncated_pdf": (out / "truncated.pdf", truncated_pdf()),
        "encrypted_pdf": (out / "encrypted.pdf", encrypted_pdf()),
        "300_pages": (out / "three-hundred-pages.pdf", small_pdf("long document", 300)),
        "bomb_png": (out / "bomb-20000x20000.png", bomb_png()),
    }
    written = {}
    for kind, (path, data) in files.items():
        path.write_bytes(data)
        written[kind] = path
    exe = out / "invoice.pdf"
    with open(shutil.which("true") or "/bin/true", "rb") as fh:
        exe.write_bytes(fh.read(4096))
    written["executable_as_pdf"] = exe
    for i, name in enumerate(ODD_NAMES):
        path = out / name
        path.write_bytes(small_pdf(f"odd file name {i}"))
        written[f"odd_name_{i}"] = path
    return written


class SlowFile:
    """A file written in ``chunks`` explicit steps: ``step()`` appends the next chunk."""

    def __init__(self, path: Path, data: bytes, chunks: int = 4) -> None:
        size = max(1, -(-len(data) // chunks))
        self.path = path
        self.parts = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
        self.written = 0
        path.write_bytes(b"")

    @property
    def done(self) -> bool:
        return self.written == len(self.parts)

    def step(self) -> bool:
        """Append the next chunk (flushed to disk); True once the file is complete."""
        if not self.done:
            with self.path.open("ab") as fh:
                fh.write(self.parts[self.written])
                fh.flush()
            self.written += 1
        return self.done

    def finish(self) -> None:
        while not self.step():
            pass


def write_slowly(
    path: Path,
    data: bytes,
    chunks: int,
    proceed: threading.Event,
    timeout: float | None = None,
) -> None:
    """Write ``data`` in ``chunks``; before each chunk after the first, wait for ``proceed``.

    Run it in a thread; the test sets ``proceed`` each time it wants one more chunk. A
    ``timeout`` bounds each wait so a broken test cannot hang forever.
    """
    slow = SlowFile(path, data, chunks)
    slow.step()
    while not slow.done:
        if not proceed.wait(timeout):
            raise TimeoutError(f"nobody let {path.name} continue")
        proceed.clear()
        slow.step()
