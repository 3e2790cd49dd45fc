"""Screen-map locators in real Chromium: each caption rule, placeholder, field_name and
role + name found by the one in-page resolver; the same map keying a form identically in the
trusted, fast and type input methods; and a map naming what a screen lacks raising
ConfigError (file, screen, field), while an error page stays an ApplicationError."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import Browser, Page

from connectors.backoffice import scripts
from connectors.backoffice.pages import EntryPage, Navigator, RecordPage, SearchPage
from connectors.backoffice.screenmap import (
    BackOfficeSpec,
    EntryScreen,
    Locator,
    RecordScreen,
    SearchScreen,
    load_screen,
)
from connectors.backoffice.session import chromium
from rekey.config import shown
from rekey.errors import ApplicationError, ConfigError
from rekey.settings import Settings

# --- the resolver, rule by rule (page.set_content) ------------------------------------------

ABS = "position:absolute;left:{}px;top:{}px;width:{}px"


def at(left: int, top: int, width: int = 100) -> str:
    return ABS.format(left, top, width)


CONTROL_CASES = {
    "label for= (beats the input right of it)": (
        '<label for="a">First Name</label> <input id="decoy"> <input id="a">',
        {"caption": "First Name"},
    ),
    "wrapping label": ('<label>First Name <input id="a"></label>', {"caption": "First Name"}),
    "wrapping label of a select (option texts not part of the caption)": (
        '<label>Country <select id="a"><option>France</option></select></label>',
        {"caption": "Country"},
    ),
    "label with colon and required mark": (
        '<label for="a">First Name: <b>*</b></label><input id="a">',
        {"caption": "First Name"},
    ),
    "aria-label": (
        '<input id="decoy"><input id="a" aria-label="First Name">',
        {"caption": "First Name"},
    ),
    "aria-labelledby (beats the input right of the text)": (
        '<span id="l">First Name</span> <input id="decoy"> <p><input id="a" aria-labelledby="l">',
        {"caption": "First Name"},
    ),
    "legacy table cell": (
        "<table><tr><td>First Name</td><td><input id='a'></td><td><input id='decoy'></td></tr>"
        "</table>",
        {"caption": "First Name"},
    ),
    "nearby text, right on the same line": (
        f'<span style="{at(10, 10)}">First Name</span>'
        f'<input id="a" style="{at(130, 8)}"><input id="far" style="{at(400, 8)}">'
        f'<input id="under" style="{at(10, 200)}">',
        {"caption": "First Name"},
    ),
    "nearby text, below": (
        f'<div style="{at(10, 10)}">First Name</div>'
        f'<input id="a" style="{at(10, 34)}"><input id="far" style="{at(10, 120)}">'
        f'<input id="aside" style="{at(300, 80)}">',
        {"caption": "First Name"},
    ),
    "nearby text: the nearest of right and below": (
        f'<span style="{at(10, 10)}">First Name</span>'
        f'<input id="far" style="{at(300, 8)}"><input id="a" style="{at(10, 30)}">',
        {"caption": "First Name"},
    ),
    "nearby text: a checkbox left of its caption": (
        '<p><input type="checkbox" id="a"> <span>Politically exposed</span></p>',
        {"caption": "Politically exposed"},
    ),
    "a hidden match loses to a visible one": (
        '<div hidden><label for="h">First Name</label><input id="h"></div>'
        '<label for="a">First Name</label><input id="a">',
        {"caption": "First Name"},
    ),
    "placeholder": (
        '<input id="decoy" placeholder="yyyy"><input id="a" placeholder="dd/mm/yyyy">',
        {"placeholder": "dd/mm/yyyy"},
    ),
    "field_name (the name= attribute)": (
        '<input name="f_0030" id="decoy"><input name="f_0031" id="a">',
        {"field_name": "f_0031"},
    ),
    "role textbox named by its label": (
        '<label for="x">Last Name</label><input id="x">'
        '<label for="a">First Name</label><input id="a">',
        {"role": "textbox", "name": "First Name"},
    ),
    "role textbox named by placeholder": (
        '<input id="decoy" type="checkbox" title="First Name">'
        '<input id="a" placeholder="First Name">',
        {"role": "textbox", "name": "First Name"},
    ),
    "role combobox is a select": (
        '<select id="a" aria-label="Currency"><option>EUR</option></select>',
        {"role": "combobox", "name": "Currency"},
    ),
    "role checkbox": (
        '<label><input type="checkbox" id="a"> I agree</label>',
        {"role": "checkbox", "name": "I agree"},
    ),
    "role radio": (
        '<label><input type="radio" name="r" id="decoy"> Yes</label>'
        '<label><input type="radio" name="r" id="a"> No</label>',
        {"role": "radio", "name": "No"},
    ),
    "role button: input value": (
        '<input type="submit" value="Search" id="decoy"><input type="submit" value="Save" id="a">',
        {"role": "button", "name": "Save"},
    ),
    "role button: text": (
        '<button id="a"><b>Add</b> line</button>',
        {"role": "button", "name": "Add line"},
    ),
    "role link": (
        '<a id="decoy">Home</a><a href="/x" id="a">Home</a>',
        {"role": "link", "name": "Home"},
    ),
    "css": ('<div class="x"><input id="a"></div>', {"css": "div.x > input"}),
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(Settings(_env_file=None)) as browser:  # type: ignore[call-arg]
        yield browser


@pytest.fixture(scope="module")
def scratch(browser: Browser) -> Iterator[Page]:
    page = browser.new_page()
    yield page
    page.close()


def resolve(page: Page, html: str, locator: dict, *, control: bool = True) -> str | None:
    page.set_content(f"<!doctype html><body style='margin:0;font:14px sans-serif'>{html}")
    target = Locator.model_validate(locator).target(control=control)
    element = page.evaluate_handle(scripts.FIND, target).as_element()
    return element.get_attribute("id") if element else None


@pytest.mark.parametrize(("html", "locator"), CONTROL_CASES.values(), ids=CONTROL_CASES.keys())
def test_the_resolver_finds_the_control(scratch: Page, html: str, locator: dict) -> None:
    assert resolve(scratch, html, locator) == "a"


VALUE_CASES = {
    "table cell right of the caption": (
        "<table><tr><td>Claimant</td><td>Ana de la Cruz</td></tr></table>",
        "Ana de la Cruz",
    ),
    "nearby text, right": (
        "<div><span>Claimant</span> <b>Ana de la Cruz</b> <i>(primary)</i></div>",
        "Ana de la Cruz",
    ),
    "nearby text, below": ("<dl><dt>Claimant</dt><dd>Ana de la Cruz</dd></dl>", "Ana de la Cruz"),
    "a labelled read-only input": (
        '<label for="c">Claimant</label><input id="c" value="Ana de la Cruz" readonly>',
        "Ana de la Cruz",
    ),
}


@pytest.mark.parametrize(("html", "text"), VALUE_CASES.values(), ids=VALUE_CASES.keys())
def test_the_resolver_reads_a_value_by_its_caption(scratch: Page, html: str, text: str) -> None:
    scratch.set_content(f"<!doctype html><body>{html}")
    target = Locator(caption="Claimant").target(control=False)
    assert scratch.evaluate(scripts.TEXT, target) == text


def test_a_caption_not_on_the_page_finds_nothing(scratch: Page) -> None:
    assert resolve(scratch, "<p>First Name is asked later</p><input>", {"caption": "Last"}) is None


# --- screen maps: validation ------------------------------------------------------------


def write_map(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("locator", "message"),
    [
        (
            "{css: \"div:has(> label:text-is('First Name')) input\"}",
            r"':text-is\(' .*Playwright-only",
        ),
        ('{css: "form >> input"}', r"'>>' .*Playwright-only"),
        ('{css: "input:visible"}', "Playwright-only"),
        ("{name: f_0031}", "for the name= attribute write field_name"),
        ("{caption: First Name, css: input}", "exactly one of .* got caption and css"),
        ("{role: textfield}", "Input should be 'textbox'"),
    ],
)
def test_a_bad_locator_is_refused_at_load_naming_file_and_key(
    tmp_path: Path, locator: str, message: str
) -> None:
    path = write_map(
        tmp_path,
        "step.yaml",
        f"path: /form\nfields:\n  first_name:\n    locator: {locator}\n"
        "submit: {role: button, name: Save}\nerrors: {css: '#errors li'}\n",
    )
    with pytest.raises(ConfigError, match=message) as caught:
        load_screen(path, EntryScreen)
    assert caught.value.file == shown(path)
    assert caught.value.key is not None
    assert caught.value.key.startswith("fields.first_name.locator")


# --- a small back office of our own (127.0.0.1, free port) -----------------------------

FORM = f"""<!doctype html><html><head><title>New applicant</title></head>
<body style="margin:0;font:14px sans-serif">
<form method="post" action="/save">
  <p><label for="fn">First Name</label> <input name="decoy_a"> <input id="fn" name="first"></p>
  <p><label>Last Name <input name="last"></label></p>
  <p><input name="email" aria-label="E-mail"></p>
  <p><span id="ph">Phone</span> <input name="decoy_b"> <input name="phone" aria-labelledby="ph"></p>
  <table><tr><td>Policy number</td><td><input name="f_0001"></td><td>e.g. POL-1</td></tr></table>
  <div style="position:relative;height:140px">
    <span style="{at(10, 10, 60)}">City</span>
    <input name="city" style="{at(80, 6)}"><input name="decoy_c" style="{at(300, 6)}">
    <span style="{at(500, 10, 90)}">Postcode:</span>
    <input name="zip" style="{at(500, 34)}"><input name="decoy_d" style="{at(500, 110)}">
    <input name="decoy_e" style="{at(720, 8)}">
  </div>
  <p><input name="birth" placeholder="dd/mm/yyyy"></p>
  <p><input name="f_0031"></p>
  <p><textarea name="note" title="Note"></textarea></p>
  <p><select name="country" aria-label="Country"><option value=""></option>
     <option value="1">France</option><option value="2">Spain</option></select></p>
  <p><input type="checkbox" name="pep" value="yes"> <span>Politically exposed</span></p>
  <input type="hidden" name="mirror" id="mirror">
  <p><input type="submit" value="Save"> <button type="button">Cancel</button></p>
