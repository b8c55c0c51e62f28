"""REDCap's wire formats: exports in json, csv and xml, errors in each, imports read as
rows of strings (booleans as True/False), and refusals of what cannot be read."""

import json

import pytest

from cohort.errors import CohortError
from cohort.interop import redcap_formats

ROWS = [{"study_id": "BB-1", "note": 'a <b> & "c"'}]


def test_exports_in_each_format():
    assert json.loads(redcap_formats.render(ROWS, "json", "records")) == ROWS
    csv_rows = 'study_id,note\r\nBB-1,"a <b> & ""c"""\r\n'
    assert redcap_formats.render(ROWS, "csv", "records") == csv_rows
    assert redcap_formats.render([], "csv", "records", ["study_id"]) == "study_id\r\n"
    xml = redcap_formats.render(ROWS, "xml", "records")
    assert '<records><item><study_id>BB-1</study_id><note>a &lt;b&gt; &amp; "c"</note>' in xml


def test_a_record_cell_that_starts_like_a_formula_is_quoted_and_the_dictionary_is_not():
    """Record values are anyone's text; the dictionary's action tags (@HIDDEN) must stay."""
    hostile = [{"study_id": "BB-1", "note": "=cmd|' /C calc'!A0"}]
    assert "'=cmd" in redcap_formats.render(hostile, "csv", "records")
    tagged = [{"field_name": "x", "field_annotation": "@HIDDEN"}]
    assert ",@HIDDEN\r\n" in redcap_formats.render(tagged, "csv", "metadata")


@pytest.mark.parametrize(
    ("fmt", "shape"),
    [("json", '{"error": "No"}'), ("csv", "ERROR: No"), ("xml", "<error>No</error>")],
)
def test_errors_in_each_format(fmt, shape):
    assert shape in redcap_formats.error_body("No", fmt)


def test_imports_are_rows_of_strings():
    data = json.dumps([{"study_id": 1, "leaflet_given": True, "note": None}])
    assert redcap_formats.read_rows(data, "json") == [
        {"study_id": "1", "leaflet_given": "True", "note": ""}
    ]
    assert redcap_formats.read_rows("a,b\n1,\n", "csv") == [{"a": "1", "b": ""}]


def test_an_xml_import_is_read_as_redcap_writes_it():
    data = (
        '<?xml version="1.0" encoding="UTF-8" ?>\n<records>\n'
        "  <item><study_id>1</study_id><note>a &lt;b&gt; &amp; c</note><empty/></item>\n"
        "  <item><study_id>2</study_id><note><![CDATA[x < y]]></note></item>\n"
        "</records>"
    )
    assert redcap_formats.read_rows(data, "xml") == [
        {"study_id": "1", "note": "a <b> & c", "empty": ""},
        {"study_id": "2", "note": "x < y"},
    ]
    exported = redcap_formats.render(ROWS, "xml", "records")
    assert redcap_formats.read_rows(exported, "xml") == ROWS


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    "<records><item><note>&lol2;</note></item></records>"
)
EXTERNAL_FILE = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    "<records><item><note>&x;</note></item></records>"
)


@pytest.mark.parametrize(
    ("data", "fmt", "problem"),
    [
        ("[{", "json", "not valid JSON"),
        ('{"a": 1}', "json", "not a list of records"),
        ('[{"a": [1]}]', "json", "not a list of records"),
        ("<records><item>", "xml", "not valid XML: no element found"),
        (BILLION_LAUGHS, "xml", "entity and document type declarations are not accepted"),
        (EXTERNAL_FILE, "xml", "entity and document type declarations are not accepted"),
        ("<hash><item/></hash>", "xml", "give <records>"),
        ("<records><row><a>1</a></row></records>", "xml", "one <item> per record"),
        ("<records><item><a><b>1</b></a></item></records>", "xml", "each field an element"),
        ("[]", "yaml", "format 'yaml' is not valid"),
        ('a\n"' + "x" * 200_000 + '"\n', "csv", "not valid CSV"),
    ],
)
def test_unreadable_imports_are_refused(data, fmt, problem):
    with pytest.raises(CohortError, match=problem):
        redcap_formats.read_rows(data, fmt)
