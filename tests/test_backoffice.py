"""The demo back office and the keying robot, with real Chromium against a real server."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import socket
import threading
import zipfile
from pathlib import Path

import pytest

from connectors.backoffice import (
    BackOfficeRefused,
    BackOfficeSession,
    ReadBackMismatch,
    SignInRefused,
    key_case,
    load_screens,
    retrying,
)
from connectors.backoffice.formats import AmountFormat, DateFormat
from connectors.backoffice.screenmap import RecordScreen, load_screen
from connectors.backoffice.session import state_path, write_private
from rekey.errors import ApplicationError, BusinessRuleError, ConfigError
from rekey.models import Case, Document, Field
from rekey.settings import Settings

SCREENS = Path(__file__).resolve().parent.parent / "samples" / "screens"


EXPENSES = [
    {"date": "2024-03-01", "description": "Taxi to hospital", "amount": "48.5"},
    {"date": "2024-03-02", "description": "Hotel stay (2 nights)", "amount": "1894.12"},
    {"date": "2024-03-04", "description": "Prescription medicine", "amount": "12.00"},
]


def make_case(tag: str, doc_type: str = "claim", **overrides: str | None) -> Case:
    values: dict[str, str | None] = {
        "policy_number": "POL-2024-00042",
        "claimant_name": "Ana  de la Cruz",
        "date_of_loss": "2024-02-29",
        "amount_claimed": "1234.5",
        "currency": "GBP",
        "loss_description": "Water damage to the kitchen ceiling.",
    }
    if doc_type == "account_opening":
        values = {
            "full_name": "Jason Schultz",
            "date_of_birth": "1990-11-14",
            "nationality": "United States",
            "id_type": "Passport",
            "id_number": "X14922293",
            "address_line1": "934 Donovan Mountains, 20349 New Jerry",
            "address_line2": "",
            "phone": "774.345.1721x177",
            "email": "zlee@example.net",
            "occupation": "Engineer, technical sales",
            "employer": "Morris-Phillips",
            "income_band": "50,000 - 100,000",
            "source_of_funds": "Salary",
            "tax_residency": "US",
            "pep": "False",
        }
    values |= overrides
    digest = hashlib.sha256(f"{doc_type}-{tag}".encode()).hexdigest()
    return Case(
        document=Document(original_name=f"{tag}.pdf", sha256=digest, size=1),
        doc_type=doc_type,
        fields={k: Field(name=k, value=v, confidence=1.0) for k, v in values.items()},
    )


def test_keying_creates_one_record_with_the_right_values(backoffice, backoffice_settings):
    case = make_case("creates-one")
    receipt = key_case(case, backoffice_settings)

    rows = backoffice.claims(external_ref=case.external_reference)
    assert len(rows) == 1
    row = rows[0]
    assert row["reference"] == receipt.reference
    assert receipt.reference.startswith("CLM-")
    assert {k: row[k] for k in ("policy_number", "claimant_name", "date_of_loss")} == {
        "policy_number": "POL-2024-00042",
        "claimant_name": "Ana de la Cruz",
        "date_of_loss": "2024-02-29",
    }
    assert (row["amount"], row["currency"]) == ("1234.50", "GBP")
    assert row["description"] == "Water damage to the kitchen ceiling."
    assert row["created_by"] == backoffice.user
    assert receipt.verified
    evidence = backoffice_settings.cases_dir / case.id / "evidence"
    assert [Path(p).parent for p in receipt.screenshots] == [evidence, evidence]
    assert all(Path(p).stat().st_size > 0 for p in receipt.screenshots)


def test_keying_twice_gives_one_record_and_the_same_reference(
    backoffice, backoffice_settings, tmp_path
):
    case = make_case("twice")
    with BackOfficeSession(backoffice_settings) as office:
        first = office.key_case(case, tmp_path / "first")
        second = office.key_case(case, tmp_path / "second")
    third = key_case(case, backoffice_settings, evidence_dir=tmp_path / "third")

    assert first.reference == second.reference == third.reference
    assert len(backoffice.claims(external_ref=case.external_reference)) == 1
    assert second.verified and len(second.screenshots) == 1  # read-back evidence only


def test_one_session_keys_a_batch(backoffice, backoffice_settings, tmp_path):
    cases = [make_case(f"batch-{i}", amount_claimed=f"{i}000.00") for i in range(1, 4)]
    with BackOfficeSession(backoffice_settings) as office:
        receipts = [office.key_case(c, tmp_path / c.id) for c in cases]
    assert len({r.reference for r in receipts}) == 3
    for case, receipt in zip(cases, receipts, strict=True):
        (row,) = backoffice.claims(external_ref=case.external_reference)
        assert row["reference"] == receipt.reference
        assert row["amount"] == case.fields["amount_claimed"].value


def test_lost_session_is_signed_back_into(backoffice, backoffice_settings, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="connectors.backoffice")
    first, second = make_case("lost-1"), make_case("lost-2")
    with BackOfficeSession(backoffice_settings) as office:
        office.key_case(first, tmp_path / "1")
        office.page.context.clear_cookies()  # the back office forgets the session
        receipt = office.key_case(second, tmp_path / "2")
    (row,) = backoffice.claims(external_ref=second.external_reference)
    assert row["reference"] == receipt.reference
    assert "session lost" in caplog.text and "signing in again" in caplog.text


def test_back_office_validation_error_becomes_business_rule_error(backoffice, backoffice_settings):
    case = make_case("refused", amount_claimed="0", claimant_name=None)
    with pytest.raises(BackOfficeRefused) as caught:
        key_case(case, backoffice_settings)
    assert isinstance(caught.value, BusinessRuleError)
    assert caught.value.messages == [
        "Claimant name is required",
        "Amount claimed must be greater than 0",
    ]
    assert backoffice.claims(external_ref=case.external_reference) == []


def test_case_value_the_screen_cannot_take_is_a_business_rule_error(
    backoffice, backoffice_settings
):
    case = make_case("bad-currency", currency="JPY")
    with pytest.raises(BusinessRuleError, match="currency: 'JPY' is not one of EUR, USD"):
        key_case(case, backoffice_settings)
    assert backoffice.claims(external_ref=case.external_reference) == []


def test_read_back_mismatch_names_the_fields(backoffice, tmp_path):
    screens = tmp_path / "screens"
    shutil.copytree(SCREENS, screens)
    record = screens / "claim_record.yaml"
    record.write_text(
        record.read_text().replace("{caption: Claimant name}", "{caption: Policy number}")
    )
    settings = backoffice.settings_for(tmp_path, screens_dir=screens)
    with pytest.raises(ReadBackMismatch) as caught:
        key_case(make_case("mismatch"), settings)
    assert caught.value.fields == ["claimant_name"]
    assert caught.value.diffs["claimant_name"][1] == "POL-2024-00042"
    assert "screen shows ********0042" in str(caught.value)  # masked: messages reach logs
    assert "POL-2024-00042" not in str(caught.value)


def test_wrong_password_is_a_config_error_not_a_retry(backoffice, tmp_path):
    settings = backoffice.settings_for(tmp_path, backoffice_password="not-the-password")
    with pytest.raises(SignInRefused, match="Invalid username or password") as caught:
        key_case(make_case("wrong-password"), settings)
    assert isinstance(caught.value, ConfigError)
    assert "not-the-password" not in str(caught.value)


def test_unreachable_back_office_is_an_application_error(backoffice, tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = backoffice.settings_for(tmp_path, backoffice_url=url)
    with pytest.raises(ApplicationError, match=r"sign in: .*ERR_CONNECTION_REFUSED"):
        key_case(make_case("unreachable"), settings)


def test_missing_password_is_a_config_error(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path, backoffice_password=None)
    with pytest.raises(ConfigError, match="REKEY_BACKOFFICE_PASSWORD"):
        key_case(make_case("no-password"), settings)


def test_screen_map_with_unknown_key_names_file_and_key(tmp_path):
    screens = tmp_path / "screens"
    shutil.copytree(SCREENS, screens)
    entry = screens / "claim_entry.yaml"
    entry.write_text(
        entry.read_text().replace(
            "locator: {caption: Policy number}", "locator: {caption: Policy number, bogus: 1}"
        )
    )
    with pytest.raises(ConfigError) as caught:
        load_screens(screens)
    assert caught.value.file == str(entry)
    assert caught.value.key == "fields.policy_number.locator.bogus"
    assert str(caught.value).startswith(f"{entry}: fields.policy_number.locator.bogus: Extra")


def test_screen_map_errors_name_the_project_relative_file(tmp_path):
    with pytest.raises(ConfigError, match=r"^samples/screens/nowhere\.yaml: cannot read"):
        load_screen(SCREENS / "nowhere.yaml", RecordScreen)


def test_shipped_screen_maps_load():
    maps = load_screens(SCREENS)
    assert set(maps.routes) == {"claim", "claim_cn", "account_opening", "account_opening_batch"}
    for route in maps.routes.values():
        last = route.entry[-1]
        assert last.dialog is not None and last.dialog.accept.startswith("Save ")
        entered = {name for step in route.entry for name in step.fields}
        assert set(route.record.fields) <= entered
    claim = maps.route("claim")
    assert claim.entry[1].lines is not None and claim.record.lines is not None
    with pytest.raises(ConfigError, match=r"backoffice\.yaml: routes\.passport: no back-office"):
        maps.route("passport")


@pytest.mark.parametrize(
    ("fmt", "case_value", "screen"),
    [
        (DateFormat(pattern="%d/%m/%Y"), "2024-02-29", "29/02/2024"),
        (AmountFormat(), "1234.5", "1,234.50"),
        (AmountFormat(thousands=".", decimal=","), "1234567.8", "1.234.567,80"),
        (AmountFormat(), "", ""),
    ],
)
def test_formats_round_trip(fmt, case_value, screen):
    assert fmt.to_screen(case_value) == screen
    assert fmt.from_screen(screen) == fmt.canonical(case_value)


def test_amount_with_too_many_places_is_refused():
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        AmountFormat().to_screen("1.234")


def test_back_office_requires_sign_in_and_csrf(backoffice):
    import httpx

    with httpx.Client(base_url=backoffice.url) as client:
        response = client.get("/claims/new")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/claims/new"
        forged = {"username": backoffice.user, "password": backoffice.password, "_csrf": "x"}
        assert client.post("/login", data=forged).status_code == 403


@pytest.mark.parametrize("mode", ["fast", "trusted", "type"])
def test_claim_with_payout_and_line_items_in_every_input_mode(backoffice, tmp_path, mode):
    settings = backoffice.settings_for(tmp_path, keying_mode=mode)
    case = make_case(
        f"lines-{mode}", bank_account="GB29 NWBK 6016 1331 9268 19", expenses=json.dumps(EXPENSES)
    )
    receipt = key_case(case, settings)
    (row,) = backoffice.claims(external_ref=case.external_reference)
    assert (
        row["reference"] == receipt.reference and row["payout_account"] == "GB29NWBK60161331926819"
    )
    assert backoffice.lines(receipt.reference) == [
        {"date": "2024-03-01", "description": "Taxi to hospital", "amount": "48.50"},
        {"date": "2024-03-02", "description": "Hotel stay (2 nights)", "amount": "1894.12"},
        {"date": "2024-03-04", "description": "Prescription medicine", "amount": "12.00"},
    ]


def test_account_opening_is_keyed_through_the_menu_frame(backoffice, backoffice_settings):
    case = make_case("account", doc_type="account_opening")
    receipt = key_case(case, backoffice_settings)
    assert receipt.reference.startswith("CUS-") and receipt.verified
    (row,) = backoffice.customers(external_ref=case.external_reference)
    assert row["reference"] == receipt.reference
    assert (row["full_name"], row["date_of_birth"], row["nationality"]) == (
        "Jason Schultz",
        "1990-11-14",
        "United States",
    )
    assert (row["income_band"], row["pep"], row["employer"]) == (
        "50,000 - 100,000",
        "No",
        "Morris-Phillips",
    )
    again = key_case(case, backoffice_settings)
    assert again.reference == receipt.reference
    assert len(backoffice.customers(external_ref=case.external_reference)) == 1


def test_line_item_mismatch_names_the_item(backoffice, tmp_path):
    screens = tmp_path / "screens"
    shutil.copytree(SCREENS, screens)
    record = screens / "claim_record.yaml"
    text = record.read_text()
    record.write_text(text.replace("amount: {header: Amount", "amount: {header: Date"))
    settings = backoffice.settings_for(tmp_path, screens_dir=screens)
    case = make_case("line-mismatch", expenses=json.dumps(EXPENSES[:1]))
    with pytest.raises(ReadBackMismatch) as caught:
        key_case(case, settings)
    assert caught.value.fields == ["expenses[1].amount"]


def test_sign_in_is_reused_from_the_saved_state(backoffice, backoffice_settings, caplog):
    caplog.set_level(logging.INFO, logger="connectors.backoffice")
    key_case(make_case("state-1"), backoffice_settings)
    state = state_path(backoffice_settings)
    assert state.is_file() and state.stat().st_mode & 0o777 == 0o600
    caplog.clear()
    key_case(make_case("state-2"), backoffice_settings)  # a new browser, the same session
    assert "signed in to the back office" not in caplog.text


def test_sessions_saving_their_state_at_once_each_write_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "backoffice" / "state.json"
    texts = [json.dumps({"writer": i, "cookies": ["x" * 5000]}) for i in range(8)]
    start, failed = threading.Barrier(len(texts)), []

    def save(text: str) -> None:
        start.wait()
        for _ in range(20):
            try:
                write_private(path, text)
            except OSError as exc:
                failed.append(exc)

    threads = [threading.Thread(target=save, args=(t,)) for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    assert path.read_text() in texts and path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temporary left


def test_failure_leaves_a_trace_and_no_password_anywhere(backoffice, backoffice_settings, caplog):
    caplog.set_level(logging.DEBUG)
    case = make_case("traced", amount_claimed="0")
    with pytest.raises(BackOfficeRefused):
        key_case(case, backoffice_settings)
    evidence = backoffice_settings.cases_dir / case.id / "evidence"
    traces = list(evidence.glob("trace-*.zip"))
    assert len(traces) == 1
    secret = backoffice.password.encode()
    for path in backoffice_settings.data_path.rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path
    with zipfile.ZipFile(traces[0]) as trace:
        assert any(n.endswith(".trace") for n in trace.namelist())
        for name in trace.namelist():
            assert secret not in trace.read(name), name
    assert backoffice.password not in caplog.text


def test_password_from_a_prefect_secret_block(backoffice, tmp_path, prefect_harness):
    from prefect.blocks.system import Secret

    Secret(value=backoffice.password).save("rekey-test-backoffice", overwrite=True)
    settings = backoffice.settings_for(
        tmp_path, backoffice_password=None, backoffice_password_block="rekey-test-backoffice"
    )
    assert key_case(make_case("secret-block"), settings).verified


def test_retrying_retries_application_errors_only():
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ApplicationError("down")
        return "ok"

    assert retrying(flaky, attempts=3) == "ok" and len(calls) == 3
    with pytest.raises(BusinessRuleError):
        retrying(lambda: (_ for _ in ()).throw(BusinessRuleError("no")), attempts=5)
    with pytest.raises(ApplicationError):
        retrying(lambda: (_ for _ in ()).throw(ApplicationError("down")), attempts=2)


def test_chaos_shuffles_reproducibly_and_fails_on_schedule():
    from samples.backoffice.chaos import Chaos

    first, second = Chaos(seed=3, shuffle=True), Chaos(seed=3, shuffle=True)
    assert [first.order(range(10)) for _ in range(3)] == [second.order(range(10)) for _ in range(3)]
    assert Chaos().order(range(5)) == [0, 1, 2, 3, 4]
    failing = Chaos(seed=1, error_rate=0.2)
    share = sum(failing.fail_request() for _ in range(2000)) / 2000
    assert 0.17 < share < 0.23


def test_back_office_frames_and_legacy_form(backoffice):
    import re

    import httpx

    with httpx.Client(base_url=backoffice.url) as client:
        page = client.get("/login").text
        token = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
        form = {"username": backoffice.user, "password": backoffice.password, "_csrf": token}
        assert client.post("/login", data=form).status_code == 303
        shell = client.get("/").text
        assert '<frame name="menu"' in shell and '<frame name="main"' in shell
        entry = client.get("/claims/new").text
        assert 'name="f_0031"' in entry and "<label" not in entry
