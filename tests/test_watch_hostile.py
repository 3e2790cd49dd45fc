"""``rekey watch`` against what a careless or hostile dropper puts in the inbox: every file
ends in done/ or quarantine/ (with its reason) within a minute, whatever its name, type or
content; the watcher never dies and stays small; links, FIFOs and folders are refused
unread; formulas from spreadsheets are not kept as formulas."""

from __future__ import annotations

import os
import stat
import time
import zipfile
from pathlib import Path

import pytest

from connectors.inbox import NAME_MAX, REASON_SUFFIX
from rekey.store import Store
from tests import hostile
from tests.watching import Watcher, wait_until, watcher_env

SETTLE_S = 60
RSS_LIMIT_KB = 600 * 1024
SECRET = "root:$6$not-a-real-hash:19000:0:99999:7:::"
OWN = {"processing", "done", "quarantine"}


def make_files(staging: Path, outside: Path) -> list[Path]:
    """The regular hostile files, in ``staging`` (to be renamed into the inbox)."""
    made = [
        hostile.tall_csv(staging / "million.csv", 1_000_000),
        hostile.tall_xlsx(staging / "two-million.xlsx", 2_000_000),
        hostile.tall_xlsx(staging / "tall.xlsx", 50_000),
        hostile.billion_laughs_xlsx(staging / "laughs.xlsx"),
        hostile.external_entity_xlsx(staging / "entity.xlsx", outside),
        hostile.formula_csv(staging / "formulas.csv"),
        hostile.formula_xlsx(staging / "formulas.xlsx"),
        hostile.tiny_png(staging / "tiny.png"),
        hostile.zero_mediabox_pdf(staging / "zero-mediabox.pdf"),
    ]
    (staging / "inverted.pdf").write_bytes(hostile.pdf_bytes("0 0 -100 -100"))
    (staging / "tiny.jpg").write_bytes(
        hostile.cv2.imencode(".jpg", hostile.np.zeros((2, 2), hostile.np.uint8))[1]
    )
    (staging / "not-a-workbook.xlsx").write_bytes(_zip({"hello.txt": b"hello"}))
    (staging / "cut-short.xlsx").write_bytes((staging / "formulas.xlsx").read_bytes()[:300])
    (staging / "long-line.csv").write_text("full_name,id_number\n" + "x" * 3_000_000 + "\n")
    (staging / "latin1.csv").write_bytes("full_name,id_number\nJos\xe9,1\n".encode("latin-1"))
    (staging / "empty.pdf").write_bytes(b"")
    (staging / "letter.pdf").write_text("Dear Sir or Madam, my claim is attached.\n")
    (staging / "[bold red]markup[blink] :warning:.pdf").write_text("a note, not a PDF\n")
    (staging / "line\nbreak\r.pdf").write_text("a note with a broken name\n")
    made += [
        staging / name
        for name in (
            "inverted.pdf",
            "tiny.jpg",
            "not-a-workbook.xlsx",
            "cut-short.xlsx",
            "long-line.csv",
            "latin1.csv",
            "empty.pdf",
            "letter.pdf",
            "[bold red]markup[blink] :warning:.pdf",
            "line\nbreak\r.pdf",
        )
    ]
    for size, suffix in ((245, ".pdf"), (250, ".txt"), (255, ".pdf"), (251, ".csv")):
        for tag in ("a", "b"):  # two long names alike but for their start
            path = staging / hostile.long_name(size - len(suffix.encode()), suffix, tag)
            if suffix == ".pdf" and tag == "a":
                path.write_bytes(hostile.pdf_bytes("0 0 0 0", f"long {size}"))
            elif suffix == ".csv":
                hostile.tall_csv(path, 3 if tag == "a" else 4)
            else:
                path.write_text(f"plain text under a name of {size} bytes ({tag})\n")
            made.append(path)
    same_start = "s" * 240  # 255 bytes each, the same 240 first bytes
    for end in ("-one.pdf", "-two.pdf"):
        path = staging / (same_start + "x" * (255 - 240 - len(end)) + end)
        path.write_text(f"plain text {end}\n")
        made.append(path)
    return made


def _zip(parts: dict[str, bytes]) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, data in parts.items():
            zipped.writestr(name, data)
    return buffer.getvalue()


