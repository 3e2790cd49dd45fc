"""Screen maps: YAML files that tell the robot where things are on each back-office screen.

``backoffice.yaml`` in ``settings.screens_dir`` ties them together: the shell (home page,
menu frame, content frame), the sign-in screen, and per document type a *route*: the search
screen, the entry screens in order (one per step), and the record screen read back after
saving; and under ``lookups`` the screens reference data is read from (the policy register).
Every other file describes one screen. All are validated by pydantic at load time;
any problem raises :class:`~rekey.errors.ConfigError` naming the file and the key, e.g.
``samples/screens/claim_entry.yaml: fields.policy_number.locator.bogus: Extra inputs ...``.

A *locator* says where a control or a value is, the way a person would point at it. It is
exactly one of these keys (the in-page resolver, :mod:`connectors.backoffice.scripts`, finds
it the same way in every input method):

``caption: Policy number``
    by its visible caption, whatever the markup; tried in this order, for an input:

    1. a ``<label>`` whose text is the caption: its ``for=`` target, or the control it wraps;
    2. an element whose ``aria-label`` is the caption (or the control inside it);
    3. an element whose ``aria-labelledby`` points at an element showing the caption;
    4. the legacy table cell: a ``<td>`` showing the caption, the control in the next cell;
    5. nearby text: an element whose own text is the caption, and the nearest visible
       input, select or textarea to its right on the same line (the boxes overlap
       vertically) or below it (they overlap horizontally), or a checkbox or radio left of
       it on the same line (``[x] I agree``), by on-screen geometry.

    For a value read back (record screens, result cells) the table cell right of the caption
    comes first, then the label rules, then the nearby-text rule (the nearest visible text
    or control right of or below the caption). Texts are compared with runs of white space
    as one space, ignoring a trailing colon or asterisk (``Name:`` and ``Name *`` are
    caption ``Name``); case counts.
``placeholder: dd/mm/yyyy``
    the control whose ``placeholder`` is this text.
``field_name: f_0031``
    the form control whose ``name=`` attribute is exactly this (not the visible name).
``role: textbox`` with an optional ``name: First Name``
    by ARIA role (``textbox``, ``searchbox``, ``spinbutton``, ``combobox``, ``listbox``,
    ``checkbox``, ``radio``, ``switch``, ``slider``, ``button``, ``link``, ``tab``,
    ``menuitem``, ``option``; native elements have their implicit role, e.g. a ``<select>``
    is a combobox) and accessible name: from ``aria-labelledby``, ``aria-label``, the
    ``<label>``, the text of a button or link (the value of an ``<input type=submit>``),
    ``title``, then ``placeholder``. ``name`` here is never the ``name=`` attribute.
``css: "#t_results tbody tr"``
    plain CSS, what ``document.querySelectorAll`` takes. Playwright-only syntax
    (``:has-text()``, ``:text-is()``, ``:text()``, ``:visible``, ``>>``, ``text=``,
    ``xpath=`` ...) is refused when the map is loaded: use ``caption``, ``role`` + ``name``
    or ``placeholder`` for text.

When several elements match, the first visible one is taken (a hidden one only if none is
visible). A map naming something the loaded screen does not show raises ConfigError naming
the file, the key and the screen (an error page or a lost session stays ApplicationError).

A screen is reached by ``path`` (opened directly), by ``menu`` (link texts clicked in the
menu frame of the shell; the screen then lives in the content frame), or, for a later step
of an entry, by submitting the step before (neither given). ``input`` chooses how values go
in: ``trusted`` (Playwright fill and click), ``fast`` (one script per screen sets every value,
fires input and change events and submits) or ``type`` (key by key); a field may override it.
``click`` lists locators clicked in order once the screen is reached (a single-page app's
Start button and menu item: ``click: [{role: button, name: Start}, {role: menuitem, name:
Account opening}]``), each waited for.

**Routes of any shape.** In a route only ``entry`` is required: ``search`` (find the case's
external reference before keying), ``record`` (read back after saving) and the shell's
``login`` may be left out. Without a record screen the inputs are read back just before
each submit and compared with the case (a difference stops the submit). Without a search
the route must say ``ledger: true``: rekey's own ledger of keyed cases
(:mod:`connectors.backoffice.ledger`) is asked before keying and written after a confirmed
submit; a route may have both. The shell's ``outage`` locator names where the back office
shows that it failed (a server-error banner): any wait that sees it ends in
ApplicationError at once. A sign-in screen without a URL of its own says what only it shows
(``shown_by``): seen later, the session was lost.

**Submits that load no page.** Entry, search and sign-in screens say what signals the end of
their submit with ``done``: ``navigation`` (the default: a page load, as ClaimBase 2000), or
exactly one of::

    done: {shown: {css: "#notices .toast"}}   # an element appears (not one there before)
    done: {hidden: {css: ".spinner"}}         # an element goes
    done: {text: "Saved"}                     # a text appears (in an element new to it)
    done: cleared                             # the form's inputs drawn afresh, or emptied

The robot waits in the page for the signal (Playwright ``wait_for_function``), or for the
screen's validation messages (``errors``), the ``outage`` banner or the sign-in screen,
whichever shows first; a timeout is ApplicationError naming the step and the screen map.
``reference_pattern`` with a group takes the reference from the group: a toast reading
``Saved LL-000123`` with ``reference_pattern: "Saved (LL-\\d{6})"`` gives ``LL-000123``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from connectors.backoffice.formats import TextFormat, ValueFormat, squash
from rekey.config import Regex, load_model, shown
from rekey.errors import ConfigError

InputMode = Literal["trusted", "fast", "type"]
INPUT_MODES: tuple[str, ...] = ("trusted", "fast", "type")


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Role = Literal[
    "textbox",
    "searchbox",
    "spinbutton",
    "combobox",
    "listbox",
    "checkbox",
    "radio",
    "switch",
    "slider",
    "button",
    "link",
    "tab",
    "menuitem",
    "option",
]
LOCATOR_KEYS = ("caption", "placeholder", "field_name", "role", "css")

# selector syntax only Playwright understands; document.querySelectorAll throws on it
_PLAYWRIGHT_ONLY = re.compile(
    r">>|:(?:has-text|text-is|text-matches|text|nth-match|left-of|right-of|above|below|near"
    r"|contains)\(|:visible\b|^\s*(?:text|xpath|css|id|data-testid|role|nth|internal:[\w-]+)\s*="
    r"|^\s*(?:/|\.\.|\()"
)


class Locator(Spec):
    """Where a control or value is: exactly one of caption, placeholder, field_name, role
    (+ name) or css; see the module docstring for how each is found."""

    caption: str | None = None
    placeholder: str | None = None
    field_name: str | None = None  # the name= attribute
    role: Role | None = None
    name: str | None = None  # the accessible name, with role only
    css: str | None = None

    @field_validator("caption", "placeholder", "name")
    @classmethod
    def _text(cls, text: str | None) -> str | None:
        if text is not None and not squash(text):
            raise ValueError("must not be empty")
        return None if text is None else squash(text)

    @field_validator("field_name")
    @classmethod
    def _field_name(cls, name: str | None) -> str | None:
        if name is not None and not name.strip():
            raise ValueError("must not be empty")
        return name

    @field_validator("css")
    @classmethod
    def _plain_css(cls, css: str | None) -> str | None:
        if css is None:
            return None
        if not css.strip():
            raise ValueError("must not be empty")
        found = _PLAYWRIGHT_ONLY.search(css)
        if found:
            raise ValueError(
                f"css must be plain CSS (what document.querySelectorAll takes); "
                f"{found.group(0).strip()!r} in {css!r} is Playwright-only syntax: "
                "point at text with caption, placeholder or role + name instead"
            )
        return css

    @model_validator(mode="after")
    def _exactly_one(self) -> Locator:
        if self.name is not None and self.role is None:
            raise ValueError(
                "name is the accessible name and goes with role; "
                "for the name= attribute write field_name"
            )
        given = [k for k in LOCATOR_KEYS if getattr(self, k) is not None]
        if len(given) != 1:
            got = " and ".join(given) or "none"
            raise ValueError(
                "give exactly one of caption, placeholder, field_name, role (with an optional "
                f"name) or css; got {got}"
            )
        return self

    def target(self, *, control: bool) -> dict[str, Any]:
        """This locator as the in-page resolver takes it; *control*: an input is wanted (a
        caption then names the input, not the value shown beside it)."""
        shown = {k: getattr(self, k) for k in (*LOCATOR_KEYS, "name")}
        return {k: v for k, v in shown.items() if v is not None} | {"control": control}

    def describe(self) -> str:
        if self.role is not None:
            return f"role {self.role}" + (f" named {self.name!r}" if self.name else "")
        key = next(k for k in LOCATOR_KEYS if getattr(self, k) is not None)
        return f"{key} {getattr(self, key)!r}"


def _format_shorthand(value: Any) -> Any:
    return {"kind": value} if isinstance(value, str) else value


class FieldSpec(Spec):
    locator: Locator
    format: ValueFormat = TextFormat()
    input: InputMode | None = None  # overrides the screen's input method for this field
    # the case fields whose values, each formatted, fill this one control, joined by
    # ``separator`` with empty ones left out (two address lines into one address box)
    joins: list[str] = []
    separator: str = "\n"

    _shorthand = field_validator("format", mode="before")(_format_shorthand)


class Column(Spec):
    header: str  # the column's heading text in the line-items table
    format: ValueFormat = TextFormat()

    _shorthand = field_validator("format", mode="before")(_format_shorthand)


class Lines(Spec):
    """A table of line items: one row per item of the case's list field ``field``."""

    field: str  # the case field holding the list, e.g. expenses
    table: Locator
    columns: dict[str, Column]  # item key → column
    add: Locator | None = None  # the button that adds a row (entry screens)


