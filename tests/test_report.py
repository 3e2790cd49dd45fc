"""``rekey report``: exact figures on constructed cases, then a store on PostgreSQL filled by
running real documents through the flow, the HTML report and the command."""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from rekey.models import AuditEvent, Case, CaseState, Decision, Document, Finding, Receipt
from rekey.report import charts, html
from rekey.report.figures import (
    UNCLASSIFIED,
    days,
    documents_straight_through,
    figures,
    nearest_rank,
    straight_through,
)
from rekey.settings import PROJECT_ROOT
from tests.conftest_postgres import fresh_database

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SINCE = datetime(2026, 11, 1, tzinfo=UTC)
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)


# -- exact figures on constructed cases ---------------------------------------------------
def made(
    name: str,
    at: datetime,
    path: list[tuple[str, float]],
    doc_type: str | None = "claim",
    route: str | None = "auto",
    findings: tuple[Finding, ...] = (),
    row: int | None = None,
    batch: str | None = None,
    reason: str | None = None,
) -> tuple[Case, list[AuditEvent]]:
    """A case received at ``at`` that went through ``path`` (state, seconds after ``at``),
    with the audit events the store would have written."""
    case = Case(
        id=name,
        document=Document(original_name=f"{name}.pdf", sha256=name.ljust(64, "0"), size=1, row=row),
        state=CaseState(path[-1][0]) if path else CaseState.received,
        doc_type=doc_type,
        decision=Decision(route=route) if route else None,
        findings=list(findings),
        reason=reason,
        receipt=Receipt(reference=f"R-{name}")
        if ("keyed", 0) in {(s, 0) for s, _ in path}
        else None,
        created_at=at,
        updated_at=at,
    )
    received = AuditEvent(
        case_id=name, at=at, action="received", detail={"batch": batch} if batch else {}
    )
    moves = [
        AuditEvent(case_id=name, at=at + timedelta(seconds=s), action=f"state:{state}")
        for state, s in path
    ]
    return case, [received, *moves]


def error(rule: str) -> Finding:
    return Finding(rule=rule, message=f"{rule} <fired>")


def warning(rule: str) -> Finding:
    return Finding(rule=rule, severity="warning", message=rule)


def constructed() -> tuple[list[Case], list[AuditEvent]]:
    day2, day4 = T0 + timedelta(days=1), T0 + timedelta(days=3)
    keyed = [("validated", 1), ("keying", 2)]
    made_cases = [
        made("a", T0, [*keyed, ("keyed", 10), ("done", 11)]),
        made("b", T0, [*keyed, ("keyed", 30), ("done", 31)]),
        made(
            "c",
            day2,
            [("validated", 1), ("review", 2)],
            route="review",
            findings=(error("over_coverage"), warning("phone")),
        ),
        made(
            "d",
            day2,
            [("review", 2), ("approved", 500), ("keying", 501), ("keyed", 600)],
            doc_type="account_opening",
            route="review",
            findings=(error("under_18"),),
        ),
        made("e", day2, [*keyed, ("failed", 20), ("keying", 40), ("keyed", 50), ("done", 51)]),
        made("f", day4, [("quarantined", 1)], doc_type=None, route=None, reason="empty file"),
        made("g", day4, [("done", 3)], doc_type=None, route=None),  # a batch file
        made(
            "g1",
            day4,
            [*keyed, ("keyed", 20), ("done", 21)],
            doc_type="account_opening_batch",
            row=1,
            batch="g",
        ),
        made(
            "g2",
            day4,
            [("review", 2)],
            doc_type="account_opening_batch",
            row=2,
            batch="g",
            route="review",
            findings=(error("under_18"), error("under_18"), warning("phone")),
        ),
        made("h", SINCE - timedelta(seconds=1), [("keyed", 5)]),  # before the period
        made("i", day4, [*keyed, ("failed", 9)], reason="back office down"),
        made("j", UNTIL, [("keyed", 5)]),  # at the end: outside
    ]
    cases = [case for case, _ in made_cases]
    events = sorted((e for _, trail in made_cases for e in trail), key=lambda e: e.at)
    return cases, events


