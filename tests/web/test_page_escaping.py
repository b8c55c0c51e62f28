"""Hostile text renders escaped in the HTML of the pages showing it (the fast companion of
``tests/browser/test_stored_xss_records.py``, which checks in Chromium that none runs):
a published form's labels, notes, choices and section headers, its uploaded translations
(the woman's statements in her language are built as markup, ``instrument_form``),
typed answers shown again with their errors, and her identity; and ``| safe`` in the
templates marks only literal markup, and a macro's `html` is only an autoescaped block."""

import re
from pathlib import Path

import pytest

import cohort.web
from tests.consent_world import NHS_NUMBER
from tests.hostile_input import (
    PAYLOAD,
    enrol_hostile_mother,
    publish_hostile_form,
    shown_as_text,
)
from tests.web.conftest import sign_in
from tests.web.test_consent_pages import open_form, send


@pytest.fixture
def hostile_form(instance) -> None:
    publish_hostile_form(instance.engine, "test")


@pytest.fixture
def midwife(client, make_user, hostile_form) -> str:
    make_user("mia", "midwife")
    return sign_in(client, "mia")


def test_a_published_forms_texts_and_translations_render_escaped(client, midwife):
    page = client.get("/consents/new?language=ur")
    assert page.status_code == 200
    assert shown_as_text(page.text)
    hers = page.text.split('lang="ur"', 1)[1]  # her statements, in her language
    assert "&lt;script&gt;" in hers and "&#34;&gt;&lt;img" in hers


def test_typed_answers_shown_again_with_their_errors_render_escaped(client, midwife):
    _, token = open_form(client)
    typed = dict.fromkeys(("given_name", "family_name", "address", "notes"), PAYLOAD)
    refused = send(client, midwife, token, {"outcome": "1", "postcode": PAYLOAD, **typed})
    assert refused.status_code == 400
    assert shown_as_text(refused.text)


def test_her_identity_renders_escaped_for_the_data_manager(client, instance, make_user):
    midwife = make_user("mia", "midwife")
    publish_hostile_form(instance.engine, "test")
    enrol_hostile_mother(instance.engine, instance.keys, midwife)
    make_user("dana", "data_manager")
    csrf = sign_in(client, "dana")
    page = client.post(
        "/participants/identity", data={"csrf_token": csrf, "nhs_number": NHS_NUMBER}
    )
    assert page.status_code == 200
    assert shown_as_text(page.text)
    assert page.text.count("&lt;script&gt;window.__xss=1") == 3  # both names and address


TEMPLATES = Path(cohort.web.__file__).parent / "templates"
SAFE = re.compile(r"\|\s*safe\b")
# A string literal marked safe, formatted (if at all) only with escaped values.
LITERAL_SAFE = re.compile(
    r"""\(\s*("(?:[^"\\]|\\.)*"|'[^']*')\s*(?:\|\s*format\(([^()]*)\))?\s*\|\s*safe\s*\)"""
)


HTML_PARAM = re.compile(r'"html":\s*([^,}\s]+)')  # an NHS.UK macro's raw-markup parameter


def test_the_templates_build_markup_only_from_literals_and_autoescaped_blocks():
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        literal = list(LITERAL_SAFE.finditer(text))
        assert len(SAFE.findall(text)) == len(literal), template.name
        for use in literal:
            values = [v for v in (use.group(2) or "").split(",") if v.strip()]
            assert all(re.search(r"\|\s*e\s*$", v) for v in values), (template.name, use[0])
        for name in HTML_PARAM.findall(text):  # a {% set %} block, which autoescapes
            assert re.search(rf"{{%\s*set {name}\s*%}}", text), (template.name, name)