class Signal(Spec):
    """What shows that a submit has been taken, when it loads no new page: exactly one of
    ``shown`` (a locator appears, one not on the screen before the submit), ``hidden`` (a
    locator goes), ``text`` (a text appears in an element that was not there before) or
    ``cleared`` (the form's inputs are drawn afresh, or emptied). ``done: navigation`` (the
    default) waits for a page load instead."""

    shown: Locator | None = None
    hidden: Locator | None = None
    text: str | None = None
    cleared: bool = False

    @field_validator("text")
    @classmethod
    def _some_text(cls, text: str | None) -> str | None:
        if text is not None and not squash(text):
            raise ValueError("must not be empty")
        return None if text is None else squash(text)

    @model_validator(mode="after")
    def _exactly_one(self) -> Signal:
        given = [k for k in ("shown", "hidden", "text") if getattr(self, k) is not None]
        given += ["cleared"] if self.cleared else []
        if len(given) != 1:
            got = " and ".join(given) or "none"
            raise ValueError(f"give exactly one of shown, hidden, text or cleared; got {got}")
        return self

    def target(self) -> dict[str, Any]:
        """This signal as the in-page wait (scripts.SIGNAL) takes it."""
        if self.shown is not None:
            return {"shown": self.shown.target(control=False)}
        if self.hidden is not None:
            return {"hidden": self.hidden.target(control=False)}
        if self.text is not None:
            return {"text": self.text}
        return {"cleared": True}

    def describe(self) -> str:
        if self.shown is not None:
            return f"{self.shown.describe()} shown"
        if self.hidden is not None:
            return f"{self.hidden.describe()} hidden"
        if self.text is not None:
            return f"text {self.text!r} shown"
        return "the form's inputs drawn afresh"


