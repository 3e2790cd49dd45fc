"""The corpus generator: truth files, renditions, filled real forms, determinism, hostiles."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import cv2
import numpy as np
import pdfplumber
import pytest
from PIL import Image
from pypdf import PdfReader
from stdnum.cn import ric

from rekey.models import Truth
from samples.corpus import generate as gen
from samples.corpus import irs
from samples.corpus.hostile import HOSTILE_PASSWORD, SlowFile, write_hostile
from samples.corpus.passport import check_digit, td3_mrz

SMALL = Path(__file__).resolve().parents[1] / "samples" / "corpus" / "small"
FORMS = irs.forms_dir()


def require_forms() -> None:
    assert FORMS.is_dir(), f"the blank W-9 and CMS-1500 are needed at {FORMS} (or $REKEY_FORMS_DIR)"


def truths(folder: Path) -> dict[Path, Truth]:
    return {
        p: Truth.model_validate_json(p.read_text(encoding="utf-8"))
        for p in sorted(folder.glob("*.truth.json"))
    }


def document_of(truth_path: Path, truth: Truth) -> Path:
    stem = truth_path.name.removesuffix(".truth.json")
    return truth_path.with_name(f"{stem}.{truth.container}")


def page_images(path: Path) -> tuple[list[np.ndarray], list[float]]:
    """Greyscale pages and their dpi, read from the file itself."""
    if path.suffix in (".tiff", ".png"):
        image = Image.open(path)
        pages, dpis = [], []
        for i in range(getattr(image, "n_frames", 1)):
            image.seek(i)
            pages.append(np.asarray(image.convert("L")))
            dpis.append(float(image.info["dpi"][0]))
        return pages, dpis
    reader = PdfReader(path)
    pages, dpis = [], []
    for page in reader.pages:
        (xobject,) = page["/Resources"]["/XObject"].values()
        xobject = xobject.get_object()
        width_px = int(xobject["/Width"])
        dpis.append(width_px / float(page.mediabox.width) * 72)
        pages.append(np.asarray(Image.open(io.BytesIO(xobject.get_data())).convert("L")))
    return pages, dpis


def estimate_skew(page: np.ndarray) -> float:
    """Skew in degrees (counter-clockwise positive) by projection-profile search."""
    scale = 900 / max(page.shape)
    small = cv2.resize(page, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ink = (small < 140).astype(np.float32)
    h, w = ink.shape
    best, best_score = 0.0, -1.0
    for angle in np.arange(-6.0, 6.01, 0.1):
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
        turned = cv2.warpAffine(ink, matrix, (w, h))
        score = float(np.var(turned.sum(axis=1)))
        if score > best_score:
            best, best_score = float(angle), score
    return best


def upright(page: np.ndarray, rotation: int) -> np.ndarray:
    return np.rot90(page, k=rotation // 90)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A handful of documents covering every kind, generated in-process."""
    out = tmp_path_factory.mktemp("corpus")
    require_forms()
    specs = gen.small_specs()
    gen.generate(out, len(specs), gen.SMALL_SEED, 0.0, workers=1, specs=specs)
    return out


def test_small_set_truth_files_validate() -> None:
    found = truths(SMALL)
    assert len(found) >= 10
    kinds = {t.kind for t in found.values()}
    assert {"claim", "account_opening", "claim_cn", "passport", "w9", "cms1500"} <= kinds
    for path, truth in found.items():
        assert document_of(path, truth).is_file(), path
        assert len(truth.skew_degrees) == len(
            truth.rotation
        ) == truth.pages or truth.kind.startswith("batch_")
    assert (SMALL / "policies.csv").is_file()
    assert gen.is_complete(SMALL)


def test_small_set_is_small() -> None:
    assert sum(p.stat().st_size for p in SMALL.iterdir()) < 10 * 1024 * 1024


def test_small_set_is_what_small_regenerates(tiny: Path) -> None:
    for path in sorted(tiny.glob("*.truth.json")):
        assert path.read_bytes() == (SMALL / path.name).read_bytes(), path.name


