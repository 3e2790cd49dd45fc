"""Helpers for the review station's tests: review cases made from real claim PDFs run
through the pipeline, users, and a signed-in HTTP client against a served station."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import httpx

from rekey import pipeline
from rekey.models import Case
from rekey.review.app import create_user
from rekey.settings import Settings
from samples.corpus.claim_form import render_claim_pdf
from samples.corpus.inbox import INBOX_TODAY
from samples.corpus.values import claim_values

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def claim_pdf(folder: Path, seed: int, **display: str) -> Path:
    """The demo inbox's claim for ``seed``, with some printed values replaced."""
    values = claim_values(seed, INBOX_TODAY)
    values.display.update(display)
    return render_claim_pdf(
        folder / f"claim-{seed}.pdf",
        values.display,
        values.ticks,
        values.expenses,
        values.expenses_total,
    )


def review_case(settings: Settings, folder: Path, seed: int, **display: str) -> Case:
    """A case read from a real PDF by the pipeline; with a wrong value it waits for review."""
    folder.mkdir(parents=True, exist_ok=True)
    case, _ = pipeline.intake(claim_pdf(folder, seed, **display), settings)
    return pipeline.understand(case, settings)


def add_user(settings: Settings, name: str, role: str = "reviewer") -> str:
    """Create a user; returns the password."""
    password = secrets.token_urlsafe(12)
    create_user(pipeline.store_for(settings), name, password, role)
    return password


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def signed_in(url: str, user: str, password: str) -> httpx.Client:
    """An HTTP client signed in to the station at ``url`` (redirects not followed)."""
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"username": user, "password": password, "csrf": token})
    assert answer.status_code == 303, answer.text
    return client


def post_form(client: httpx.Client, page: str, action: str, **data: str) -> httpx.Response:
    """POST ``data`` to ``action`` with the CSRF token of the form on ``page``."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={**data, "csrf": token})