def test_figures_of_constructed_cases() -> None:
    cases, events = constructed()
    result = figures(cases, events, SINCE, UNTIL)
    assert result.documents == 8  # a b c d e f g i: batch rows are not documents
    assert result.cases == 9  # a b c d e f g1 g2 i: the batch file is its rows
    assert result.states == {"done": 4, "failed": 1, "keyed": 1, "quarantined": 1, "review": 2}
    assert result.straight_through == 4  # a b e g1; d was reviewed first
    assert result.reviewed == 3  # c d g2
    assert result.stp_rate == pytest.approx(4 / 9)
    assert result.review_rate == pytest.approx(3 / 9)
    assert result.keyed == 5  # a 10 s, b 30 s, d 600 s, e 50 s, g1 20 s
    assert result.median_to_keyed_s == 30
    assert result.p90_to_keyed_s == 600
    assert [(r.rule, r.errors, r.warnings) for r in result.exceptions] == [
        ("under_18", 2, 0),  # once per case: g2 has it twice
        ("over_coverage", 1, 0),
        ("phone", 0, 2),
    ]
    assert [(f.case_id, f.state, f.reason) for f in result.failures] == [
        ("f", "quarantined", "empty file"),
        ("i", "failed", "back office down"),
    ]
    assert result.keying_failures == 2  # e (then keyed) and i
    assert result.per_day == [
        (date(2026, 11, 2), 2),
        (date(2026, 11, 3), 3),
        (date(2026, 11, 4), 0),
        (date(2026, 11, 5), 3),
    ]
    assert [(t.doc_type, t.cases, t.straight_through) for t in result.by_type] == [
        (UNCLASSIFIED, 1, 0),
        ("account_opening", 1, 0),
        ("account_opening_batch", 2, 1),
        ("claim", 5, 3),
    ]


def test_straight_through_means_keyed_and_done_untouched() -> None:
    case, trail = made("k", T0, [("validated", 1), ("keying", 2), ("keyed", 3), ("done", 4)])
    assert straight_through(case, trail)
    keyed_only, trail_keyed = made("l", T0, [("validated", 1), ("keying", 2), ("keyed", 3)])
    assert not straight_through(keyed_only, trail_keyed)  # its receipt is not filed yet
    touched = [*trail, AuditEvent(case_id="k", at=T0, action="field corrected", actor="ann")]
    assert not straight_through(case, touched)  # a person changed something
    # no back-office route: rekey sends it to review; it never counts
    unroutable, trail_u = made("m", T0, [("validated", 1), ("review", 2)], doc_type="w9")
    assert not straight_through(unroutable, trail_u)


def test_a_batch_document_is_straight_through_only_when_every_row_is() -> None:
    cases, events = constructed()
    result = documents_straight_through(cases, events)
    assert "g1" not in result and "g2" not in result  # rows are not documents
    assert result["g"] is False  # g2 went to review
    assert {k for k, v in result.items() if v} == {"a", "b", "e"}


def test_an_empty_period_has_no_rates() -> None:
    cases, events = constructed()
    result = figures(cases, events, UNTIL + timedelta(days=1), UNTIL + timedelta(days=2))
    assert (result.documents, result.cases, result.keyed) == (0, 0, 0)
    assert result.stp_rate is None and result.review_rate is None
    assert result.median_to_keyed_s is None and result.p90_to_keyed_s is None
    assert result.per_day == [] and result.exceptions == [] and result.failures == []
    page = html.render(result)
    assert page.count("<svg") == 0 and "No documents in this period." in page


def test_nearest_rank_and_days() -> None:
    assert nearest_rank(list(range(1, 11)), 0.9) == 9
    assert nearest_rank([7.0], 0.9) == 7.0
    assert nearest_rank([5, 1, 3], 0.5) == 3
    late = datetime(2026, 1, 1, 23, 30, tzinfo=UTC)
    assert days([late, late + timedelta(hours=1), late + timedelta(days=2)]) == [
        (date(2026, 1, 1), 1),
        (date(2026, 1, 2), 1),
        (date(2026, 1, 3), 1),
    ]


