"""The pipeline's stages without Prefect: extraction is cached by content and template
versions, and pages are kept for the reviewer."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from extractors.cache import cache_key, reader_code
from extractors.templates import load_templates
from rekey import pipeline
from rekey.settings import Settings


def settings_in(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]


def test_extraction_is_cached_by_content(tmp_path: Path, sample_pdfs: list[Path]) -> None:
    settings = settings_in(tmp_path)
    case, new = pipeline.intake(sample_pdfs[0], settings)
    assert new
    kind, pages, first = pipeline.extract_document(case, settings)
    assert (kind, pages) == ("application/pdf", 2)
    assert (pipeline.case_dir(settings, case) / "page-1.png").is_file()
    Path(case.document.stored_path).unlink()  # a second read would now fail
    again = pipeline.extract_document(case, settings)
    assert again[2].fields == first.fields and again[2].template.name == first.template.name


def test_a_new_template_version_reads_again(tmp_path: Path, sample_pdfs: list[Path]) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(Path(Settings().templates_dir), templates)
    shutil.copytree(Path(Settings().templates_dir).parent / "forms", tmp_path / "forms")  # blanks
    settings = settings_in(tmp_path).model_copy(update={"templates_dir": templates})
    case, _ = pipeline.intake(sample_pdfs[0], settings)
    pipeline.extract_document(case, settings)
    claim = templates / "claim.yaml"
    text = claim.read_text()
    version = int(re.search(r"^version: (\d+)", text, re.M).group(1))
    claim.write_text(text.replace(f"version: {version}", f"version: {version + 1}", 1))
    pipeline.load_templates.cache_clear()
    Path(case.document.stored_path).unlink()
    try:
        with pytest.raises(FileNotFoundError):  # not from the cache: the file is read again
            pipeline.extract_document(case, settings)
    finally:
        pipeline.load_templates.cache_clear()


def test_new_reader_code_reads_again() -> None:
    """A fix to how documents are read must not be answered from the old code's cache."""
    templates = load_templates(Path(Settings().templates_dir)).values()
    today = cache_key("a" * 64, templates)
    assert today == cache_key("a" * 64, templates, reader_code())  # stable for this code
    assert cache_key("a" * 64, templates, "another build") != today
    assert cache_key("b" * 64, templates) != today


def test_a_document_whose_reading_raises_is_quarantined_with_the_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 1x1 PNG makes OpenCV raise while the page is prepared (with the size check that
    refuses it first turned off): the case ends quarantined, never failed (failed is
    retried for ever), and the reason names the stage and error."""
    from PIL import Image

    from extractors import raster
    from rekey.models import CaseState

    monkeypatch.setattr(raster, "MIN_SIDE", 1)
    settings = settings_in(tmp_path)
    dot = tmp_path / "dot.png"
    Image.new("L", (1, 1), 255).save(dot)
    case, _ = pipeline.intake(dot, settings)
    case = pipeline.understand(case, settings)
    assert case.state is CaseState.quarantined
    assert "dot.png: reading crashed with error" in case.reason
    kept = settings.quarantine_dir / f"{case.id}-dot.png"
    reason = kept.with_name(kept.name + ".reason.txt").read_text()
    assert "reading crashed" in reason and "resize" in reason


def test_an_amount_printed_twice_that_disagrees_is_a_finding_the_reviewer_sees(
    tmp_path: Path,
) -> None:
    from rekey.models import CaseState
    from tests.review_support import review_case

    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    case = review_case(settings, tmp_path / "docs", 11, amount_claimed="14,250.00")
    (finding,) = [f for f in case.findings if f.rule == "printed_again"]
    assert finding.fields == ["amount_claimed"] and finding.severity == "error"
    assert "'14250.00' on page 1" in finding.message
    assert "'6783.91' where the form prints it again on page 2" in finding.message
    assert case.state is CaseState.review
    assert finding.message in case.decision.reasons
