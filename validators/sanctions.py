"""Sanctions screening: the applicant's name and date of birth against a watch list.

The list is read in the public OFAC SDN CSV layout (``sdn.csv``, no header row, ``-0-`` for
empty): ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT,
Vess_flag, Vess_owner, Remarks. Dates of birth are in Remarks as ``DOB 12 Mar 1970;`` (or
``DOB 1970;``, ``DOB circa 1970;``). A file that starts with a header row is read too.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from rapidfuzz import fuzz

from rekey.errors import ConfigError
from rekey.models import Case, Finding
from validators.registry import Params, RuleContext, rule
from validators.values import as_date, fold_name, text

COLUMNS = [
    "ent_num", "SDN_Name", "SDN_Type", "Program", "Title", "Call_Sign", "Vess_type",
    "Tonnage", "GRT", "Vess_flag", "Vess_owner", "Remarks",
]  # fmt: skip
EMPTY = "-0-"
DOB = re.compile(r"DOB\s+(?:circa\s+)?((?:\d{1,2}\s+)?(?:[A-Za-z]{3}\s+)?\d{4})", re.IGNORECASE)


@dataclass(frozen=True)
class Born:
    """A listed date of birth: a full date, or only a year."""

    year: int
    day: date | None = None

    def agrees(self, born: date) -> bool:
        return born == self.day if self.day else born.year == self.year

    def __str__(self) -> str:
        return f"{self.day:%d %b %Y}" if self.day else str(self.year)


def parse_dobs(remarks: str) -> list[Born]:
    found = []
    for raw in DOB.findall(remarks):
        words = raw.split()
        for fmt in ("%d %b %Y", "%b %Y", "%Y"):
            try:
                parsed = datetime.strptime(" ".join(words), fmt).date()
            except ValueError:
                continue
            found.append(Born(parsed.year, parsed if fmt == "%d %b %Y" else None))
            break
    return found


@dataclass(frozen=True)
class Entry:
    ent_num: str
    name: str
    sdn_type: str
    program: str
    born: tuple[Born, ...]

    @property
    def folded(self) -> str:
        return " ".join(sorted(fold_name(self.name).split()))


class WatchList:
    def __init__(self, entries: list[Entry]):
        self.entries = entries

    @classmethod
    def from_csv(cls, path: Path) -> WatchList:
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                rows = list(csv.reader(handle))
        except OSError as exc:
            raise ConfigError(f"cannot read the watch list ({exc.strerror})", file=path) from exc
        if rows and rows[0] and rows[0][0].strip() == "ent_num":
            rows = rows[1:]
        entries = []
        for line, row in enumerate(rows, start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) != len(COLUMNS):
                raise ConfigError(
                    f"{len(row)} columns, the SDN layout has {len(COLUMNS)}",
                    file=path,
                    key=f"line {line}",
                )
            cells = dict(zip(COLUMNS, (c.strip() for c in row), strict=True))
            cells = {k: "" if v == EMPTY else v for k, v in cells.items()}
            entries.append(
                Entry(
                    ent_num=cells["ent_num"],
                    name=cells["SDN_Name"],
                    sdn_type=cells["SDN_Type"].casefold() or "individual",
                    program=cells["Program"],
                    born=tuple(parse_dobs(cells["Remarks"])),
                )
            )
        return cls(entries)

    def screen(self, name: str, born: date | None, min_score: float) -> list[Hit]:
        """Individuals whose name scores at least ``min_score``, best first."""
        folded = " ".join(sorted(fold_name(name).split()))
        hits = []
        for entry in self.entries:
            if entry.sdn_type != "individual":
                continue
            score = fuzz.token_sort_ratio(folded, entry.folded)
            if score < min_score:
                continue
            dob_agrees = (
                None if born is None or not entry.born else any(b.agrees(born) for b in entry.born)
            )
            exact = (
                folded == entry.folded
                and born is not None
                and any(b.day == born for b in entry.born)
            )
            hits.append(Hit(entry, score, dob_agrees, exact))
        return sorted(hits, key=lambda h: -h.score)


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float
    dob_agrees: bool | None  # None: no date to compare
    exact: bool

    def describe(self) -> str:
        born = ", ".join(str(b) for b in self.entry.born) or "no date of birth listed"
        return (
            f"entry {self.entry.ent_num} {self.entry.name!r} "
            f"({self.entry.program or 'no program'}; "
            f"born {born}), score {self.score:.0f} of 100"
        )


class ScreenParams(Params):
    sources = ("watchlist",)
    watchlist: str = "watchlist"
    name_field: str = "full_name"
    birth_field: str = "date_of_birth"
    min_score: float = 88.0


def hits_for(case: Case, params: ScreenParams, ctx: RuleContext) -> list[Hit] | None:
    watchlist = ctx.source(params.watchlist)
    name = text(case, params.name_field)
    if watchlist is None or name is None:
        return None
    return watchlist.screen(name, as_date(text(case, params.birth_field)), params.min_score)


@rule("sanctions_screening", ScreenParams)
def sanctions_screening(case: Case, params: ScreenParams, ctx: RuleContext) -> list[Finding]:
    """The applicant does not resemble anyone on the watch list (name and date of birth).

    A name hit whose listed date of birth differs is a warning; otherwise it is a finding of
    the configured severity that a compliance reviewer must clear.
    """
    hits = hits_for(case, params, ctx)
    if hits is None:
        if ctx.source(params.watchlist) is None:
            return [
                ctx.finding(
                    [params.name_field],
                    f"No watch list named {params.watchlist!r} is configured; "
                    "the applicant was not screened.",
                )
            ]
        return []
    fields = [params.name_field, params.birth_field]
    found = []
    for hit in hits:
        if hit.dob_agrees is False:
            found.append(
                ctx.finding(
                    fields,
                    f"The applicant's name resembles watch-list {hit.describe()}, but the date of "
                    "birth differs.",
                    warning=True,
                )
            )
        else:
            found.append(
                ctx.finding(
                    fields,
                    f"Possible sanctions match: watch-list {hit.describe()}. "
                    "Compliance must clear it.",
                )
            )
    return found


@rule("sanctions_exact", ScreenParams)
def sanctions_exact(case: Case, params: ScreenParams, ctx: RuleContext) -> list[Finding]:
    """The applicant's name and date of birth are exactly a watch-list entry's (list as fatal)."""
    hits = hits_for(case, params, ctx) or []
    return [
        ctx.finding(
            [params.name_field, params.birth_field],
            "The applicant is on the sanctions list: name and date of birth equal "
            f"{hit.describe()}.",
        )
        for hit in hits
        if hit.exact
    ]
