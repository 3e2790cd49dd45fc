"""Keying speed into the demo back office: rekey's robot vs a plain Playwright script, and
rekey's fast input mode vs its trusted one.

rekey is compared with the hand-written script in the same input mode, doing the same
navigation (:data:`benchmarks.keying_script.NAVIGATION`):

- ``speed.keying_vs_script``: rekey as shipped (``keying_mode`` unset, so each screen map's
  own mode: fast for the claim screens) against the script in that mode;
- ``speed.keying_trusted_vs_script``: rekey with ``keying_mode="trusted"`` against the
  trusted script.

Each side has a Chromium of its own, launched with the same arguments, and signs in once
outside the timing; both key the same claims, interleaved case by case in alternating
order; every keyed case carries a fresh external reference so each one creates a record.
rekey's time includes what its robot does besides keying: read-back comparison,
screenshots, its Playwright trace and response checks. Every figure is a ratio of medians
(rekey / baseline; lower is better) with the spread of the per-case paired ratios.
"""

from __future__ import annotations

import json
import secrets
import statistics
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from benchmarks import timing
from benchmarks.figures import Context, Missing, figure, with_overrides
from benchmarks.keying_script import NAVIGATION, ScriptKeyer
from rekey.models import Case, Document, Field, Truth
from rekey.settings import Settings
from samples.backoffice.server import backoffice_process

USER = "clerk"
MAX_REPEATS = 3  # x cases per side: 15 keyed claims a side is enough for a stable median
MODE_SETTINGS = ("keying_mode", "input_mode")  # the Settings field choosing the input mode


@contextmanager
def on_own_thread(factory: Callable[[], Any]) -> Iterator[tuple[Any, Callable[..., Any]]]:
    """Open the context manager ``factory()`` on a thread of its own and yield it with a
    ``call(fn, *args)`` that runs on that thread: Playwright's sync API allows one running
    instance per thread, and the two sides being compared each have one."""
    with ThreadPoolExecutor(1, thread_name_prefix="bench-keying") as pool:

        def call(fn: Callable[..., Any], *args: Any) -> Any:
            return pool.submit(fn, *args).result()

        manager = call(factory)
        opened = call(manager.__enter__)
        try:
            yield opened, call
        finally:
            call(manager.__exit__, None, None, None)


@contextmanager
def backoffice(ctx: Context, name: str) -> Iterator[Settings]:
    """A demo back office on a fresh database, in a process of its own as a real one would
    be; rekey settings pointing at it."""
    folder = ctx.work / name
    folder.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(16)
    with backoffice_process(folder / "backoffice.db", USER, password) as url:
        yield with_overrides(
            ctx.settings,
            data_dir=folder / "var",
            backoffice_url=url,
            backoffice_user=USER,
            backoffice_password=SecretStr(password),
            policies_csv=ctx.corpus / "policies.csv",  # the corpus's claims are on it
        )


def require_chromium(settings: Settings) -> None:
    if not Path(settings.chromium_path).is_file():
        raise Missing(f"no Chromium at {settings.chromium_path}")


def keyable(truth: Truth) -> bool:
    """A clean claim the demo back office accepts as it is (its payout account takes IBANs;
    a quarter of the corpus's claimants are paid to a Chinese bank card, which it refuses)."""
    account = str(truth.fields.get("bank_account", ""))
    return truth.doc_type == "claim" and truth.planted_error is None and account[:2].isalpha()


def claim_values(ctx: Context, count: int) -> list[dict[str, str]]:
    """Values of ``count`` keyable claims from the corpus truth (any rendition): the text
    fields, and the expense lines as the JSON list rekey keys them from."""
    claims = ctx.pick(lambda d: keyable(d.truth))
    if not claims:
        raise Missing("no clean claim with an IBAN payout account in the corpus")
    values = []
    for i in range(count):
        fields = claims[i % len(claims)].truth.fields
        text = {k: v for k, v in fields.items() if isinstance(v, str)}
        if isinstance(fields.get("expenses"), list):
            text["expenses"] = json.dumps(fields["expenses"])
        values.append(text)
    return values


def new_case(values: dict[str, str]) -> Case:
    """A claim case with a fresh content hash, so its external reference is new."""
    return Case(
        document=Document(original_name="bench.pdf", sha256=secrets.token_hex(32), size=0),
        doc_type="claim",
        fields={
            name: Field(name=name, value=value, confidence=1.0) for name, value in values.items()
        },
    )


