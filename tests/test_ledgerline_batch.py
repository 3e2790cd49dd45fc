"""Batches from spreadsheets into screens (the "RPA challenge"): a CSV or XLSX of account
openings, each row keyed straight into Ledgerline's account-opening screen through rekey's
batch path (``process_folder``, what ``rekey run`` calls), columns mapped to fields by
samples/templates/account_opening_batch.yaml. Real Chromium against Ledgerline on a free
127.0.0.1 port, its fields shuffled on every render, captions unlinked spans."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook

from connectors.inbox import sha256_of
from flows.process import process_folder
from rekey.models import external_reference
from rekey.pipeline import row_sha256
from rekey.settings import Settings
from tests.ledgerline import SCREENS, Ledgerline, running_ledgerline

pytestmark = pytest.mark.usefixtures("prefect_harness")

COLUMNS = [
    "full_name",
    "date_of_birth",
    "nationality",
    "id_type",
    "id_number",
    "address_line1",
    "address_line2",
    "phone",
    "email",
    "occupation",
    "employer",
    "income_band",
    "source_of_funds",
    "tax_residency",
    "pep",
    "date_signed",
]
# Ten applicants, adults, none on the sample watchlist, each ID number used once; awkward
# on purpose: apostrophes, hyphens and accents in names, commas and a "<" in the columns,
# a date written out in words, a blank second address line, upper and lower case flags.
ROWS = [
    ["Dr Molly Smith", "1947-06-23", "United Kingdom", "Passport", "T97014029",
     "Flat 1, Flat 13u, Lorraine Lock", "NW8V 1PF Normanberg", "0121 496 0784",
     "reevesgarry@example.org", "Editor, magazine features", "Harris and Sons",
     "100,000 - 250,000", "Inheritance", "GB", "N", "2026-09-30"],
    ["Siobhán O'Brien", "15 December 1979", "United States", "Passport", "N55801145",
     "Flat 11, 840 Robert Spurs Apt. 886", "74188 North Michealchester", "(201) 555-0123",
     "clarktravis@example.org", "Osteopath", "Turner Group", "100,000 - 250,000",
     "Pension", "US", "N", "2026-09-05"],
    ["Zoë Brontë-Ångström", "1999-11-02", "United Kingdom", "Passport", "R85218758",
     "Flat 19, Studio 11, Trevor Hill", "SR71 6BW North Gillian", "0113 496 0297",
     "melissaclarke@example.net", "Regulatory affairs officer", "Holden-Conway",
     "25,000 - 50,000", "Pension", "GB", "Y", "2026-09-11"],
    ["Jürgen Meyer-Lüdenscheid", "1962-03-14", "Germany", "Personalausweis", "L01X00T47",
     "Am Hang 7", "", "030 901820", "jm@example.de", "Ingenieur", "Ullrich GbR",
     "50,000 - 100,000", "Salary", "DE", "n", "2026-10-01"],
    ["Aoife Ní Bhriain", "1988-08-08", "Ireland", "Driving licence", "D4471923",
     "12 Quay Street", "Galway H91 X2Y3", "091 123 456", "aoife@example.ie",
     "Solicitor", "Byrne & Co", "> 250,000", "Business income", "IE", "y", "2026-11-20"],
    ["Jean-Luc Dubois", "1975-01-31", "France", "National ID card", "880692310285",
     "4 rue de la Paix", "75002 Paris", "01 42 68 53 00", "jl.dubois@example.fr",
     "Chef", "Maison Dubois", "< 25,000", "Savings", "FR", "N", "2026-08-15"],
    ["Giulia Rossi", "1993-05-21", "Italy", "Passport", "YA1234567", "Via Roma 10",
     "20121 Milano", "02 1234 5678", "giulia.rossi@example.it", "Architect",
     "Studio Rossi", "50,000 - 100,000", "Investments", "IT", "N", "2026-07-02"],
    ["Pieter van der Berg", "1958-12-01", "Netherlands", "Passport", "NXC4R7H21",
     "Keizersgracht 123", "1015 CJ Amsterdam", "020 555 0143", "pieter@example.nl",
     "Retired", "", "25,000 - 50,000", "Pension", "NL", "N", "2026-06-30"],
    ["Marie-Claire Janssens", "1984-09-17", "Belgium", "National ID card", "591-0123456-78",
     "Rue Royale 45", "1000 Bruxelles", "02 555 12 34", "mc.janssens@example.be",
     "Pharmacist", "Janssens SPRL", "50,000 - 100,000", "Salary", "BE", "Y", "2026-10-10"],
    ["Wang Fang", "1990-02-28", "China", "Passport", "E12345678", "88 Nanjing Road",
     "Huangpu, Shanghai", "+86 21 5555 0188", "wang.fang@example.cn", "Accountant",
     "Sino Trade Ltd", "25,000 - 50,000", "Salary", "CN", "N", "2026-11-01"],
]  # fmt: skip


@pytest.fixture
def ledgerline(tmp_path: Path) -> Iterator[Ledgerline]:
    with running_ledgerline(tmp_path) as running:
        yield running


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([COLUMNS, *rows])
    return path


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    sheet = book.active
    for row in [COLUMNS, *rows]:
        sheet.append(row)
    book.save(path)
    return path


ISO_DATES = {"15 December 1979": "1979-12-15"}


def expected(batch: Path, rows: list[list[str]]) -> dict[str, dict[str, str]]:
    """What Ledgerline should hold for each row, by the row case's external reference."""
    digest = sha256_of(batch)
    wanted = {}
    for number, row in enumerate(rows, 1):
        v = dict(zip(COLUMNS, row, strict=True))
        ref = external_reference(row_sha256(digest, number))
        lines = [v["address_line1"], v["address_line2"]]
        wanted[ref] = {
            "full_name": v["full_name"],
            "date_of_birth": ISO_DATES.get(v["date_of_birth"], v["date_of_birth"]),
            "nationality": v["nationality"],
            "id_type": v["id_type"],
            "id_number": v["id_number"],
            "address": "\n".join(line for line in lines if line),
            "phone": v["phone"],
            "email": v["email"],
            "occupation": v["occupation"],
            "employer": v["employer"],
            "income_band": v["income_band"],
            "source_of_funds": v["source_of_funds"],
            "tax_residency": v["tax_residency"],
            "pep": "Yes" if v["pep"].upper() == "Y" else "No",
            "external_ref": ref,
        }
    return wanted