def _signal_shorthand(value: Any) -> Any:
    """``done: cleared`` for ``{cleared: true}``; a mapping is validated as a Signal here, so
    its errors say what is wrong with it rather than that it is not ``navigation``."""
    if value == "cleared":
        value = {"cleared": True}
    if isinstance(value, dict):
        try:
            return Signal.model_validate(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise ValueError((f"{where}: " if where else "") + first["msg"]) from None
    return value


Done = Literal["navigation"] | Signal


class Screen(Spec):
    path: str | None = None
    menu: list[str] = []
    click: list[Locator] = []  # clicked in order once there (a Start button, a menu item)
    input: InputMode = "trusted"
    _file: str = PrivateAttr(default="(screen map not loaded from a file)")

    @property
    def file(self) -> str:
        """The screen map this screen was loaded from, as errors show it."""
        return self._file

    def locators(self) -> dict[str, Locator]:
        """Every locator of this screen map by its key, e.g. ``fields.currency.locator``."""
        return dict(_locators(self, ""))

    @field_validator("path")
    @classmethod
    def _absolute(cls, path: str | None) -> str | None:
        if path is not None and not path.startswith("/"):
            raise ValueError("path must start with '/'")
        return path

    @model_validator(mode="after")
    def _one_way_in(self) -> Screen:
        if self.path and self.menu:
            raise ValueError("give path or menu, not both")
        return self


class LoginScreen(Screen):
    user: Locator
    password: Locator
    submit: Locator
    error: Locator  # where a refusal is shown
    done: Done = "navigation"  # what shows the sign-in went through
    # an element only the sign-in screen shows: where the sign-in screen has no URL of its
    # own (a single-page app), seeing it anywhere means the session was lost
    shown_by: Locator | None = None

    _signal = field_validator("done", mode="before")(_signal_shorthand)


class QueryScreen(Screen):
    """A search form whose results are the rows of a table."""

    query: Locator  # the search box
    submit: Locator
    # for a GET search form: the results page itself, e.g. /claims?ext_ref={query}; the fast
    # input method opens it directly instead of filling the form
    results_path: str | None = None
    rows: Locator  # one per result; the cells below are looked up inside a row
    done: Done = "navigation"  # what shows the results are in

    _signal = field_validator("done", mode="before")(_signal_shorthand)


class SearchScreen(QueryScreen):
    """Finds a record by rekey's external reference (before keying, to never key twice)."""

    reference: Locator
    external_reference: Locator


class LookupScreen(QueryScreen):
    """Reference data read from the back office, e.g. the policy register for the rules."""

    key: str  # the column that must equal the query, e.g. policy_number
    columns: dict[str, Locator]  # column name → its cell in a result row

    @model_validator(mode="after")
    def _key_is_a_column(self) -> LookupScreen:
        if self.key not in self.columns:
            raise ValueError(f"key {self.key!r} is not one of the columns")
        return self


class Dialog(Spec):
    accept: str  # the message of the dialog to accept; any other dialog is dismissed


class EntryScreen(Screen):
    """One step of an entry: fill, submit; the last step also shows the new reference."""

    fields: dict[str, FieldSpec] = {}
    lines: Lines | None = None
    submit: Locator
    dialog: Dialog | None = None
    errors: Locator  # validation messages shown by the back office
    reference: Locator | None = None  # where the new reference appears (last step)
    # the reference's text in full; with a group, the reference is what the group matched
    # (``"Saved (LL-\\d{6})"`` for a toast reading "Saved LL-000123")
    reference_pattern: Regex = r"\S+"
    done: Done = "navigation"  # what shows the submit was taken

    _signal = field_validator("done", mode="before")(_signal_shorthand)


class RecordScreen(Screen):
    fields: dict[str, FieldSpec]  # caption → value cell, read back and compared
    lines: Lines | None = None

    @field_validator("path")
    @classmethod
    def _has_reference(cls, path: str | None) -> str | None:
        if path is None or "{reference}" not in path:
            raise ValueError("path must contain '{reference}'")
        return path


class RouteSpec(Spec):
    search: str | None = None  # found by external reference before keying (never twice)
    entry: list[str]
    record: str | None = None  # read back after saving; without it, read before submit
    # rekey's own ledger of keyed cases (rekey.store): consulted before keying, written
    # after a confirmed submit; required where there is no search
    ledger: bool = False

    @field_validator("entry")
    @classmethod
    def _not_empty(cls, entry: list[str]) -> list[str]:
        if not entry:
            raise ValueError("a route needs at least one entry screen")
        return entry

    @model_validator(mode="after")
    def _never_twice(self) -> RouteSpec:
        if self.search is None and not self.ledger:
            raise ValueError(
                "a route without a search must keep rekey's ledger (ledger: true), "
                "or nothing stops a case being keyed twice"
            )
        return self


class BackOfficeSpec(Spec):
    home: str = "/"  # the shell page menu navigation starts from
    menu_frame: str | None = None  # name of the frame holding the menu
    content_frame: str | None = None  # name of the frame menu links open screens in
    # where the back office shows that it failed (a server-error banner): any wait that
    # sees it shown ends in ApplicationError (retried), not in waiting out the timeout
    outage: Locator | None = None
    login: str | None = None  # no sign-in screen: the back office needs none
    routes: dict[str, RouteSpec]
    lookups: dict[str, str] = {}  # reference data name → its lookup screen map


S = TypeVar("S", bound=Spec)


def _locators(value: Any, key: str) -> list[tuple[str, Locator]]:
    if isinstance(value, Locator):
        return [(key, value)]
    if isinstance(value, BaseModel):
        items = ((name, getattr(value, name)) for name in type(value).model_fields)
    elif isinstance(value, dict):
        items = iter(value.items())
    else:
        return []
    return [found for k, v in items for found in _locators(v, f"{key}.{k}" if key else str(k))]


def load_screen(path: Path, model: type[S]) -> S:
    """Read one screen map; raise ConfigError naming the file and the key on any problem."""
    spec = load_model(path, model)
    if isinstance(spec, Screen):
        spec._file = shown(path)
    return spec


@dataclass(frozen=True)
class Route:
    """The screens one document type goes through."""

    doc_type: str
    search: SearchScreen | None
    entry: tuple[EntryScreen, ...]
    record: RecordScreen | None
    ledger: bool = False


@dataclass(frozen=True)
class ScreenMaps:
    shell: BackOfficeSpec
    login: LoginScreen | None
    routes: dict[str, Route]
    lookups: dict[str, LookupScreen]

    def route(self, doc_type: str | None) -> Route:
        try:
            return self.routes[doc_type or ""]
        except KeyError:
            known = ", ".join(sorted(self.routes))
            raise ConfigError(
                f"no back-office route for document type {doc_type!r} (routes: {known})",
                file="backoffice.yaml",
                key=f"routes.{doc_type}",
            ) from None

    def lookup(self, name: str) -> LookupScreen:
        try:
            return self.lookups[name]
        except KeyError:
            known = ", ".join(sorted(self.lookups)) or "none"
            raise ConfigError(
                f"no back-office lookup screen for {name!r} (lookups: {known})",
                file=MAIN_FILE,
                key=f"lookups.{name}",
            ) from None


MAIN_FILE = "backoffice.yaml"


def load_screens(directory: Path) -> ScreenMaps:
    """Load ``backoffice.yaml`` from *directory* and every screen map its routes name."""
    directory = Path(directory)
    main_path = directory / MAIN_FILE
    shell = load_screen(main_path, BackOfficeSpec)

    def screen(name: str, model: type[S], key: str) -> S:
        path = directory / name
        if not path.is_file():
            raise ConfigError(
                f"no screen map {name} in {shown(directory)}", file=shown(main_path), key=key
            )
        return load_screen(path, model)

    routes = {}
    for doc_type, spec in shell.routes.items():
        at = f"routes.{doc_type}"
        steps = tuple(
            screen(name, EntryScreen, f"{at}.entry.{i}") for i, name in enumerate(spec.entry)
        )
        if steps[-1].reference is None:
            raise ConfigError(
                "the last entry screen must say where the new reference appears",
                file=shown(directory / spec.entry[-1]),
                key="reference",
            )
        routes[doc_type] = Route(
            doc_type=doc_type,
            search=screen(spec.search, SearchScreen, f"{at}.search") if spec.search else None,
            entry=steps,
            record=screen(spec.record, RecordScreen, f"{at}.record") if spec.record else None,
            ledger=spec.ledger,
        )
    lookups = {
        name: screen(file, LookupScreen, f"lookups.{name}") for name, file in shell.lookups.items()
    }
    return ScreenMaps(
        shell=shell,
        login=screen(shell.login, LoginScreen, "login") if shell.login else None,
        routes=routes,
        lookups=lookups,
    )
