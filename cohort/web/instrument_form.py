"""An instrument as an HTML form: the NHS.UK macro parameters of each field of a
``FormSpec``, and its answers read back from a posted form.

Following the builder's rendering contract, each field is wrapped with
``data-field``/``data-branching`` so ``branching.js`` can hide ahead of time; without
JavaScript every field shows and the server decides. Labels, notes and choices are in the
midwife's UI language. The consent tick boxes also carry their statement in the woman's
language (with ``lang`` and ``dir``) when hers differs, so she can read what she agrees to.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from jinja2 import Environment
from markupsafe import Markup
from sqlmodel import Session
from starlette.datastructures import FormData

from cohort import i18n, leaflet
from cohort.capture import ITEMS_FIELD
from cohort.web import ui_language
from cohort.web.pages import render
from forms import uploaded_translations
from forms.branching import to_json
from forms.i18n import Gettext
from forms.spec import FieldSpec, FormSpec

MACROS = {
    "text": "input",
    "notes": "textarea",
    "radio": "radios",
    "yesno": "radios",
    "truefalse": "radios",
    "dropdown": "select",
    "checkbox": "checkboxes",
    "descriptive": "descriptive",
}
INLINE = ("yesno", "truefalse")
CHOSEN = ("radios", "checkboxes", "select")  # macros whose answers are picked, not typed
FIELDS_TEMPLATE = "_instrument_fields.html"
SHOW_STATEMENTS = "show_statements"  # the action of the button beside the language
# How a text input suits what it takes, by the dictionary's validation.
INPUTS: dict[str, dict[str, Any]] = {
    "nhs_number": {"inputmode": "numeric", "classes": "nhsuk-input--width-10"},
    "postcode": {"classes": "nhsuk-input--width-10"},
    "date_ymd": {"classes": "nhsuk-input--width-10"},
    "integer": {"inputmode": "numeric", "classes": "nhsuk-input--width-5"},
    "number": {"inputmode": "decimal", "classes": "nhsuk-input--width-5"},
    "email": {"type": "email"},
    "phone": {"type": "tel", "classes": "nhsuk-input--width-20"},
}

Answers = dict[str, str | list[str]]


@dataclass(frozen=True)
class FieldView:
    name: str
    macro: str  # which NHS.UK macro renders it (MACROS)
    params: dict[str, Any]
    section: str = ""  # the section header it opens, translated
    branching: str = ""  # data-branching JSON; empty when always shown


@dataclass(frozen=True)
class Statements:
    """Participant-facing texts side by side: the midwife's language, then the woman's
    (None when she speaks the midwife's language or has not been asked yet)."""

    mine: i18n.Language
    hers: i18n.Language | None
    pairs: list[tuple[str, str]]


def posted_answers(spec: FormSpec, form: FormData) -> Answers:
    """The answers to the form's questions in a posted form; every ticked box of a
    checkbox field. Anything else posted (tokens, buttons) is left out."""
    return {
        spec_field.name: (
            [str(v) for v in form.getlist(spec_field.name)]
            if spec_field.type == "checkbox"
            else str(form.get(spec_field.name, ""))
        )
        for spec_field in spec.answer_fields
        if spec_field.name in form
    }


def her_language(code: object, ui: str) -> i18n.Language | None:
    """The woman's language when it is a cohort language other than the midwife's."""
    if not isinstance(code, str) or code not in i18n.LANGUAGES or code == ui:
        return None
    return i18n.LANGUAGES[code]


def error_list(errors: dict[str, str]) -> list[dict[str, str]]:
    """The error summary's entries, each linking to its field (a choice field's first
    input has the field's name as its id)."""
    return [{"text": message, "href": f"#{name}"} for name, message in errors.items()]


def statements(texts: tuple[str, ...], ui: str, her: i18n.Language | None) -> Statements:
    mine, hers = i18n.gettext(ui), i18n.gettext(her.code) if her else None
    pairs = [(mine(text), hers(text) if hers else "") for text in texts]
    return Statements(mine=i18n.language(ui), hers=her, pairs=pairs)


def _in_her_language(her: i18n.Language, hers: Gettext, text: str) -> Markup:
    return Markup('<span lang="{}" dir="{}">{}</span>').format(her.code, her.direction, hers(text))


InHers = Callable[[str], Markup] | None  # a text shown in the woman's language, if asked


def _choices(spec_field: FieldSpec, gettext: Gettext, in_hers: InHers) -> list[dict]:
    items = []
    for choice in spec_field.choices:
        item = {"value": choice.code, "text": gettext(choice.label)}
        if in_hers is not None and spec_field.name == ITEMS_FIELD:
            item["hint"] = {"html": in_hers(choice.label)}
        items.append(item)
    return items


def _params(
    spec_field: FieldSpec,
    value: str | list[str],
    error: str | None,
    gettext: Gettext,
    in_hers: InHers,
) -> dict[str, Any]:
    label = gettext(spec_field.label)
    macro = MACROS[spec_field.type]
    if macro == "descriptive":
        return {"text": label}
    params: dict[str, Any] = {"name": spec_field.name}
    if spec_field.note:
        params["hint"] = {"text": gettext(spec_field.note)}
    if error:
        params["errorMessage"] = {"text": error}
    if macro in ("radios", "checkboxes"):
        params |= {
            "idPrefix": spec_field.name,
            "fieldset": {"legend": {"text": label, "size": "s"}},
            "items": _choices(spec_field, gettext, in_hers),
        }
        if macro == "radios":
            return params | {"value": value, "inline": spec_field.type in INLINE}
        return params | {"values": list(value)}
    params |= {"id": spec_field.name, "label": {"text": label}, "value": value}
    if macro == "select":
        params["items"] = [{"value": "", "text": ""}, *_choices(spec_field, gettext, in_hers)]
    if macro == "input":
        params |= {"spellcheck": False, **INPUTS.get(spec_field.validation, {})}
        if spec_field.identifier:
            params["autocomplete"] = "off"
    return params


def field_views(
    spec: FormSpec,
    answers: Answers,
    errors: dict[str, str],
    ui: str,
    *,
    her: i18n.Language | None = None,
) -> list[FieldView]:
    """Every field of ``spec`` with what was entered and its error, ready for its macro,
    its text in the midwife's language ``ui`` (the statements also in hers)."""
    gettext = i18n.instrument_gettext(spec, ui)
    in_hers = (
        partial(_in_her_language, her, i18n.instrument_gettext(spec, her.code)) if her else None
    )
    return [
        FieldView(
            name=spec_field.name,
            macro=MACROS[spec_field.type],
            params=_params(
                spec_field,
                answers.get(spec_field.name, [] if spec_field.type == "checkbox" else ""),
                errors.get(spec_field.name),
                gettext,
                in_hers,
            ),
            section=gettext(spec_field.section_header) if spec_field.section_header else "",
            branching=to_json(spec_field.branching) if spec_field.branching else "",
        )
        for spec_field in spec.fields
    ]


def _fields_markup(
    env: Environment,
    spec: FormSpec,
    answers: Answers,
    errors: dict[str, str],
    ui: str,
    her: i18n.Language | None,
) -> Markup:
    gettext = i18n.gettext(ui)
    return Markup(  # noqa: S704  (the output of an autoescaped template)
        env.get_template(FIELDS_TEMPLATE).render(
            fields=field_views(spec, answers, errors, ui, her=her),
            then="discussion_language",
            then_template="_her_language.html",
            leaflet=statements(leaflet.SUMMARY, ui, her),
            _=gettext,
        )
    )


@lru_cache(maxsize=512)
def _chosen_fields_markup(
    env: Environment,
    spec: FormSpec,
    chosen: tuple[tuple[str, str | tuple[str, ...]], ...],
    ui: str,
    her: i18n.Language | None,
) -> Markup:
    answers = {name: list(v) if isinstance(v, tuple) else v for name, v in chosen}
    return _fields_markup(env, spec, answers, {}, ui, her)


def fields_markup(
    env: Environment,
    spec: FormSpec,
    answers: Answers,
    errors: dict[str, str],
    ui: str,
    her: i18n.Language | None,
) -> Markup:
    """The fields' HTML. The NHS.UK macros make it most of a page's server time, so a
    render with only picked answers and no errors (the blank form a midwife opens at every
    appointment) is kept and reused; anything typed, an identifier above all, is rendered
    afresh and never outlives its request."""
    picked = {f.name for f in spec.fields if MACROS[f.type] in CHOSEN}
    if errors or not set(answers) <= picked:
        return _fields_markup(env, spec, answers, errors, ui, her)
    chosen = tuple(
        sorted((name, tuple(v) if isinstance(v, list) else v) for name, v in answers.items())
    )
    return _chosen_fields_markup(env, spec, chosen, ui, her)


def render_form(
    request: Request,
    db: Session,
    spec: FormSpec,
    answers: Answers,
    token: str,
    *,
    title: str,
    intro: str,
    action: str,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The page of an instrument (whole or in part): what was entered, its errors, the
        woman's statements beside the midwife's, in the translations uploaded for its version
    where there are; ``title`` and ``intro`` are message ids."""
    ui = ui_language.current(request)
    gettext = i18n.gettext(ui)
    her = her_language(answers.get("discussion_language"), ui)
    errors = errors or {}
    spec = uploaded_translations.attach(db, spec)
    return render(
        request,
        "instrument_page.html",
        status_code=status_code,
        title=gettext(title),
        intro=gettext(intro),
        action=action,
        fields=fields_markup(request.app.state.templates.env, spec, answers, errors, ui, her),
        errors=errors,
        error_list=error_list(errors),
        submission_token=token,
        form_version=spec.version,
    )
