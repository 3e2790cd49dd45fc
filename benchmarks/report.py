"""The result file's shape, its consistency checks, and its Markdown rendering."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROW_KEYS = (
    "documents",
    "field_accuracy",
    "confident_precision",
    "stp_rate",
    "classification",
    "wrong_auto_keyed",
)
REQUIRED = (
    "rules.planted_errors",
    "rules.recall",
    "rules.false_alarm_rate",
    "speed.ocr_vs_tesseract",
    "speed.zonal_vs_fullpage",
    "speed.digital_vs_pdfplumber",
    "speed.vs_invoice2data.time_ratio",
    "speed.vs_invoice2data.our_field_accuracy",
    "speed.vs_invoice2data.their_field_accuracy",
    "speed.inprocess_vs_pytesseract",
    "speed.keying_vs_script",
    "speed.keying_trusted_vs_script",
    "speed.keying_in_batch",
    "speed.keying_fast_vs_trusted",
    "speed.keying_fast_vs_trusted_entry",
    "speed.keying_fast_vs_trusted_input",
    "speed.spa_trusted_vs_script",
    "speed.spa_fast_vs_script",
    "speed.orchestration_overhead",
    "speed.batch_overhead",
    "speed.scan_pages_per_minute",
    "speed.digital_pages_per_minute",
    "speed.registration_share",
    "memory.batch_peak_rss_mb",
    "memory.batch_documents",
    "holdout.seed",
    "holdout.accuracy",
    "calibration.development",
    "calibration.holdout",
    "holdout_stp.all",
    "holdout_stp.wrong_keyed",
    "realworld.funsd.pages",
    "realworld.funsd.word_recall",
    "realworld.funsd.baseline_word_recall",
    "realworld.funsd.seconds_per_page",
    "realworld.funsd.baseline_seconds_per_page",
    "realworld.funsd.time_ratio",
    "realworld.funsd.crashes",
    "realworld.funsd_inprocess.word_recall",
    "realworld.funsd_inprocess.time_ratio",
    "stp.all",
    "wrong_keyed",
)
HOLDOUT_ROW_KEYS = ("documents", "field_accuracy", "confident_precision", "classification")
FRACTIONS = {
    "field_accuracy",
    "confident_precision",
    "stp_rate",
    "classification",
    "recall",
    "false_alarm_rate",
    "our_field_accuracy",
    "their_field_accuracy",
    "word_recall",
    "baseline_word_recall",
}
SPEED_ROWS = (
    "ocr_vs_tesseract",
    "zonal_vs_fullpage",
    "inprocess_vs_pytesseract",
    "digital_vs_pdfplumber",
    "keying_vs_script",
    "keying_trusted_vs_script",
    "keying_in_batch",
    "keying_fast_vs_trusted",
    "keying_fast_vs_trusted_entry",
    "keying_fast_vs_trusted_input",
    "spa_trusted_vs_script",
    "spa_fast_vs_script",
    "orchestration_overhead",
    "batch_overhead",
)
RATIOS = {*SPEED_ROWS, "time_ratio"}
DETAILS_MARK = "<!-- details -->"
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def get_path(result: dict[str, Any], path: str) -> Any:
    node: Any = result
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def covered(missing: Iterable[str], path: str) -> bool:
    """Whether a ``missing`` entry names ``path`` or a figure that contains it."""
    for entry in missing:
        named = entry.split(": ", 1)[0]
        if path == named or path.startswith(named + "."):
            return True
    return False


def fill_gaps(result: dict[str, Any], reason: str) -> None:
    """Give every required key a place (null when absent) and a ``missing`` entry."""
    missing = result.setdefault("missing", [])
    if not isinstance(result.get("accuracy"), dict):
        if result.get("accuracy") is None and not covered(missing, "accuracy"):
            missing.append(f"accuracy: {reason}")
        result["accuracy"] = {}
    for path in REQUIRED:
        parts = path.split(".")
        node = result
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node.setdefault(parts[-1], None)
        if node[parts[-1]] is None and not covered(missing, path):
            missing.append(f"{path}: {reason}")


def problems(result: dict[str, Any], corpus_size: int | None = None) -> list[str]:
    """What is inconsistent in a result: absent keys, counts that do not add up, fractions
    outside [0, 1], ratios that are not positive, nulls not named in ``missing``."""
    found = []
    missing = result.get("missing")
    if not isinstance(missing, list):
        return ["no missing list"]
    for key in ("machine", "versions", "accuracy", "rules", "speed", "memory"):
        if not isinstance(result.get(key), dict):
            found.append(f"{key} absent")
    rows = result.get("accuracy") or {}
    for row, values in rows.items():
        for key in ROW_KEYS:
            if key not in values:
                found.append(f"accuracy.{row}.{key} absent")
            elif values[key] is None and not covered(missing, f"accuracy.{row}.{key}"):
                found.append(f"accuracy.{row}.{key} is null but not in missing")
    if corpus_size is not None and "accuracy" not in {m.split(": ")[0] for m in missing}:
        unmeasured = (result.get("coverage") or {}).get("unmeasured", {})
        counted = sum(v.get("documents", 0) for v in rows.values()) + sum(unmeasured.values())
        if counted != corpus_size:
            found.append(f"documents add up to {counted}, corpus has {corpus_size}")
        for kind in unmeasured:
            if not covered(missing, f"accuracy.{kind}/*"):
                found.append(f"unmeasured kind {kind} not in missing")
    for row, value in (result.get("stp") or {}).items():
        if row in ("planted_through", "by_rendition"):
            continue
        if value is not None and not 0 <= value <= 1:
            found.append(f"stp.{row} = {value} is not a fraction")
    for row, values in ((result.get("holdout") or {}).get("accuracy") or {}).items():
        for key in HOLDOUT_ROW_KEYS:
            if key not in values:
                found.append(f"holdout.accuracy.{row}.{key} absent")
    for path in REQUIRED:
        if get_path(result, path.rsplit(".", 1)[0]) is None and "." in path:
            found.append(f"{path.rsplit('.', 1)[0]} absent")
        elif get_path(result, path) is None and not covered(missing, path):
            found.append(f"{path} is null but not in missing")
    for path, value in walk(result, skip={"machine", "versions", "run"}):
        last = path.rsplit(".", 1)[-1]
        if value is None or not isinstance(value, int | float) or isinstance(value, bool):
            continue
        if last in FRACTIONS and not 0 <= value <= 1:
            found.append(f"{path} = {value} is not a fraction")
        if last in RATIOS and not value > 0:
            found.append(f"{path} = {value} is not a positive ratio")
    return found


def walk(node: Any, prefix: str = "", skip: set[str] | None = None):
    if isinstance(node, dict):
        for key, value in node.items():
            if skip and not prefix and key in skip:
                continue
            yield from walk(value, f"{prefix}.{key}" if prefix else key)
    else:
        yield prefix, node


# -- writing ----------------------------------------------------------------------------------


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_results(result: dict[str, Any], out: Path, stamp: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n"
    markdown = render(result)
    written = []
    for name, body in (
        ("latest.json", text),
        (f"{stamp}.json", text),
        ("latest.md", markdown),
        (f"{stamp}.md", markdown),
    ):
        write_atomic(out / name, body)
        written.append(out / name)
    return written


def update_readme(readme: Path, latest_md: Path) -> None:
    """Rewrite the README section between the bench markers from latest.md's summary."""
    summary = latest_md.read_text(encoding="utf-8").split(DETAILS_MARK, 1)[0].strip()
    summary = re.sub(r"^# .*\n+", "", summary)  # the README section has its own heading
    summary = re.sub(r"^(#+) ", r"#\1 ", summary, flags=re.MULTILINE)  # one level down
    text = readme.read_text(encoding="utf-8")
    block = f"{README_START}\n{summary}\n{README_END}"
    if README_START in text and README_END in text:
        head, rest = text.split(README_START, 1)
        tail = rest.split(README_END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    write_atomic(readme, text)


# -- Markdown ---------------------------------------------------------------------------------


def pct(value: Any) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    return str(value) if isinstance(value, int) else f"{value:.{digits}f}"


def cell(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "…"


def review_lines(review: dict[str, Any]) -> list[str]:
    """The review station's load figure, when it was measured."""
    load = review.get("load")
    if not load:
        return []
    pages = ", ".join(f"{k} {num(v, 0)} ms" for k, v in load.get("p95_ms_by_page", {}).items())
    return [
        "",
        "## Review station under load",
        "",
        f"{load['reviewers']} simulated reviewers for {num(load['seconds'], 0)} s against "
        f"{load['cases']} cases on loopback, pausing {load['think_s'][0]}–{load['think_s'][1]} s "
        "between pages.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| p95 response time | {num(load['p95_ms'], 0)} ms (target ≤ "
        f"{num(load['target_p95_ms'], 0)} ms; ratio {num(load['p95_vs_target'])}) |",
        f"| p50 response time | {num(load['p50_ms'], 0)} ms |",
        f"| p95 by page | {pages} |",
        f"| requests / wrong responses | {load['requests']} / {load['wrong_responses']} |",
    ]


def spread_text(spread: Any, digits: int = 2) -> str:
    """``min–max (n)`` of a figure's repeats."""
    if not isinstance(spread, dict) or spread.get("min") is None:
        return "—"
    return f"{num(spread['min'], digits)}–{num(spread['max'], digits)} ({spread['repeats']})"


def seeds_line(run: dict[str, Any], holdout: dict[str, Any]) -> str:
    return (
        f"Accuracy is measured on two corpora of {run.get('n')} documents: the development "
        f"seed {run.get('seed')} (the templates and heuristics were tuned on it) and the "
        f"held-out seed {holdout.get('seed') or run.get('holdout_seed')} (new each run, never "
        "tuned on). A template or heuristic change is judged on the held-out side."
    )


def accuracy_lines(result: dict[str, Any]) -> list[str]:
    rows = result.get("accuracy") or {}
    held = (result.get("holdout") or {}).get("accuracy") or {}
    lines = [
        "## Accuracy by kind / rendition",
        "",
        "Each cell: development seed / held-out seed. *Routed auto* is the rules' decision in "
        "the accuracy pass (nothing keyed there); what went straight through is under "
        "*Straight-through, end to end*.",
        "",
        "| kind/rendition | documents | field accuracy | confident precision | "
        "classification | routed auto (rules) | wrong, routed auto |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in sorted(set(rows) | set(held)):
        v, h = rows.get(row) or {}, held.get(row) or {}

        def pair(key: str, v: dict = v, h: dict = h) -> str:
            return f"{pct(v.get(key))} / {pct(h.get(key))}"

        lines.append(
            f"| {row} | {v.get('documents', 0)} / {h.get('documents', 0)} | "
            f"{pair('field_accuracy')} | {pair('confident_precision')} | "
            f"{pair('classification')} | {pct(v.get('stp_rate'))} | "
            f"{v.get('wrong_auto_keyed', '—')} |"
        )
    return lines


def table_row(*cells: Any) -> str:
    return "| " + " | ".join(map(str, cells)) + " |"


def section(title: str, text: str, columns: list[str]) -> list[str]:
    """A report section's heading, its explanation and its table's head."""
    return ["", f"## {title}", "", text, "", table_row(*columns), "|" + "---|" * len(columns)]


def both(d: dict[str, Any], h: dict[str, Any], key: str, show: Any = pct) -> str:
    """A development / held-out cell."""
    return f"{show(d.get(key))} / {show(h.get(key)) if h else '—'}"


STP_COLUMNS = ["kind/rendition", "back office", "documents", "no planted error"]
STP_COLUMNS += ["straight-through", "of every document", "keyed and done", "planted, keyed"]
STP_COLUMNS += ["end states", "why 0"]
STP_CELLS = (
    ("documents", num),
    ("may_pass", num),
    ("stp", pct),
    ("stp_all_documents", pct),
    ("straight_through", num),
    ("planted_through", num),
)
BIN_CELLS = (("readings", num), ("predicted", pct), ("observed", pct), ("wrong", num))


def stp_lines(result: dict[str, Any]) -> list[str]:
    detail = result.get("stp_detail") or {}
    held = result.get("holdout_stp_detail") or {}
    if not detail and not held:
        return []
    lines = section(
        "Straight-through, end to end",
        "Each corpus through `process_folder` into the demo back office that routes its type "
        "(ClaimBase; the types only Ledgerline routes in a second run, into Ledgerline): "
        "documents keyed and `done` with no person touching them (the definition `rekey "
        "report` uses). *Straight-through* is over the documents with no planted error (a "
        "document with one belongs in review); *of every document* counts those too; "
        "*planted, keyed*: documents with a planted error that went straight through anyway. "
        "Each cell: development seed / held-out seed.",
        STP_COLUMNS,
    )

    def states(x: dict[str, Any]) -> str:
        return ", ".join(f"{n} {state}" for state, n in (x.get("states") or {}).items()) or "—"

    for row in sorted(set(detail) | set(held)):
        d, h = detail.get(row) or {}, held.get(row) or {}
        cells = [both(d, h, key, show) for key, show in STP_CELLS]
        why = d.get("why") or h.get("why") or ""
        where = d.get("backoffice") or h.get("backoffice") or "—"
        lines.append(table_row(row, where, *cells, f"{states(d)} / {states(h)}", why))
    return lines + rendition_lines(result)


def rendition_lines(result: dict[str, Any]) -> list[str]:
    """Straight-through per rendition, over the kinds a back office routes."""
    dev = (result.get("stp") or {}).get("by_rendition") or {}
    held = (result.get("holdout_stp") or {}).get("by_rendition") or {}
    if not dev and not held:
        return []
    lines = [
        "",
        "Per rendition, over the kinds a back office routes (documents with no planted error):",
        "",
        "| rendition | development seed | held-out seed |",
        "|---|---|---|",
    ]
    for rendition in sorted(set(dev) | set(held)):
        lines.append(table_row(rendition, pct(dev.get(rendition)), pct(held.get(rendition))))
    return lines


def calibration_lines(result: dict[str, Any]) -> list[str]:
    figures = result.get("calibration") or {}
    dev, held = figures.get("development") or {}, figures.get("holdout") or {}
    if not dev.get("bins"):
        return []
    lines = section(
        "Calibration",
        "A field's confidence is a probability of being right, fitted on the development seed "
        "(`make calibrate`). Each bin: the fields read with a confidence in it, their mean "
        "confidence (predicted) and the share right (observed); development seed / held-out "
        f"seed. Brier score {both(dev, held, 'brier', lambda v: num(v, 4))} "
        f"({both(dev, held, 'readings', num)} readings).",
        ["confidence", "readings", "predicted", "observed", "wrong"],
    )
    held_bins = {b["bin"]: b for b in held.get("bins") or []}
    for d in dev["bins"]:
        h = held_bins.get(d["bin"], {})
        lines.append(table_row(d["bin"], *(both(d, h, key, show) for key, show in BIN_CELLS)))
    return lines


def realworld_lines(result: dict[str, Any]) -> list[str]:
    found = result.get("realworld") or {}
    funsd, inproc = found.get("funsd") or {}, found.get("funsd_inprocess") or {}
    if funsd.get("pages") is None:
        return []

    def row(label: str, key: str, show: Any, base: bool = True) -> str:
        cells = [show(d.get(key), d.get(key + "_spread")) for d in (funsd, inproc)]
        baseline = show(funsd.get("baseline_" + key), funsd.get(f"baseline_{key}_spread"))
        return f"| {label} | {cells[0]} | {cells[1]} | {baseline if base else ''} |"

    def seconds(value: Any, spread: Any) -> str:
        return f"{num(value, 2)} [{spread_text(spread)}]" if value is not None else "—"

    def ratio(value: Any, spread: Any) -> str:
        return f"{num(value)} [{spread_text(spread)}]" if value is not None else "—"

    def plain(value: Any, _: Any) -> str:
        return "—" if value is None else str(value)

    return [
        "",
        "## Real documents (FUNSD)",
        "",
        f"{funsd['pages']} real scanned forms nobody here made (`../shared/realworld/`): the "
        "share of annotated words each reading finds, and its time. rekey reads with its "
        "default engine (pytesseract, a process per call) and with the in-process one "
        "(`REKEY_OCR_ENGINE=tesserocr`).",
        "",
        "| figure | rekey, pytesseract | rekey, in-process | plain `pytesseract.image_to_string` |",
        "|---|---|---|---|",
        row("word recall", "word_recall", lambda v, _: pct(v)),
        row("seconds per page (one core)", "seconds_per_page", seconds),
        row("time ratio to plain", "time_ratio", ratio, base=False),
        row("pages whose reading raised", "crashes", plain),
        row("upright pages turned", "turned", plain, base=False),
    ]


def speed_lines(result: dict[str, Any]) -> list[str]:
    speed, details = result["speed"], result.get("speed_details", {})
    lines = [
        "",
        "## Speed",
        "",
        "Ratios are rekey's time / the baseline's, the same work at the same parallelism in "
        "the same run (medians, runs interleaved): lower is better. Spread: min–max of the "
        "paired ratios (repeats).",
        "",
        "| figure | value | spread | rekey | baseline |",
        "|---|---|---|---|---|",
    ]
    for name in SPEED_ROWS:
        d = details.get(name, {})
        per_case = "rekey_seconds_per_case" in d
        a = d.get("rekey_seconds_per_case") if per_case else d.get("rekey_median_s")
        b = d.get("baseline_seconds_per_case") if per_case else d.get("baseline_median_s")
        unit = " s/case" if per_case else " s"
        lines.append(
            f"| {name} | {num(speed.get(name))} | {spread_text(speed.get(name + '_spread'))} | "
            f"{num(a, 3) + unit if a is not None else '—'} | "
            f"{num(b, 3) + unit if b is not None else '—'} |"
        )
    rival = speed.get("vs_invoice2data") or {}
    d = details.get("vs_invoice2data", {})
    return [
        *lines,
        f"| vs_invoice2data (time) | {num(rival.get('time_ratio'))} | "
        f"{spread_text(d.get('ratio_spread'))} | "
        f"{num(d.get('rekey_median_s'), 3)} s | {num(d.get('baseline_median_s'), 3)} s |",
        f"| vs_invoice2data (field accuracy) | — | | {pct(rival.get('our_field_accuracy'))} | "
        f"{pct(rival.get('their_field_accuracy'))} |",
        f"| scan pages per minute (one core) | {num(speed.get('scan_pages_per_minute'), 1)} "
        "| | | |",
        f"| digital pages per minute (one core) | "
        f"{num(speed.get('digital_pages_per_minute'), 1)} | | | |",
        f"| registration share (of a registered page's reading time) | "
        f"{pct(speed.get('registration_share'))} | "
        f"{spread_text(speed.get('registration_share_spread'))} | | |",
    ]


def render(result: dict[str, Any]) -> str:
    run = result.get("run", {})
    machine, versions = result.get("machine", {}), result.get("versions", {})
    git = versions.get("git") or {}
    overall = result.get("accuracy_overall") or {}
    holdout = result.get("holdout") or {}
    held = holdout.get("overall") or {}
    funsd = (result.get("realworld") or {}).get("funsd") or {}
    rules, memory = result["rules"], result["memory"]
    end = rules.get("end_to_end") or {}
    stp_dev, stp_held = result.get("stp") or {}, result.get("holdout_stp") or {}
    dirty = " (uncommitted changes)" if git.get("dirty") else ""
    lines = [
        f"# rekey benchmarks — {run.get('started', '?')}",
        "",
        f"Commit `{(git.get('commit') or '?')[:12]}`{dirty}"
        f" · corpus seed {run.get('seed')} (development) and "
        f"{holdout.get('seed') or run.get('holdout_seed')} (held out), {run.get('n')} "
        f"documents each · timing repeats {run.get('repeat')} · run wall time "
        f"{num(run.get('wall_s'), 0)} s",
        "",
        f"Machine: {machine.get('cores')} cores ({machine.get('cpu_model')}), "
        f"{num((machine.get('memory_mb') or 0) / 1024, 1)} GB, {machine.get('os')}. "
        f"{versions.get('tesseract')}, {versions.get('chromium')}, "
        f"Prefect {versions.get('prefect')}, pdfplumber {versions.get('pdfplumber')}, "
        f"Playwright {versions.get('playwright')}, rekey {versions.get('rekey')}.",
        "",
        seeds_line(run, holdout),
        "",
        "## Headline",
        "",
        "| figure | development seed | held-out seed |",
        "|---|---|---|",
        f"| precision of fields marked confident | {pct(overall.get('confident_precision'))} | "
        f"{pct(held.get('confident_precision'))} |",
        f"| field accuracy | {pct(overall.get('field_accuracy'))} | "
        f"{pct(held.get('field_accuracy'))} |",
        f"| classification | {pct(overall.get('classification'))} | "
        f"{pct(held.get('classification'))} |",
        f"| straight-through, end to end (keyed and done, no person), of the documents "
        f"with no planted error | {pct(stp_dev.get('all'))} | {pct(stp_held.get('all'))} |",
        f"| straight-through, of every document | {pct(stp_dev.get('all_documents'))} | "
        f"{pct(stp_held.get('all_documents'))} |",
        f"| documents with a planted error keyed with no person | "
        f"{num(stp_dev.get('planted_through'))} | {num(stp_held.get('planted_through'))} |",
        f"| wrong values keyed (fields in the back office, no reviewer) | "
        f"{num(result.get('wrong_keyed'))} | "
        f"{num((result.get('holdout_stp') or {}).get('wrong_keyed'))} |",
        f"| rule recall on planted errors (true values) | {pct(rules.get('recall'))} | — |",
        f"| false-alarm rate, clean documents (true values) | "
        f"{pct(rules.get('false_alarm_rate'))} | — |",
        f"| rule recall end to end (values as read) | {pct(end.get('recall'))} | — |",
        f"| error findings on clean documents end to end (as read) | "
        f"{pct(end.get('false_alarm_rate'))} | — |",
        f"| peak memory, {num(memory.get('batch_documents'))}-document batch "
        f"| {num(memory.get('batch_peak_rss_mb'), 0)} MB | — |",
        f"| real scans (FUNSD), word recall: rekey / plain Tesseract | "
        f"{pct(funsd.get('word_recall'))} / {pct(funsd.get('baseline_word_recall'))} | |",
        "",
        "Accuracy figures cover the document kinds that have a template; the others are "
        "listed under Missing.",
        "",
        *accuracy_lines(result),
        *calibration_lines(result),
        *stp_lines(result),
        *realworld_lines(result),
        *speed_lines(result),
        *review_lines(result.get("review") or {}),
        "",
        "## Missing",
        "",
        *[f"- {m}" for m in result.get("missing", [])],
        "",
        DETAILS_MARK,
        "",
        "## Field errors",
        "",
        "Up to three examples per field and kind/rendition; crops in `crops/` "
        "(not committed; `make bench` writes them).",
        "",
        "| field | kind/rendition | errors/total | document | truth | extracted | "
        "confidence | crop |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for group in result.get("field_errors", []):
        for i, e in enumerate(group["examples"]):
            head = (
                f"| {group['field']} | {group['row']} | {group['errors']}/{group['total']} "
                if i == 0
                else "| | | "
            )
            crop = (
                f"`crops/{e['crop']}`"
                if e["crop"] and e["crop"] != "not found"
                else (e["crop"] or "—")
            )
            lines.append(
                f"{head}| {e['document']} | {cell(e['truth'])} | {cell(e['extracted'])} | "
                f"{e['confidence']:.2f} | {crop} |"
            )
    not_read = result.get("not_read") or []
    if not_read:
        lines += ["", "## Documents not read", ""]
        lines += [f"- {r['file']}: {r['error']}" for r in not_read]
    return "\n".join(lines) + "\n"
