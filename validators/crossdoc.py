"""Cross-document rules: a second document's fields riding in the same case.

A case may carry another document's fields under a prefix: the passport that came with an
account-opening form as ``passport.surname``, ``passport.document_number``,
``passport.date_of_birth``, ``passport.mrz_line1``... The MRZ itself is checked with
``id_checksum`` (``field: passport.mrz_line2``) and ``mrz_matches_page`` (``prefix: passport.``).
"""

from __future__ import annotations

from rekey.models import Case, Finding
from validators.masking import mask
from validators.mrz import parse_line2
from validators.reference import name_match
from validators.registry import Params, RuleContext, rule
from validators.values import as_date, text


class PassportFormParams(Params):
    prefix: str = "passport."
    name_field: str = "full_name"
    id_field: str = "id_number"
    type_field: str = "id_type"
    passport_types: tuple[str, ...] = ("passport", "reisepass")  # ID types that mean a passport
    birth_field: str = "date_of_birth"
    min_score: float = 85.0


def passport_number(case: Case, prefix: str) -> str | None:
    printed = text(case, f"{prefix}document_number")
    if printed:
        return printed.upper().replace(" ", "")
    line2 = text(case, f"{prefix}mrz_line2")
    parsed = parse_line2(line2) if line2 else None
    return parsed.number if parsed else None


@rule("passport_matches_form", PassportFormParams)
def passport_matches_form(
    case: Case, params: PassportFormParams, ctx: RuleContext
) -> list[Finding]:
    """The passport's name, number and date of birth are the form's."""
    p = params.prefix
    if not any(name.startswith(p) for name in case.fields):
        return []  # no passport came with this form
    found = []
    surname, given = text(case, f"{p}surname"), text(case, f"{p}given_names")
    name = text(case, params.name_field)
    if name and (surname or given):
        on_passport = " ".join(part for part in (given, surname) if part)
        score = name_match(name, on_passport)
        if score < params.min_score:
            found.append(
                ctx.finding(
                    [params.name_field, f"{p}surname", f"{p}given_names"],
                    f"The name on the form {name!r} does not match the passport's "
                    f"{on_passport!r} (score {score:.0f} of 100).",
                )
            )
    id_type = (text(case, params.type_field) or "").casefold()
    form_number, number = text(case, params.id_field), passport_number(case, p)
    if (
        form_number
        and number
        and id_type in params.passport_types
        and form_number.upper().replace(" ", "") != number
    ):
        found.append(
            ctx.finding(
                [params.id_field, f"{p}document_number"],
                f"The passport number on the form ({mask(form_number)}) is not the passport's "
                f"({mask(number)}).",
            )
        )
    born, on_passport_born = (
        as_date(text(case, params.birth_field)),
        as_date(text(case, f"{p}date_of_birth")),
    )
    if born and on_passport_born and born != on_passport_born:
        found.append(
            ctx.finding(
                [params.birth_field, f"{p}date_of_birth"],
                f"The form gives the date of birth {born:%d %b %Y}, the passport "
                f"{on_passport_born:%d %b %Y}.",
            )
        )
    return found