</form>
<script>
  // the page's own handler: keyed values must fire input events in every method
  document.querySelector("[name=first]").addEventListener("input", (e) => {{
    document.getElementById("mirror").value = e.target.value.toUpperCase();
  }});
</script></body></html>"""

FORM_MAP = """path: /form
fields:
  first_name: {locator: {caption: First Name}}        # <label for=>
  last_name: {locator: {caption: Last Name}}          # wrapping <label>
  email: {locator: {caption: E-mail}}                 # aria-label
  phone: {locator: {caption: Phone}}                  # aria-labelledby
  policy_number: {locator: {caption: Policy number}}  # legacy table cell
  city: {locator: {caption: City}}                    # nearby text, right
  postcode: {locator: {caption: Postcode}}            # nearby text, below
  date_of_birth:
    locator: {placeholder: dd/mm/yyyy}
    format: {kind: date, pattern: "%d/%m/%Y"}
  legacy_code: {locator: {field_name: f_0031}}
  note: {locator: {role: textbox, name: Note}}
  country: {locator: {role: combobox, name: Country}, format: select}
  pep: {locator: {caption: Politically exposed}, format: checkbox}
submit: {role: button, name: Save}
errors: {css: "#errors li"}
reference: {css: "#saved-ref"}
"""

VALUES = {
    "first_name": "Ana",
    "last_name": "de la Cruz",
    "email": "ana@example.net",
    "phone": "+34 600 000 000",
    "policy_number": "POL-2024-00042",
    "city": "Sevilla",
    "postcode": "41001",
    "date_of_birth": "1990-11-14",
    "legacy_code": "X-31",
    "note": "Two lines\nof note",
    "country": "Spain",
    "pep": "yes",
}

POSTED = {
    "decoy_a": "",
    "first": "Ana",
    "last": "de la Cruz",
    "email": "ana@example.net",
    "decoy_b": "",
    "phone": "+34 600 000 000",
    "f_0001": "POL-2024-00042",
    "city": "Sevilla",
    "decoy_c": "",
    "zip": "41001",
    "decoy_d": "",
    "decoy_e": "",
    "birth": "14/11/1990",
    "f_0031": "X-31",
    "note": "Two lines of note",  # text values are keyed with white space squashed
    "country": "2",
    "pep": "yes",
    "mirror": "ANA",
}

LATE_FORM = """<!doctype html><html><head><title>Late</title></head><body><div id="app"></div>
<script>
  // a single-page screen: drawn a while after the page has loaded
  setTimeout(() => {
    document.getElementById("app").innerHTML = '<form method="post" action="/save">'
      + '<label>First Name <input name="first"></label>'
      + '<button type="submit">Save</button></form>';
  }, 300);