def per_case(
    a: Callable[[dict[str, str]], Any],
    b: Callable[[dict[str, str]], Any],
    values: list[dict[str, str]],
    repeat: int,
) -> dict[str, list[float]]:
    """Seconds per case for ``a`` and ``b``, interleaved case by case, alternating order."""
    times: dict[str, list[float]] = {"rekey": [], "baseline": []}
    turn = 0
    for _ in range(max(1, min(repeat, MAX_REPEATS))):
        for case_values in values:
            order = [("rekey", a), ("baseline", b)]
            for name, fn in order if turn % 2 == 0 else reversed(order):
                times[name].append(timing.timed(lambda fn=fn, v=case_values: fn(v))[0])
            turn += 1
    return times


def _summary(times: dict[str, list[float]], repeat: int) -> dict[str, Any]:
    detail = timing.summary(times)
    detail["repeats"] = max(1, min(repeat, MAX_REPEATS))
    detail["cases_per_side"] = len(times["rekey"])
    detail["rekey_seconds_per_case"] = round(statistics.median(times["rekey"]), 3)
    detail["baseline_seconds_per_case"] = round(statistics.median(times["baseline"]), 3)
    return detail


def claim_mode(settings: Settings) -> str:
    """The input mode rekey keys a claim in with *settings*: ``keying_mode`` if set, else
    the claim screens' own (search and entry steps, field overrides included). Missing if
    the screens mix modes or use one the script has no counterpart for."""
    from connectors.backoffice import load_screens

    route = load_screens(settings.screens_dir).route("claim")
    chosen = settings.keying_mode
    modes = {chosen} if chosen else {route.search.input} | {s.input for s in route.entry}
    modes |= {f.input for s in route.entry for f in s.fields.values() if f.input}
    if len(modes) != 1 or not modes <= set(NAVIGATION):
        raise Missing(
            f"rekey keys claims in mode(s) {sorted(modes)}; the script has one of "
            f"{', '.join(NAVIGATION)}"
        )
    mode = modes.pop()
    if mode == "fast" and not route.search.results_path:
        raise Missing(
            "the claim search has no results_path: rekey would search through the "
            "form in fast mode, the fast script opens the results by URL"
        )
    return mode


def race(
    settings: Settings,
    keyer: Callable[..., Any],
    mode: str,
    values: list[dict[str, str]],
    repeat: int,
    case_of: Callable[[dict[str, str]], Case],
) -> Any:
    """rekey's robot and a hand-written script keyer (*keyer*: its class, in *mode*), each
    on a thread and in a Chromium of its own launched alike, keying *values* interleaved
    case by case: the per-case times (:func:`per_case`)."""
    from connectors.backoffice import BackOfficeSession
    from connectors.backoffice.session import CHROMIUM_ARGS

    password = settings.backoffice_password.get_secret_value()  # type: ignore[union-attr]
    evidence = settings.data_path / "evidence"
    script = lambda: keyer(  # noqa: E731
        settings.backoffice_url,
        USER,
        password,
        settings.chromium_path,
        settings.browser_timeout_ms,
        mode=mode,
        args=CHROMIUM_ARGS,
    )
    with (
        on_own_thread(lambda: BackOfficeSession(settings)) as (office, in_office),
        on_own_thread(script) as (script_keyer, in_script),
    ):
        return per_case(
            lambda v: in_office(office.key_case, case_of(v), evidence),
            lambda v: in_script(
                script_keyer.key, v | {"external_reference": case_of(v).external_reference}
            ),
            values,
            repeat,
        )


def reported(ctx: Context, name: str, times: Any, detail: dict[str, Any]) -> timing.Measured:
    """The figure from a :func:`race`'s times, its details (*detail* added) kept for the
    report."""
    detail = _summary(times, ctx.repeat) | detail
    ctx.extra.setdefault("speed_details", {})[name] = detail
    if detail["ratio"] is None:
        raise Missing("the script took no measurable time")
    return timing.measured_ratio(detail)


def versus_script(ctx: Context, name: str, keying_mode: str | None) -> timing.Measured:
    """rekey (``keying_mode``; None: the screen maps' own) against the hand-written script
    in the same input mode, each in a browser of its own launched alike, keying the same
    claims interleaved case by case."""
    require_chromium(ctx.settings)
    values = claim_values(ctx, ctx.cases)
    with backoffice(ctx, name) as settings:
        settings = with_overrides(settings, keying_mode=keying_mode)
        mode = claim_mode(settings)
        times = race(settings, ScriptKeyer, mode, values, ctx.repeat, new_case)
    detail = {
        "mode": mode,
        "keying_mode": keying_mode,  # None: each screen map's own input mode
        "navigation": NAVIGATION[mode],
        "browser": "Chromium each, launched with rekey's arguments; signed in before timing",
        "rekey_extra_work": "read-back comparison, 2 screenshots, response checks"
        + (", Playwright trace" if settings.keying_trace else ""),
    }
    return reported(ctx, name, times, detail)


