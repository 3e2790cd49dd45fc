"""The corpus a run measures: ``ensure_corpus(n, seed)`` and its truth files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from benchmarks.figures import CorpusDoc
from rekey.models import Truth
from samples.corpus import generate


def corpus_today(folder: Path) -> date:
    """The date the corpus treats as today (its manifest's, else the generator's TODAY)."""
    manifest = folder / generate.MANIFEST
    if manifest.is_file():
        today = json.loads(manifest.read_text(encoding="utf-8")).get("today")
        if today:
            return date.fromisoformat(today)
    return generate.TODAY


def load_documents(folder: Path) -> list[CorpusDoc]:
    """Every document of the corpus with its validated truth, in manifest order."""
    manifest = json.loads((folder / generate.MANIFEST).read_text(encoding="utf-8"))
    docs = []
    for entry in manifest["documents"]:
        truth = Truth.model_validate_json((folder / entry["truth"]).read_text(encoding="utf-8"))
        docs.append(CorpusDoc(folder / entry["file"], truth))
    return docs


def ensure(n: int, seed: int, root: Path) -> Path:
    return generate.ensure_corpus(n, seed, root=root)