</script></body></html>"""

RECORD = """<!doctype html><html><head><title>Record</title></head><body>
<table><tr><td>Policy number</td><td>POL-2024-00042</td></tr></table>
<dl><dt>Claimant</dt><dd>Ana de la Cruz</dd></dl>
<p><label for="amt">Amount</label> <input id="amt" value="1,234.50" readonly></p>
<div><span>Currency</span> <b>GBP</b></div>
<p><label><input type="checkbox" checked disabled> Politically exposed</label></p>
</body></html>"""

RESULTS = """<!doctype html><html><head><title>Results</title></head><body>
<table id="t"><tbody><tr><td class="ref">REF-7</td><td class="ext">EXT-1</td></tr></tbody>
</table></body></html>"""

MAINTENANCE = """<!doctype html><html><head><title>Service Unavailable</title></head>
<body><h1>Service Unavailable</h1><p>Back at 6 am.</p></body></html>"""

PAGES = {
    "/form": FORM,
    "/late": LATE_FORM,
    "/record/REF-1": RECORD,
    "/results": RESULTS,
    "/maintenance": MAINTENANCE,
}


class BackOffice(BaseHTTPRequestHandler):
    posts: ClassVar[list[dict[str, str]]] = []  # the forms posted, in order

    def do_GET(self) -> None:
        page = PAGES.get(urlsplit(self.path).path)
        self.reply(200 if page else 404, page or "<title>404 Not Found</title>")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.posts.append(dict(parse_qsl(body, keep_blank_values=True)))
        self.reply(200, f'<title>Saved</title><p>Saved as <b id="saved-ref">REF-{len(self.posts)}')

    def reply(self, status: int, html: str) -> None:
        data = html.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def office() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BackOffice)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def nav(browser: Browser, office: str) -> Iterator[Navigator]:
    context = browser.new_context(base_url=office + "/")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.set_default_navigation_timeout(30_000)
    yield Navigator(page, BackOfficeSpec(login="login.yaml", routes={}), "/login")
    context.close()


def entry_map(tmp_path: Path, text: str = FORM_MAP) -> EntryScreen:
    return load_screen(write_map(tmp_path, "applicant_entry.yaml", text), EntryScreen)


@pytest.mark.parametrize("mode", ["trusted", "fast", "type"])
def test_one_map_keys_the_form_identically_in_every_input_method(
    nav: Navigator, tmp_path: Path, mode: str
) -> None:
    BackOffice.posts.clear()
    reference = EntryPage(nav, entry_map(tmp_path), mode).enter(VALUES, "save applicant")  # type: ignore[arg-type]
    assert BackOffice.posts == [POSTED]
    assert reference == "REF-1"


@pytest.mark.parametrize("mode", ["trusted", "fast"])
def test_a_screen_drawn_after_the_page_loads_is_waited_for(
    nav: Navigator, tmp_path: Path, mode: str
) -> None:
    BackOffice.posts.clear()
    screen = entry_map(
        tmp_path,
        "path: /late\nfields:\n  first_name: {locator: {caption: First Name}}\n"
        "submit: {role: button, name: Save}\nerrors: {css: '#errors li'}\n",
    )
    EntryPage(nav, screen, mode).enter({"first_name": "Ana"}, "save applicant")  # type: ignore[arg-type]
    assert BackOffice.posts == [{"first": "Ana"}]


@pytest.mark.parametrize("mode", ["trusted", "fast", "type"])
def test_a_field_the_screen_lacks_is_a_config_error_naming_file_screen_and_field(
    nav: Navigator, tmp_path: Path, mode: str
) -> None:
    BackOffice.posts.clear()
    nav.page.set_default_timeout(2_000)  # how long a missing field is waited for
    screen = entry_map(
        tmp_path,
        FORM_MAP.replace("{caption: Last Name}", "{caption: Middle Name}"),
    )
    with pytest.raises(ConfigError) as caught:
        EntryPage(nav, screen, mode).enter(VALUES, "save applicant (step 1 of 1)")  # type: ignore[arg-type]
    error = caught.value
    assert not isinstance(error, ApplicationError)
    assert error.file == shown(tmp_path / "applicant_entry.yaml")
    assert error.key == "fields.last_name.locator"
    message = str(error)
    assert "save applicant (step 1 of 1)" in message  # the step
    assert "the screen at /form" in message  # the screen
    assert "caption 'Middle Name'" in message  # the field
    assert f"fix the locator in {error.file} or check the screen" in message
    assert BackOffice.posts == []  # nothing submitted


@pytest.mark.parametrize("mode", ["trusted", "fast"])
def test_an_error_page_instead_of_the_screen_stays_an_application_error(
    nav: Navigator, tmp_path: Path, mode: str
) -> None:
    nav.page.set_default_timeout(2_000)
    screen = entry_map(tmp_path, FORM_MAP.replace("path: /form", "path: /maintenance"))
    with pytest.raises(ApplicationError, match=r"error page \(Service Unavailable") as caught:
        EntryPage(nav, screen, mode).enter(VALUES, "save applicant")  # type: ignore[arg-type]
    assert "applicant_entry.yaml" in str(caught.value)


@pytest.mark.parametrize("mode", ["trusted", "fast"])
def test_css_the_browser_refuses_is_a_config_error_naming_the_key(
    nav: Navigator, tmp_path: Path, mode: str
) -> None:
    screen = entry_map(tmp_path, FORM_MAP.replace("{field_name: f_0031}", "{css: 'input[name='}"))
    with pytest.raises(ConfigError, match="not a valid CSS selector") as caught:
        EntryPage(nav, screen, mode).enter(VALUES, "save applicant")  # type: ignore[arg-type]
    assert caught.value.key == "fields.legacy_code.locator"


def test_a_record_is_read_back_by_captions_in_any_markup(nav: Navigator, tmp_path: Path) -> None:
    path = write_map(
        tmp_path,
        "applicant_record.yaml",
        """path: /record/{reference}
fields:
  policy_number: {locator: {caption: Policy number}}
  claimant_name: {locator: {caption: Claimant}}
  amount: {locator: {caption: Amount}, format: amount}
  currency: {locator: {caption: Currency}}
  pep: {locator: {caption: Politically exposed}, format: checkbox}
""",
    )
    values = RecordPage(nav, load_screen(path, RecordScreen)).read("REF-1")
    assert values == {
        "policy_number": "POL-2024-00042",
        "claimant_name": "Ana de la Cruz",
        "amount": "1234.50",
        "currency": "GBP",
        "pep": "true",
    }


def test_a_result_cell_found_in_no_row_is_a_config_error(nav: Navigator, tmp_path: Path) -> None:
    path = write_map(
        tmp_path,
        "applicant_search.yaml",
        """path: /search
query: {caption: External ref}
submit: {role: button, name: Search}
results_path: /results?q={query}
rows: {css: "#t tbody tr"}
reference: {css: td.ref}
external_reference: {css: td.c-ext}
""",
    )
    search = SearchPage(nav, load_screen(path, SearchScreen), "fast")
    with pytest.raises(ConfigError, match=r"does not show external_reference \(css 'td.c-ext'\)"):
        search.find("EXT-1")