def make_odd_entries(inbox: Path, outside: Path) -> int:
    """Entries made in place: names that are not UTF-8, links, FIFOs, folders, hidden
    files. Returns how many."""
    made = 0
    for raw, data in (
        (b"caf\xe9-latin1.pdf", hostile.pdf_bytes("0 0 612 792", "Claim form here")),
        (b"\xff\xfe-bad.txt", b"plain text\n"),
        (
            b"half-\xe2\x82.png",
            hostile.cv2.imencode(".png", hostile.np.zeros((3, 3), hostile.np.uint8))[1],
        ),
    ):
        fd = os.open(hostile.bytes_path(inbox, raw), os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        os.write(fd, bytes(data))
        os.close(fd)
        made += 1
    os.symlink(outside, inbox / "shadow.pdf")
    os.symlink(inbox.parent / "nowhere.pdf", inbox / "dangling.pdf")
    os.symlink(outside.parent, inbox / "linked-folder")
    os.mkfifo(inbox / "pipe.pdf")
    os.mkfifo(inbox / "another-pipe")
    (inbox / "a-folder").mkdir()
    (inbox / "a-folder" / "inside.pdf").write_text("inside a folder\n")
    (inbox / "empty-folder").mkdir()
    (inbox / ".hidden.pdf").write_text("hidden\n")
    (inbox / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    return made + 9


def vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def entries(folder: Path) -> list[bytes]:
    return sorted(e.name for e in os.scandir(os.fsencode(folder)))


def kept(inbox: Path) -> list[Path]:
    """What sits in done/ and quarantine/ (reason files left out)."""
    return [
        p
        for folder in ("done", "quarantine")
        for p in (inbox / folder).iterdir()
        if not p.name.endswith(REASON_SUFFIX)
    ]


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.usefixtures("prefect_harness")
def test_hostile_drops_all_end_settled_and_the_watcher_lives(
    backoffice, tmp_path: Path, record_property
) -> None:
    inbox, data, staging = tmp_path / "inbox", tmp_path / "var", tmp_path / "staging"
    for folder in (inbox, staging):
        folder.mkdir()
    outside = tmp_path / "secret" / "shadow"
    outside.parent.mkdir()
    outside.write_text(SECRET + "\n")
    regular = make_files(staging, outside)

    # already there when the watcher starts: a name too long for a reason file, one that
    # is not UTF-8 (each killed the watcher at start before)
    early = staging / hostile.long_name(250, ".pdf", "early")
    early.write_text("plain text, there before the watcher\n")
    regular.append(early)
    os.rename(early, inbox / early.name)
    fd = os.open(hostile.bytes_path(inbox, b"early-\xff.pdf"), os.O_WRONLY | os.O_CREAT)
    os.write(fd, b"plain\n")
    os.close(fd)

    watcher = Watcher(
        inbox, watcher_env(backoffice, data, tmp_path / "prefect"), tmp_path / "w.log"
    )
    watcher.start()
    try:
        watcher.wait_started()
        dropped_at = time.monotonic()
        for path in regular:
            if path.exists():
                os.rename(path, inbox / path.name)
        odd = make_odd_entries(inbox, outside)
        (inbox / "in-flight.pdf.part").write_text("still being copied\n")
        total = len(regular) + 1 + odd  # + the early non-UTF-8 one
        assert total >= 40

        def all_settled() -> bool:
            assert not watcher.died(), watcher.output[-3000:]
            left = set(entries(inbox)) - {n.encode() for n in OWN} - {b"in-flight.pdf.part"}
            return not left and not entries(inbox / "processing") and len(kept(inbox)) >= total

        wait_until(all_settled, SETTLE_S, "every hostile file settled")
        settled_in = time.monotonic() - dropped_at
        peak_kb = vm_hwm_kb(watcher.process.pid)
        assert watcher.stop() == 0, watcher.output[-3000:]
    finally:
        watcher.close()
    output = watcher.output

    # everything ended once, in done/ or quarantine/, each quarantined one with its reason
    assert len(kept(inbox)) == total, sorted(p.name for p in kept(inbox))
    for path in (inbox / "quarantine").iterdir():
        assert len(os.fsencode(path.name)) <= NAME_MAX
        if not path.name.endswith(REASON_SUFFIX):
            assert Path(f"{path}{REASON_SUFFIX}").read_text().strip(), path.name
    reasons = {
        p.name[: -len(REASON_SUFFIX)]: p.read_text()
        for p in (inbox / "quarantine").glob(f"*{REASON_SUFFIX}")
    }
    names = set(reasons)
    assert "million.csv" in names and "more than 10000 rows" in reasons["million.csv"]
    assert "zip bomb" in reasons["two-million.xlsx"]
    assert "more than 10000 rows" in reasons["tall.xlsx"]
    assert "DTD" in reasons["laughs.xlsx"] and "DTD" in reasons["entity.xlsx"]
    assert "too small" in reasons["tiny.png"] and "too small" in reasons["tiny.jpg"]
    assert "no size" in reasons["zero-mediabox.pdf"]
    assert "symbolic link" in reasons["shadow.pdf"]
    assert (inbox / "quarantine" / "shadow.pdf").is_symlink()  # moved, never followed
    assert "FIFO" in reasons["pipe.pdf"]
    assert stat.S_ISFIFO(os.lstat(inbox / "quarantine" / "pipe.pdf").st_mode)
    assert "not accepted yet" in reasons["a-folder"]
    assert (inbox / "quarantine" / "a-folder" / "inside.pdf").is_file()
    assert "hidden" in reasons["hidden.pdf"]
    bad_utf8 = [text for text in reasons.values() if "not valid UTF-8" in text]
    assert len(bad_utf8) == 4 and any("caf\\xe9-latin1.pdf" in text for text in bad_utf8)
    long_ones = [n for n in names if n.startswith(("a-é-", "b-é-", "early-é-", "sss"))]
    assert len(long_ones) >= 7, long_ones  # shortened, each apart from the others
    # the file in flight is left alone, noted once
    assert (inbox / "in-flight.pdf.part").exists()
    assert output.count("in-flight.pdf.part: left in the inbox") == 1

    # nothing from outside the inbox was read into the data folder
    for path in data.rglob("*"):
        if path.is_file() and path.stat().st_size < 50_000_000:
            assert SECRET.encode() not in path.read_bytes(), path

    # formulas are kept as text
    store = Store(f"sqlite:///{data / 'rekey.db'}")
    rows = [c for c in store.list() if c.document.original_name.startswith("formulas.")]
    names_read = [c.fields["full_name"].value for c in rows if "full_name" in c.fields]
    assert len(names_read) == 2 * len(hostile.FORMULAS)
    assert all(str(v).startswith("'") for v in names_read), names_read

    # printed as text, never as markup; no traceback, no retry
    assert "[bold red]markup[blink] :warning:.pdf → quarantine" in output
    assert "Traceback" not in output, output[-3000:]
    assert "stays in processing" not in output
    record_property("settled_s", round(settled_in, 1))
    record_property("peak_rss_mb", peak_kb // 1024)
    assert peak_kb < RSS_LIMIT_KB, f"the watcher peaked at {peak_kb // 1024} MB"
    assert settled_in < SETTLE_S
