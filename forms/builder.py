"""From a ``FormSpec`` to a WTForms form, and the one validation web and API share.

The server decides what is shown: a field whose branching logic does not hold is hidden,
is never required, and its answer is dropped, whatever the browser sent. Without
JavaScript every field shows; ``static/branching.js`` only hides ahead of time.

Rendering contract for templates: wrap each field in an element with
``data-field="<name>"`` and, when ``field.branching`` is set,
``data-branching="{{ to_json(field.branching) }}"`` (``forms.branching.to_json``); render
descriptive fields (no form input) from the spec; translate section headers with the same
gettext. Answers are text, or for a checkbox field the set of ticked codes.
"""

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar

import wtforms
from wtforms import widgets

from forms import branching
from forms.branching import Answer
from forms.i18n import N_, Gettext, identity
from forms.spec import FieldSpec, FormSpec
from forms.validation import Invalid, check

REQUIRED = {
    "text": N_("Enter an answer"),
    "notes": N_("Enter an answer"),
    "checkbox": N_("Tick at least one box"),
}
CHOOSE_ONE = N_("Select an answer")
NOT_OFFERED = N_("Select from the answers given")


class MultiCheckboxField(wtforms.SelectMultipleField):
    """REDCap's checkbox field: one tick box per choice, any number ticked."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


FIELD_CLASSES: dict[str, type[wtforms.Field]] = {
    "text": wtforms.StringField,
    "notes": wtforms.TextAreaField,
    "radio": wtforms.RadioField,
    "yesno": wtforms.RadioField,
    "truefalse": wtforms.RadioField,
    "dropdown": wtforms.SelectField,
    "checkbox": MultiCheckboxField,
}


def visible_fields(spec: FormSpec, values: Mapping[str, Answer]) -> set[str]:
    """Names of the fields whose branching logic holds, reading a hidden field as empty
    (so a field that depends on a hidden one is hidden too)."""
    shown: dict[str, bool] = {}

    def is_shown(name: str) -> bool:
        if name not in shown:
            logic = spec.field(name).branching
            shown[name] = True  # no cycles: the dictionary parser refuses them
            if logic is not None:
                effective = {
                    ref: values.get(ref, "") if is_shown(ref) else ""
                    for ref in branching.field_names(logic)
                }
                shown[name] = branching.evaluate(logic, effective)
        return shown[name]

    return {field.name for field in spec.fields if is_shown(field.name)}


def clean_answer(field: FieldSpec, raw: Answer) -> Answer:
    """The answer to store for a shown field, or ``Invalid`` saying what to fix."""
    if field.type == "checkbox":
        ticked = frozenset(raw) if not isinstance(raw, str) else frozenset({raw} - {""})
        if field.required and not ticked:
            raise Invalid(REQUIRED["checkbox"])
        if not ticked <= set(field.codes):
            raise Invalid(NOT_OFFERED)
        return ticked
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        if field.required:
            raise Invalid(REQUIRED.get(field.type, CHOOSE_ONE))
        return ""
    if field.choices and text not in field.codes:
        raise Invalid(NOT_OFFERED)
    if field.validation:
        return check(field.validation, text, field.minimum, field.maximum)
    return text


def export_checkbox(field: FieldSpec, values: Mapping[str, Answer]) -> dict[str, str]:
    """A checkbox answer as REDCap exports it: ``field___code`` -> "1" ticked, "0" not."""
    ticked = values.get(field.name, frozenset())
    return {
        f"{field.name}___{code.lower().replace('-', '_')}": "1" if code in ticked else "0"
        for code in field.codes
    }


def split_identifiers(
    spec: FormSpec, values: Mapping[str, Answer]
) -> tuple[dict[str, Answer], dict[str, Answer]]:
    """(answers to fields marked ``Identifier? = y``, the rest): the first go to the vault
    only, never to consent or research tables."""
    identity_values, consent_values = {}, {}
    for name, value in values.items():
        (identity_values if spec.field(name).identifier else consent_values)[name] = value
    return identity_values, consent_values


class _Answers(dict):
    """A plain mapping (a JSON body) read as the multi-dict WTForms expects."""

    def getlist(self, name: str) -> list[str]:
        return self.get(name, [])


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return [str(item) for item in value]
    return [str(value)]


def _as_multidict(formdata: Any) -> Any:
    if formdata is None or hasattr(formdata, "getlist"):
        return formdata
    return _Answers({name: _as_list(value) for name, value in formdata.items()})


def _entered(field: wtforms.Field) -> Answer:
    if isinstance(field, MultiCheckboxField):
        return frozenset(field.data or ())
    return "" if field.data is None else str(field.data)


class InstrumentForm(wtforms.Form):
    """A form built from a spec: ``validate()`` applies branching logic, required-when-shown
    and the dictionary's validations, then sets ``clean_values`` (shown fields only) and
    each field's ``errors``; ``visible`` names the fields that were shown."""

    spec: ClassVar[FormSpec]
    translate: ClassVar[Gettext]

    def __init__(self, formdata: Any = None, **kwargs: Any) -> None:
        super().__init__(_as_multidict(formdata), **kwargs)
        self.visible: set[str] = {field.name for field in self.spec.fields}
        self.clean_values: dict[str, Answer] = {}

    def answers(self) -> dict[str, Answer]:
        """What was entered, before cleaning: text, or the set of ticked codes."""
        return {name: _entered(field) for name, field in self._fields.items()}

    def validate(self) -> bool:  # the spec holds every rule: no extra validators
        answers = self.answers()
        self.visible = visible_fields(self.spec, answers)
        clean: dict[str, Answer] = {}
        for field in self.spec.answer_fields:
            self[field.name].errors = []
            if field.name in self.visible:
                try:
                    clean[field.name] = clean_answer(field, answers[field.name])
                except Invalid as exc:
                    self[field.name].errors = [exc.translated(self.translate)]
        self.clean_values = {} if self.errors else clean
        return not self.errors