def test_chart_geometry() -> None:
    chart = charts.rows("x", "X", [("one", 2, "2"), ("two", 4, "4")], "none")
    assert [bar.width for bar in chart.bars] == [charts.PLOT_WIDTH / 2, charts.PLOT_WIDTH]
    rates = charts.rows("r", "R", [("t", 0.25, "25%")], "none", fixed_max=1.0)
    assert rates.bars[0].width == charts.PLOT_WIDTH / 4
    volume = charts.columns("v", "V", [("d1", 3, "3"), ("d2", 0, "0")], "none")
    tallest, nothing = volume.bars
    assert tallest.height == charts.PLOT_HEIGHT and nothing.height == 0
    assert tallest.y + tallest.height == nothing.y  # one baseline


# -- the HTML report ------------------------------------------------------------------------
class Page(HTMLParser):
    """Collects what makes a page depend on anything outside itself."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.outside: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        values = dict(attrs)
        self.ids.add(values.get("id") or "")
        for name in ("src", "href", "srcset", "data", "action"):
            if values.get(name):
                self.outside.append(f"{tag} {name}={values[name]}")
        if tag in ("script", "link", "iframe", "object", "embed", "img"):
            self.outside.append(tag)
        if "url(" in (values.get("style") or ""):
            self.outside.append(f"{tag} style url()")


def parse(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    return parser


def test_html_is_self_contained_with_three_charts_and_escapes_values() -> None:
    cases, events = constructed()
    hostile = "<script>alert('x')</script>"
    cases[0] = cases[0].model_copy(
        update={"doc_type": hostile, "findings": [Finding(rule="<b>bold</b>", message="m")]}
    )
    cases[5] = cases[5].model_copy(update={"reason": 'reason "quoted" & <i>'})
    page = html.render(figures(cases, events, SINCE, UNTIL))
    parsed = parse(page)
    assert parsed.outside == []
    assert "url(" not in page and "@import" not in page
    assert parsed.tags["svg"] == 3
    assert {"chart-volume", "chart-stp", "chart-exceptions"} <= parsed.ids
    assert parsed.tags["script"] == 0 and "<b>bold" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "reason &#34;quoted&#34; &amp; &lt;i&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    volume = page[page.index('id="chart-volume"') : page.index('id="chart-stp"')]
    assert volume.count("<rect") == 4  # one bar per day, the empty day included


# -- real documents through the flow, the store on PostgreSQL -------------------------------
CORPUS = PROJECT_ROOT / "samples" / "corpus" / "small"
CORPUS_FILES = ["0000-claim-digital.pdf", "0003-account_opening-digital.pdf", "0009-w9-digital.pdf"]
BATCH_ROWS = 4


def small_batch(folder: Path) -> tuple[Path, list[str | None]]:
    """The first rows of the corpus CSV batch and the rule each row was planted to break."""
    source = CORPUS / "0013-batch_csv-csv.csv"
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[: BATCH_ROWS + 1]
    target = folder / "applicants.csv"
    with target.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    truth = json.loads(source.with_name("0013-batch_csv-csv.truth.json").read_text())
    return target, [row.get("_planted_error") for row in truth["fields"]["rows"][:BATCH_ROWS]]


@pytest.fixture(scope="module")
def processed(
    tmp_path_factory: pytest.TempPathFactory, prefect_harness, backoffice, postgres_server
) -> Iterator[dict]:
    """The sample inbox, some corpus documents and a small CSV batch, run through the flow
    once with the case store on PostgreSQL."""
    from flows.process import process_folder
    from rekey.pipeline import store_for

    root = tmp_path_factory.mktemp("report")
    inbox = root / "inbox"
    inbox.mkdir()
    for pdf in sorted((PROJECT_ROOT / "samples" / "inbox").glob("*.pdf")):
        shutil.copy2(pdf, inbox / pdf.name)
    (inbox / "a-letter.pdf").write_text("Dear Sir or Madam,\nplease find my claim attached.\n")
    (inbox / "empty.pdf").write_bytes(b"")
    for name in CORPUS_FILES:
        shutil.copy2(CORPUS / name, inbox / name)
    _, planted = small_batch(inbox)
    with fresh_database(postgres_server) as url:
        settings = backoffice.settings_for(root, database_url=url)
        started = datetime.now(UTC)
        outcomes = process_folder(inbox, settings)
        finished = datetime.now(UTC)
        yield {
            "files": sorted(p.name for p in inbox.iterdir()),
            "outcomes": outcomes,
            "planted": planted,
            "settings": settings,
            "store": store_for(settings),
            "started": started,
            "finished": finished,
        }
        store_for(settings).engine.dispose()


def test_the_flow_keys_real_documents_with_the_store_on_postgresql(processed, backoffice):
    store = processed["store"]
    assert store.engine.dialect.name == "postgresql"
    outcomes = {o.file: o for o in processed["outcomes"]}
    for name in ("claim-11.pdf", "claim-12.pdf", "claim-13.pdf"):
        assert outcomes[name].state == "done", outcomes[name]
        assert [r["reference"] for r in backoffice.claims(reference=outcomes[name].reference)]
    assert outcomes["empty.pdf"].state == "quarantined"
    assert {c.id for c in store.list()} == {o.case_id for o in processed["outcomes"]}
    with store.engine.connect() as connection:
        links = connection.execute(
            sa.text("SELECT prev_hash, hash FROM audit_events ORDER BY id")
        ).all()
    assert len(links) == len(store.events()) > 3 * len(outcomes)
    assert all(link.prev_hash == before.hash for before, link in pairwise(links))


def test_report_figures_on_real_documents(processed) -> None:
    store, outcomes = processed["store"], processed["outcomes"]
    since = processed["started"] - timedelta(seconds=1)
    result = figures(store.list(since=since), store.events(since=since), since)
    batch_files = [o for o in outcomes if o.note.startswith("batch of")]
    work = [o for o in outcomes if o not in batch_files]

    assert result.documents == len(processed["files"])
    assert result.cases == len(processed["files"]) - len(batch_files) + BATCH_ROWS
    assert result.states == dict(sorted(Counter(o.state for o in work).items()))
    # one run, no reviewer yet: every case done went straight through, the rest wait or failed
    assert result.straight_through == sum(o.state == "done" for o in work) > 0
    assert result.reviewed == sum(o.state == "review" for o in work) > 0
    assert result.stp_rate == result.straight_through / len(work)
    wall = (processed["finished"] - processed["started"]).total_seconds()
    assert 0 < result.median_to_keyed_s <= result.p90_to_keyed_s <= wall
    assert result.keyed == result.straight_through
    errors = {r.rule for r in result.exceptions if r.errors}
    assert {rule for rule in processed["planted"] if rule} <= errors
    assert sum(r.errors for r in result.exceptions) >= result.reviewed
    stuck = {o.case_id: o.note for o in work if o.state in ("failed", "quarantined")}
    assert {f.case_id: f.reason for f in result.failures} == stuck
    assert {"a-letter.pdf", "empty.pdf"} <= {f.file for f in result.failures}
    assert sum(count for _, count in result.per_day) == result.documents
    assert result.per_day[-1][0] == processed["finished"].date()
    by_type = {t.doc_type: t for t in result.by_type}
    assert by_type["claim"].cases == sum(o.doc_type == "claim" for o in work)
    assert by_type["account_opening_batch"].cases == BATCH_ROWS

    page = parse(html.render(result))
    assert page.outside == [] and page.tags["svg"] == 3


def test_report_command_prints_the_figures_and_writes_the_html(
    processed, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from rekey.cli import app

    settings = processed["settings"]
    monkeypatch.setenv("REKEY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("REKEY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "report.html"
    since = f"{processed['started']:%Y-%m-%d}"
    done = CliRunner().invoke(app, ["report", "--since", since, "--html", str(out)])
    assert done.exit_code == 0, done.output
    documents = len(processed["files"])
    assert re.search(r"documents received\W+(\d+)", done.output).group(1) == str(documents)
    for words in ("straight-through rate", "review rate", "drop to keyed, p90", "empty.pdf"):
        assert words in done.output
    page = out.read_text(encoding="utf-8")
    assert f"Documents received<b>{documents}</b>" in page
    assert parse(page).tags["svg"] == 3

    refused = CliRunner().invoke(app, ["report", "--since", "yesterday"])
    assert refused.exit_code == 2 and "yesterday" in refused.output
    backwards = ["report", "--since", "2026-02-02", "--until", "2026-02-01"]
    refused = CliRunner().invoke(app, backwards)
    assert refused.exit_code == 2 and "--until must be later than --since" in refused.output
