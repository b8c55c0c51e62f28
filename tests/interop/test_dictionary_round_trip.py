"""A REDCap data dictionary keeps its meaning (fields, types, choices, validations and
their bounds, identifiers, required flags, branching logic, notes and annotations) through
``cohort forms import`` / ``export`` and through the REDCap API's metadata export read
back as a dictionary: for the shipped consent form and for a dictionary holding every
supported field type."""

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cohort.interop import redcap_formats
from cohort.interop.redcap_metadata import CONSENT_DATE, RECORD_ID, Project
from cohort.web.app import create_app
from forms import dictionary, registry
from forms.spec import FormSpec
from forms.validation import RULES
from tests.in_process_cli import run_cohort
from tests.interop.redcap_world import make_redcap_world
from tests.web.conftest import make_instance

SHIPPED = registry.INSTRUMENTS / "babi_consent.csv"
EVERY_TYPE = Path(__file__).parent / "data" / "every_field_type.csv"
DICTIONARIES = [SHIPPED, EVERY_TYPE]


def meaning(spec: FormSpec) -> tuple:
    """Everything a dictionary says about its form (not where rows sit in the file)."""
    return (spec.name, tuple(replace(field, row=0) for field in spec.fields))


def parse(text: str | bytes) -> FormSpec:
    return dictionary.parse(text, version="1")


def without_added_fields(metadata_csv: str) -> str:
    """The metadata export less the fields the project puts in front of the dictionary's:
    the record id (first, as REDCap puts it) and the consent's date."""
    rows = list(csv.reader(io.StringIO(metadata_csv)))
    assert [row[0] for row in rows[1:3]] == [RECORD_ID, CONSENT_DATE]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([rows[0], *rows[3:]])
    return out.getvalue()


def test_every_supported_field_type_is_in_the_larger_dictionary():
    spec = parse(EVERY_TYPE.read_bytes())
    types = {field.type for field in spec.fields}
    validations = {field.validation for field in spec.fields} - {""}
    assert types == {
        "text",
        "notes",
        "radio",
        "dropdown",
        "checkbox",
        "yesno",
        "truefalse",
        "descriptive",
    }
    assert validations == set(RULES)
    assert any(field.branching for field in spec.fields)


@pytest.mark.parametrize("path", DICTIONARIES, ids=lambda p: p.stem)
def test_cli_import_then_export_gives_the_same_dictionary(
    path, db_url, tmp_path, monkeypatch, capsys
):
    make_instance(tmp_path / "var", db_url).engine.dispose()
    monkeypatch.setenv("COHORT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COHORT_DATABASE_URL", db_url)
    code, _, err = run_cohort(monkeypatch, capsys, "forms", "import", str(path), "--version", "7.1")
    assert code == 0, err
    name = parse(path.read_bytes()).name
    out = tmp_path / "exported.csv"
    code, _, err = run_cohort(
        monkeypatch, capsys, "forms", "export", name, "--version", "7.1", "--out", str(out)
    )
    assert code == 0, err
    assert out.read_bytes() == path.read_bytes()
    assert meaning(parse(out.read_bytes())) == meaning(parse(path.read_bytes()))


@pytest.mark.parametrize("path", DICTIONARIES, ids=lambda p: p.stem)
@pytest.mark.parametrize("headers", ["metadata names", "download headers"])
def test_the_metadata_export_read_back_is_the_same_dictionary(path, headers):
    text = path.read_bytes().decode()
    project = Project(parse(text), text)
    exported = redcap_formats.render(project.metadata, "csv", "metadata")
    if headers == "download headers":
        first, rest = exported.split("\r\n", 1)
        exported = (
            ",".join(f'"{dictionary.HEADERS[key]}"' for key in first.split(",")) + "\r\n" + rest
        )
    assert meaning(parse(without_added_fields(exported))) == meaning(parse(text))


def test_a_redcap_clients_metadata_download_republishes_as_the_same_form(db_url, tmp_path):
    world = make_redcap_world(tmp_path / "var", db_url, at_site=0, elsewhere=0)
    client = TestClient(create_app(world.instance))
    response = client.post(
        "/redcap/api/", data={"token": world.tokens["dm"], "content": "metadata", "format": "csv"}
    )
    assert response.status_code == 200
    downloaded = without_added_fields(response.text)
    assert meaning(parse(downloaded)) == meaning(parse(SHIPPED.read_bytes()))
    world.instance.engine.dispose()