def assert_keyed_once(app: Ledgerline, wanted: dict[str, dict[str, str]]) -> None:
    records = app.records()
    by_ref = {r["external_ref"]: r for r in records}
    assert len(records) == len(wanted) == len(by_ref)  # one record per row, no more
    for ref, values in wanted.items():
        assert ref in by_ref, f"row {values['full_name']!r} was not keyed"
        got = {k: by_ref[ref].get(k) for k in values}
        assert got == values, values["full_name"]


def run_batch(folder: Path, settings: Settings, rows: int, name: str) -> None:
    outcomes = process_folder(folder, settings)
    assert [o.file for o in outcomes] == [*(f"{name} row {n}" for n in range(1, rows + 1)), name]
    assert all(o.state == "done" for o in outcomes), [(o.file, o.state, o.note) for o in outcomes]
    assert all(o.doc_type == "account_opening_batch" for o in outcomes[:-1])
    assert f"batch of {rows} rows" in outcomes[-1].note
    references = [o.reference for o in outcomes[:-1]]
    assert all(references) and len(set(references)) == rows


def test_route_for_batch_rows_reuses_the_account_opening_screen():
    from connectors.backoffice import load_screens

    maps = load_screens(SCREENS)
    single, row = maps.route("account_opening"), maps.route("account_opening_batch")
    assert row.entry == single.entry and row.search == single.search and row.ledger


def test_csv_batch_is_keyed_row_by_row_into_the_spa(ledgerline: Ledgerline, tmp_path: Path):
    inbox = tmp_path / "inbox"
    batch = write_csv(inbox / "openings.csv", ROWS)
    wanted = expected(batch, ROWS)
    settings = ledgerline.settings_for(tmp_path)

    run_batch(inbox, settings, len(ROWS), "openings.csv")
    assert_keyed_once(ledgerline, wanted)

    again = process_folder(inbox, settings)  # the same run again: nothing new
    assert len(again) == 1 and "already processed" in again[0].note
    assert_keyed_once(ledgerline, wanted)

    # a fresh rekey (no store, no ledger of its own): Find record sees every row keyed
    fresh = ledgerline.settings_for(tmp_path / "fresh")
    run_batch(inbox, fresh, len(ROWS), "openings.csv")
    assert_keyed_once(ledgerline, wanted)


def test_xlsx_batch_is_keyed_in_trusted_mode(ledgerline: Ledgerline, tmp_path: Path):
    rows = ROWS[:3]
    inbox = tmp_path / "inbox"
    batch = write_xlsx(inbox / "openings.xlsx", rows)
    settings = ledgerline.settings_for(tmp_path, keying_mode="trusted")

    run_batch(inbox, settings, len(rows), "openings.xlsx")
    assert_keyed_once(ledgerline, expected(batch, rows))
    again = process_folder(inbox, settings)
    assert len(again) == 1 and "already processed" in again[0].note
    assert_keyed_once(ledgerline, expected(batch, rows))
