"""REDCap's wire formats: exports in json, csv and xml, errors in each, imports read as
rows of strings (booleans as True/False), and refusals of what cannot be read."""

import json

import pytest

from cohort.errors import CohortError
from cohort.interop import redcap_formats

ROWS = [{"study_id": "BB-1", "note": 'a <b> & "c"'}]


def test_exports_in_each_format():
    assert json.loads(redcap_formats.render(ROWS, "json", "records")) == ROWS
    assert redcap_formats.render(ROWS, "csv", "records") == 'study_id,note\nBB-1,"a <b> & ""c"""\n'
    assert redcap_formats.render([], "csv", "records", ["study_id"]) == "study_id\n"
    xml = redcap_formats.render(ROWS, "xml", "records")
    assert '<records><item><study_id>BB-1</study_id><note>a &lt;b&gt; &amp; "c"</note>' in xml


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


@pytest.mark.parametrize(
    ("data", "fmt", "problem"),
    [
        ("[{", "json", "not valid JSON"),
        ('{"a": 1}', "json", "not a list of records"),
        ('[{"a": [1]}]', "json", "not a list of records"),
        ("<records/>", "xml", "json or csv"),
        ('a\n"' + "x" * 200_000 + '"\n', "csv", "not valid CSV"),
    ],
)
def test_unreadable_imports_are_refused(data, fmt, problem):
    with pytest.raises(CohortError, match=problem):
        redcap_formats.read_rows(data, fmt)