@figure("speed.keying_vs_script")
def keying_vs_script(ctx: Context) -> timing.Measured:
    """rekey as shipped (each screen map's input mode: fast for claims) / the script in that
    mode, seconds per case (lower is better)."""
    return versus_script(ctx, "keying_vs_script", None)


@figure("speed.keying_trusted_vs_script")
def keying_trusted_vs_script(ctx: Context) -> timing.Measured:
    """rekey in trusted mode / the trusted script, seconds per case (lower is better)."""
    return versus_script(ctx, "keying_trusted_vs_script", "trusted")


def fast_mode_setting() -> str | None:
    return next((name for name in MODE_SETTINGS if name in Settings.model_fields), None)


def timing_entry(office: Any) -> tuple[list[float], list[float]]:
    """Record, per case, the seconds *office* spends on the entry screens (its ``create``),
    and of those the seconds spent putting values in (everything but waiting for pages)."""
    spent: list[float] = []
    inputting: list[float] = []
    create = office.create

    def timed_create(*args: Any, **kwargs: Any) -> Any:
        loading = office.nav.loading_s
        seconds, reference = timing.timed(lambda: create(*args, **kwargs))
        spent.append(seconds)
        inputting.append(seconds - (office.nav.loading_s - loading))
        return reference

    office.create = timed_create
    return spent, inputting


def fast_and_trusted(ctx: Context) -> dict[str, Any]:
    """Both input modes keying the same claims, interleaved: seconds per whole case (search,
    entry, read-back, screenshots) and on the claim entry screens alone."""
    from connectors.backoffice import BackOfficeSession

    name = fast_mode_setting()
    if name is None:
        raise Missing(
            "the fast input mode does not exist yet "
            f"(looked for a Settings field named {' / '.join(MODE_SETTINGS)})"
        )
    require_chromium(ctx.settings)
    values = claim_values(ctx, ctx.cases)
    with backoffice(ctx, "keying-modes") as settings:
        fast = with_overrides(settings, data_dir=settings.data_path / "fast", **{name: "fast"})
        trusted = with_overrides(
            settings, data_dir=settings.data_path / "trusted", **{name: "trusted"}
        )
        evidence = settings.data_path / "evidence"
        with (
            on_own_thread(lambda: BackOfficeSession(fast)) as (quick, in_quick),
            on_own_thread(lambda: BackOfficeSession(trusted)) as (careful, in_careful),
        ):
            (fast_entry, fast_input), (trusted_entry, trusted_input) = (
                timing_entry(quick),
                timing_entry(careful),
            )
            times = per_case(
                lambda v: in_quick(quick.key_case, new_case(v), evidence),
                lambda v: in_careful(careful.key_case, new_case(v), evidence),
                values,
                ctx.repeat,
            )
    return {
        "case": _summary(times, ctx.repeat) | {"setting": name},
        "entry": _summary({"rekey": fast_entry, "baseline": trusted_entry}, ctx.repeat)
        | {"setting": name, "screens": "claim entry"},
        "input": _summary({"rekey": fast_input, "baseline": trusted_input}, ctx.repeat)
        | {"setting": name, "screens": "claim entry, page loads excluded"},
    }


def modes_figure(ctx: Context, part: str, detail_name: str) -> timing.Measured:
    detail = ctx.once("keying-modes", lambda: fast_and_trusted(ctx))[part]
    ctx.extra.setdefault("speed_details", {})[detail_name] = detail
    if detail["ratio"] is None:
        raise Missing("trusted mode took no measurable time")
    return timing.measured_ratio(detail)


@figure("speed.keying_fast_vs_trusted")
def keying_fast_vs_trusted(ctx: Context) -> timing.Measured:
    """Fast / trusted seconds per whole case (lower is better; target <= 0.2)."""
    return modes_figure(ctx, "case", "keying_fast_vs_trusted")


@figure("speed.keying_fast_vs_trusted_entry")
def keying_fast_vs_trusted_entry(ctx: Context) -> timing.Measured:
    """Fast / trusted seconds on the claim entry screens alone (two steps, line items)."""
    return modes_figure(ctx, "entry", "keying_fast_vs_trusted_entry")


@figure("speed.keying_fast_vs_trusted_input")
def keying_fast_vs_trusted_input(ctx: Context) -> timing.Measured:
    """Fast / trusted seconds putting the values into the claim entry screens: the entry
    screens' time less the time both wait for the back office's pages to load."""
    return modes_figure(ctx, "input", "keying_fast_vs_trusted_input")
