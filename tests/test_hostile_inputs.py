"""The watched folder's defences one by one, on real files: spreadsheets refused while they
stream, formulas kept as text, pages with no size, names too long or not UTF-8, and inbox
entries that are not files (refused unread, never followed, never waited on)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from connectors.claims import Folders, claim, free_name, lock, refusal, refuse, settle
from connectors.inbox import (
    KEEP_NAME_MAX,
    NAME_MAX,
    fit_name,
    list_documents,
    quarantine,
    safe_name,
    shown_name,
)
from extractors.pdf import text_pages
from extractors.raster import image_pages
from extractors.sniff import CSV, XLSX
from extractors.tabular import MAX_ROWS, neutralise, read_rows
from rekey.errors import BadDocument
from tests import hostile


@pytest.fixture
def folders(tmp_path: Path) -> Folders:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return Folders.of(inbox).make()


def test_a_tall_csv_is_refused_as_its_rows_are_counted(tmp_path: Path) -> None:
    path = hostile.tall_csv(tmp_path / "tall.csv", 300_000)
    started = time.monotonic()
    with pytest.raises(BadDocument, match=f"more than {MAX_ROWS} rows"):
        read_rows(path, CSV)
    assert time.monotonic() - started < 2  # it stopped at row 10,001, unread beyond
    assert len(read_rows(hostile.tall_csv(tmp_path / "ok.csv", MAX_ROWS), CSV)) == MAX_ROWS


def test_a_csv_line_without_end_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "line.csv"
    path.write_text("full_name,id_number\n" + "x" * 3_000_000)
    with pytest.raises(BadDocument, match="line longer than"):
        read_rows(path, CSV)


def test_a_tall_xlsx_is_refused_as_its_rows_are_counted(tmp_path: Path) -> None:
    with pytest.raises(BadDocument, match=f"more than {MAX_ROWS} rows"):
        read_rows(hostile.tall_xlsx(tmp_path / "tall.xlsx", 20_000), XLSX)
    with pytest.raises(BadDocument, match="zip bomb"):
        read_rows(hostile.tall_xlsx(tmp_path / "huge.xlsx", 400_000), XLSX)


@pytest.mark.parametrize("make", [hostile.billion_laughs_xlsx, hostile.external_entity_xlsx])
def test_an_xlsx_with_a_dtd_is_refused_unparsed(tmp_path: Path, make) -> None:
    with pytest.raises(BadDocument, match="declares a DTD"):
        read_rows(make(tmp_path / "bomb.xlsx"), XLSX)


def test_formulas_from_csv_and_xlsx_are_kept_as_text(tmp_path: Path) -> None:
    for rows in (
        read_rows(hostile.formula_csv(tmp_path / "f.csv"), CSV),
        read_rows(hostile.formula_xlsx(tmp_path / "f.xlsx"), XLSX),
    ):
        assert len(rows) == len(hostile.FORMULAS)
        assert all(row["full_name"].startswith("'") for row in rows), rows
        assert all(row["date_of_birth"] == "1970-01-01" for row in rows)
    # numbers and phone numbers with a sign stay as they are
    assert neutralise("+44 20 7946 0000") == "+44 20 7946 0000"
    assert neutralise("-12.50") == "-12.50"
    assert neutralise("+1-848-649-7314x3237") == "+1-848-649-7314x3237"
    assert neutralise("+1 554 559 6683 ext. 646") == "+1 554 559 6683 ext. 646"
    assert neutralise("+1x+cmd|' /C calc'!A0").startswith("'")
    assert neutralise("-2+3+cmd|' /C calc'!A0").startswith("'")
    assert neutralise("Smith") == "Smith"


def test_pages_with_no_size_are_bad_documents(tmp_path: Path) -> None:
    with pytest.raises(BadDocument, match="no size"):
        text_pages(hostile.zero_mediabox_pdf(tmp_path / "zero.pdf"))
    with pytest.raises(BadDocument, match="too small"):
        list(image_pages(hostile.tiny_png(tmp_path / "tiny.png")))


def test_long_names_are_cut_to_fit_with_their_suffix_and_kept_apart() -> None:
    a = hostile.long_name(251, ".pdf", "a")
    b = a[:-5] + "y.pdf"  # the same name but its last letter
    fa, fb = fit_name(a), fit_name(b)
    assert fa != fb and fa.endswith(".pdf") and fb.endswith(".pdf")
    assert len(fa.encode()) <= KEEP_NAME_MAX and fa.startswith("a-é-")
    assert fit_name("short.pdf") == "short.pdf"
    cut = fit_name("é" * 200 + ".pdf")  # never cut inside a character
    assert cut.encode().decode() == cut and len(cut.encode()) <= KEEP_NAME_MAX


def test_names_that_are_not_utf8_are_shown_escaped_and_made_safe() -> None:
    name = os.fsdecode(b"caf\xe9\n.pdf")
    assert shown_name(name) == "caf\\xe9\\n.pdf"
    assert safe_name(name) == "caf__.pdf"
    assert safe_name("../../etc/passwd") == "_.._etc_passwd"


def test_long_names_settle_and_quarantine_with_their_reason(folders: Folders, tmp_path: Path):
    name = hostile.long_name(251, ".pdf")
    for number in range(3):  # the same long name dropped three times
        (folders.inbox / name).write_text(f"plain text {number}\n")
        held = claim(folders.inbox / name, folders)
        assert held is not None
        target = settle(held, folders.quarantine, "the file is plain text")
        assert Path(f"{target}.reason.txt").read_text().startswith("the file is plain text")
    kept = sorted(p.name for p in folders.quarantine.iterdir())
    assert len(kept) == 6 and all(len(n.encode()) <= NAME_MAX for n in kept)
    copy = quarantine(target, "why", tmp_path / "var-quarantine", name, "0123456789abcdef")
    assert copy.is_file() and len(copy.name.encode()) <= KEEP_NAME_MAX
    assert name in Path(f"{copy}.reason.txt").read_text()  # the full name, in the reason


def test_what_is_not_a_file_is_refused_unread(folders: Folders, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the inbox")
    inbox = folders.inbox
    os.symlink(secret, inbox / "link.pdf")
    os.mkfifo(inbox / "pipe.pdf")
    (inbox / "folder").mkdir()
    (inbox / ".hidden.pdf").write_text("x")
    fd = os.open(hostile.bytes_path(inbox, b"bad-\xff.pdf"), os.O_WRONLY | os.O_CREAT)
    os.close(fd)
    (inbox / "fine.pdf").write_text("x")

    documents = {os.fsencode(p.name) for p in list_documents(inbox)}
    assert documents == {b".hidden.pdf", b"fine.pdf", b"bad-\xff.pdf"}  # no link, FIFO, folder
    assert lock(inbox / "pipe.pdf") is None  # returns at once: never waits on a writer
    assert lock(inbox / "link.pdf") is None  # never through a link
    assert claim(inbox / "link.pdf", folders) is None
    entries = [p for p in inbox.iterdir() if p.name not in {"processing", "done", "quarantine"}]
    reasons = {p: refusal(p) for p in entries}
    assert reasons.pop(inbox / "fine.pdf") is None
    assert all(reasons.values()), reasons
    for path, why in reasons.items():
        assert refuse(path, folders.quarantine, why) is not None
    kept = {p.name for p in folders.quarantine.iterdir()}
    assert {"link.pdf", "pipe.pdf", "folder", "hidden.pdf", "bad-_.pdf"} <= kept
    assert (folders.quarantine / "link.pdf").is_symlink()
    assert secret.read_text() == "not for the inbox"
    assert "\\xff" in (folders.quarantine / "bad-_.pdf.reason.txt").read_text()
    assert "symbolic link" in (folders.quarantine / "link.pdf.reason.txt").read_text()
    assert free_name(folders.quarantine, "link.pdf").name == "link~1.pdf"


@pytest.mark.usefixtures("prefect_harness")
def test_a_crash_outside_the_reading_stage_quarantines_never_fails(tmp_path: Path) -> None:
    """Understanding raises after the document was read (here: its layout cannot be saved,
    a folder is where the file goes): the case ends quarantined with the stage and the
    exception, not parked as failed to be retried for ever."""
    from flows.process import read_case
    from rekey import pipeline
    from rekey.models import CaseState
    from rekey.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    pdf = tmp_path / "form.pdf"
    pdf.write_bytes(hostile.pdf_bytes("0 0 612 792", "Claim form for a claim"))
    case, _ = pipeline.intake(pdf, settings)
    (pipeline.case_dir(settings, case) / "layout.json").mkdir()
    case, keyed = read_case(case, settings)
    assert not keyed and case.state is CaseState.quarantined
    assert "form.pdf: understanding crashed with IsADirectoryError" in case.reason
