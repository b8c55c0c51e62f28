"""Instrument text reaches the Babel catalogs: every label, note, section header and
choice label of a dictionary is extracted, located by its row."""

import pytest
from babel.messages.extract import extract_from_file

from forms.dictionary import DictionaryError, parse
from tests.forms.conftest import SHIPPED, dictionary_csv

METHOD = "forms.extract:extract_dictionary"


def test_every_text_a_midwife_or_mother_reads_is_extracted():
    spec = parse(SHIPPED.read_bytes(), version="1.0")
    extracted = {message for _, message, _, _ in extract_from_file(METHOD, SHIPPED)}
    shown = {
        text
        for field in spec.fields
        for text in (
            field.section_header,
            field.label,
            field.note,
            *(c.label for c in field.choices),
        )
        if text
    }
    assert extracted == shown
    assert {"Yes", "No", "Link my baby's health records to the study"} <= extracted


def test_each_message_says_where_it_comes_from():
    results = extract_from_file(METHOD, SHIPPED)
    outcome = [
        (row, comments) for row, message, comments, _ in results if message == "No, she declines"
    ]
    assert outcome == [(6, ["babi_consent.outcome: choice 0"])]


def test_a_malformed_dictionary_fails_the_extraction(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(dictionary_csv({"field_name": "a", "field_type": "slider"}))
    with pytest.raises(DictionaryError, match="unknown field type"):
        extract_from_file(METHOD, bad)