def test_same_seed_gives_identical_truth(tmp_path: Path) -> None:
    specs = [s for s in gen.plan(8, seed=5) if s.kind not in ("w9", "cms1500")]
    digital = [
        gen.DocSpec(
            s.index,
            s.kind,
            "digital",
            s.container
            if s.kind.startswith("batch")
            else ("png" if s.kind == "passport" else "pdf"),
            s.seed,
            s.error,
        )
        for s in specs
    ]
    for run in ("a", "b"):
        gen.generate(tmp_path / run, len(digital), 5, workers=1, specs=digital)
    names = sorted(p.name for p in (tmp_path / "a").glob("*.truth.json"))
    assert names
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert gen.plan(50, 9) == gen.plan(50, 9)


def test_plan_spreads_kinds_renditions_and_errors() -> None:
    specs = gen.plan(200, seed=7)
    assert {s.kind for s in specs} == set(gen.KIND_WEIGHTS)
    assert {"digital", "clean_scan", "office_scan", "bad_fax", "flattened"} <= {
        s.rendition for s in specs
    }
    assert {"pdf", "tiff"} <= {s.container for s in specs if "scan" in s.rendition}
    share = sum(s.error is not None for s in specs) / len(specs)
    assert 0.1 < share < 0.3
    assert gen.plan(200, 7, error_share=0.0) and not any(s.error for s in gen.plan(200, 7, 0.0))


def test_renditions_are_what_they_claim(tiny: Path) -> None:
    checked = 0
    for path, truth in truths(tiny).items():
        if truth.rendition not in ("clean_scan", "office_scan", "bad_fax"):
            continue
        doc = document_of(path, truth)
        assert doc.suffix == "." + truth.container
        pages, dpis = page_images(doc)
        assert len(pages) == truth.pages == len(truth.skew_degrees) == len(truth.rotation)
        for page, dpi, skew, rotation in zip(
            pages, dpis, truth.skew_degrees, truth.rotation, strict=True
        ):
            assert dpi == pytest.approx(truth.dpi, abs=1)
            limits = {"clean_scan": (0, 1), "office_scan": (1, 3), "bad_fax": (0, 5)}
            low, high = limits[truth.rendition]
            assert low <= abs(skew) <= high
            if truth.kind != "passport":  # A4 portrait unless turned a quarter
                assert (page.shape[1] > page.shape[0]) == (rotation in (90, 270))
            measured = estimate_skew(upright(page, rotation))
            assert measured == pytest.approx(skew, abs=0.5), (path.name, measured, skew)
            checked += 1
    assert checked >= 5


def test_rotated_fax_pages_are_really_turned(tmp_path: Path) -> None:
    spec = gen.DocSpec(0, "account_opening", "bad_fax", "tiff", 0, None)
    for seed in range(40):  # find a seed whose page is turned 180
        spec = gen.DocSpec(0, "account_opening", "bad_fax", "tiff", seed, None)
        plan = gen.degrade.plan_pages(
            gen.degrade.RENDITIONS["bad_fax"], 1, np.random.default_rng(seed)
        )
        if plan[0].rotation == 180:
            break
    gen.build(spec, tmp_path)
    truth = Truth.model_validate_json((tmp_path / f"{spec.name}.truth.json").read_text())
    assert truth.rotation == [180]
    (page,), _ = page_images(tmp_path / f"{spec.name}.tiff")
    ink_rows = np.nonzero((page < 100).sum(axis=1) > 20)[0]
    assert ink_rows.mean() > page.shape[0] / 2  # the form's content sits low: upside down


def test_fillable_forms_read_back(tiny: Path) -> None:
    fillable = {
        path: truth
        for path, truth in truths(tiny).items()
        if truth.kind in ("w9", "cms1500") and truth.rendition == "digital"
    }
    assert {t.kind for t in fillable.values()} == {"w9", "cms1500"}
    for path, truth in fillable.items():
        fields = PdfReader(document_of(path, truth)).get_fields()
        values = {name.split(".")[-1]: f.get("/V") for name, f in fields.items()}
        if truth.kind == "w9":
            assert values["f1_1[0]"] == truth.fields["name"]
            assert values["f1_7[0]"] == truth.fields["address"]
        else:
            printed = values["pt_name"].replace(",", "").split()
            assert sorted(printed) == sorted(truth.fields["patient_name"].upper().split())
            assert values["insurance_id"] == truth.fields["insured_id"]