def _unbound_field(field: FieldSpec, gettext: Gettext) -> Any:
    options: dict[str, Any] = {
        "label": gettext(field.label),
        "description": gettext(field.note) if field.note else "",
    }
    if field.choices:
        choices = [wtforms.SelectChoice(c.code, gettext(c.label)) for c in field.choices]
        blank = [wtforms.SelectChoice("", "")] if field.type == "dropdown" else []
        options |= {"choices": blank + choices, "validate_choice": False}
    return FIELD_CLASSES[field.type](**options)


def build_form_class(spec: FormSpec, gettext: Gettext = identity) -> type[InstrumentForm]:
    """A WTForms class for ``spec`` with its labels, choices, notes and messages in the
    language of ``gettext``; built once per (spec, gettext) and reused."""
    return _form_class(spec, gettext)


@lru_cache(maxsize=64)
def _form_class(spec: FormSpec, gettext: Gettext) -> type[InstrumentForm]:
    attributes: dict[str, Any] = {
        field.name: _unbound_field(field, gettext) for field in spec.answer_fields
    }
    attributes |= {"spec": spec, "translate": staticmethod(gettext)}
    return type(f"{spec.name}_form", (InstrumentForm,), attributes)


def validate(
    form: FormSpec | type[InstrumentForm], formdata: Any, gettext: Gettext | None = None
) -> tuple[dict[str, Answer], dict[str, str]]:
    """(clean answers of the shown fields, first error message per field) for submitted
    ``formdata``: a multi-dict (a web form) or a plain mapping (a JSON body, with lists for
    checkbox fields). Clean answers are empty when there is any error."""
    if isinstance(form, type):
        if gettext is not None:
            raise TypeError("a form class has its gettext built in: pass the spec instead")
        form_class = form
    else:
        form_class = build_form_class(form, gettext or identity)
    submitted = form_class(formdata if formdata is not None else {})
    submitted.validate()
    return submitted.clean_values, {name: errors[0] for name, errors in submitted.errors.items()}