def test_flattened_forms_show_values_and_have_no_fields(tmp_path: Path) -> None:
    require_forms()
    for kind in ("w9", "cms1500"):
        spec = gen.DocSpec(1, kind, "flattened", "pdf", 42, None)
        gen.build(spec, tmp_path)
        truth = json.loads((tmp_path / f"{spec.name}.truth.json").read_text())["fields"]
        pdf = tmp_path / f"{spec.name}.pdf"
        assert not PdfReader(pdf).get_fields()
        with pdfplumber.open(pdf) as doc:
            text = doc.pages[0].extract_text()
        if kind == "w9":
            assert truth["name"] in text and truth["address"] in text
        else:
            assert truth["insured_id"] in text and truth["patient_name"].split()[-1].upper() in text


def test_cn_resident_ids_and_planted_checksum(tiny: Path) -> None:
    for truth in truths(tiny).values():
        if truth.kind == "claim_cn":
            valid = ric.is_valid(truth.fields["id_number"])
            assert valid == (truth.planted_error != "id_checksum")
    with pdfplumber.open(tiny / "0005-claim_cn-digital.pdf") as doc:
        assert "保险理赔申请表" in doc.pages[0].extract_text()


def test_passport_mrz() -> None:
    line1, line2 = td3_mrz(
        state="UTO", surname="Eriksson", given_names="Anna Maria", number="L898902C3",
        nationality="UTO", birth=__import__("datetime").date(1974, 8, 12), sex="F",
        expiry=__import__("datetime").date(2012, 4, 15), personal_number="ZE184226B",
    )  # fmt: skip
    assert line1 == "P<UTOERIKSSON<<ANNA<MARIA" + "<" * 19
    assert line2 == "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
    for truth in truths(SMALL).values():
        if truth.kind == "passport":
            l2 = truth.fields["mrz_line2"]
            assert len(truth.fields["mrz_line1"]) == len(l2) == 44
            assert (check_digit(l2[:9]) == l2[9]) == (truth.planted_error != "id_checksum")


def test_policy_register_is_consistent_with_claims() -> None:
    import csv

    register = {
        r["policy_number"]: r
        for r in csv.DictReader((SMALL / "policies.csv").open(encoding="utf-8"))
    }
    for truth in truths(SMALL).values():
        if truth.kind not in ("claim", "claim_cn"):
            continue
        policy = register.get(truth.fields["policy_number"])
        if truth.planted_error == "policy_not_found":
            assert policy is None
            continue
        assert policy and policy["status"] == "active"
        assert policy["holder"] == truth.fields["claimant_name"]
        over = float(policy["coverage"]) < float(truth.fields["amount_claimed"])
        assert over == (truth.planted_error == "over_coverage")


def test_hostile_files_are_what_they_claim(tmp_path: Path) -> None:
    files = write_hostile(tmp_path)
    assert files["zero_bytes"].stat().st_size == 0
    with pytest.raises(Exception):  # noqa: B017 - any failure to parse will do
        PdfReader(files["truncated_pdf"], strict=True).pages[0]
    encrypted = PdfReader(files["encrypted_pdf"])
    assert encrypted.is_encrypted and not encrypted.decrypt("")
    assert PdfReader(files["encrypted_pdf"], password=HOSTILE_PASSWORD).pages
    assert len(PdfReader(files["300_pages"]).pages) == 300
    head = files["bomb_png"].read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (20_000, 20_000)
    assert files["bomb_png"].stat().st_size < 2 * 1024 * 1024
    assert files["executable_as_pdf"].read_bytes()[:4] == b"\x7fELF"
    names = {p.name for k, p in files.items() if k.startswith("odd_name")}
    assert {"claim ..final.pdf", "schadensmeldung-müller.pdf", "理赔 申请.pdf"} == names


def test_slow_file_grows_one_step_at_a_time(tmp_path: Path) -> None:
    target = tmp_path / "arriving.pdf"
    slow = SlowFile(target, b"%PDF-1.4 " + b"x" * 991, chunks=4)
    sizes = []
    while not slow.step():
        sizes.append(target.stat().st_size)
    assert sizes == sorted(sizes) and sizes[-1] < 1000
    assert target.stat().st_size == 1000


def test_ensure_corpus_reuses_a_complete_set(tmp_path: Path) -> None:
    folder = gen.ensure_corpus(3, 11, root=tmp_path)
    assert folder == tmp_path / "11-3" and gen.is_complete(folder)
    stamp = (folder / gen.MANIFEST).stat().st_mtime_ns
    assert gen.ensure_corpus(3, 11, root=tmp_path) == folder
    assert (folder / gen.MANIFEST).stat().st_mtime_ns == stamp
