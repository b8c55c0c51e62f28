"""A corpus of hostile and malformed input, fed to each entry point on SQLite and
PostgreSQL: the consent API, the consent form, the dictionary upload (web API) and the
dictionary import (command line). Every case is refused with a clear, specific answer (a
4xx naming the field, or one line and exit code 2), changes nothing (row counts and the
audit chain's head as before), and gives nothing away: no traceback, no echo of a
10 MB value, none of the woman's other identifiers.
"""

import uuid

import pytest

from tests.consent_world import CONSENT
from tests.in_process_cli import run_cohort
from tests.security.hostile import TEN_MB
from tests.security.hostile import state as _state
from tests.web.conftest import csrf_of

# (name, field, hostile value) for the consent's answers.
ANSWERS = [
    ("invalid NHS number", "nhs_number", "9434765918"),
    ("NHS number as a formula", "nhs_number", "=cmd|' /C calc'!A0"),
    ("name as a formula", "given_name", '=HYPERLINK("http://x")'),
    ("postcode as a formula", "postcode", "@SUM(1+1)*cmd|' /C calc'!A0"),
    ("impossible date", "date_of_birth", "1995-02-30"),
    ("date in the future", "date_of_birth", "2999-01-01"),
    ("10 MB name", "given_name", TEN_MB),
    ("NUL byte in a name", "family_name", "Kh\x00an"),
    ("NUL byte in a postcode", "postcode", "BD5\x000NA"),
    ("path traversal as a language", "discussion_language", "../../etc/passwd"),
    ("a list where text goes", "given_name", ["Aisha", "Khan"]),
]
OTHER_IDENTIFIERS = ("Aisha", "Khan", "1995-04-02", "BD5 0NA", "bd5 0na")
# (name, file name, bytes) for a data dictionary.
DICTIONARIES = [
    ("NUL bytes", "babi.csv", b"Variable / Field Name,Form Name\x00\nx,y\n"),
    (
        "not UTF-8 (Latin-1)",
        "babi.csv",
        "Variable / Field Name,Form Name\ncaf\xe9,y\n".encode("latin-1"),
    ),
    ("10 MB", "babi.csv", TEN_MB.encode()),
    ("formula cells", "babi.csv", b"Variable / Field Name,Form Name\n=cmd|x,y\n"),
    ("path traversal in the file name", "../../../etc/passwd", b"x"),
    ("empty", "babi.csv", b""),
]


def _gives_nothing_away(text: str) -> None:
    assert "Traceback" not in text and len(text) < 200_000
    assert not [i for i in OTHER_IDENTIFIERS if i in text]


@pytest.mark.parametrize(("case", "field", "value"), ANSWERS, ids=[a[0] for a in ANSWERS])
def test_the_consent_api_refuses_hostile_answers(service, case, field, value):
    instance, browsers = service
    client, csrf = browsers["mw"]
    before = _state(instance)
    response = client.post(
        "/api/v1/consents",
        json={**CONSENT, field: value},
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": f"bad-input-{uuid.uuid4()}"},
    )
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text[:200])
    assert set(response.json()) == {"detail", "field"} and response.json()["detail"]
    assert _state(instance) == before
    _gives_nothing_away(response.text.replace(str(value)[:100], ""))


# A form posts text only: a repeated field is not a list to it.
FORM_ANSWERS = [a for a in ANSWERS if isinstance(a[2], str)]


@pytest.mark.parametrize(("case", "field", "value"), FORM_ANSWERS, ids=[a[0] for a in FORM_ANSWERS])
def test_the_consent_form_refuses_hostile_answers(service, case, field, value):
    instance, browsers = service
    client, _ = browsers["mw"]
    page = client.get("/consents/new")
    token = page.text.split('name="submission_token" value="')[1].split('"')[0]
    before = _state(instance)
    answers = {**CONSENT, field: value, "csrf_token": csrf_of(page.text), "submission_token": token}
    response = client.post("/consents/new", data=answers, follow_redirects=False)
    assert 400 <= response.status_code < 500, (case, response.status_code)
    assert "There is a problem" in response.text  # the form's error summary, or the
    # error page of a request too large to read as a form
    assert _state(instance) == before


@pytest.mark.parametrize(
    ("case", "name", "content"), DICTIONARIES, ids=[d[0] for d in DICTIONARIES]
)
def test_the_dictionary_upload_refuses_hostile_files(service, case, name, content):
    instance, browsers = service
    client, csrf = browsers["dm"]
    before = _state(instance)
    response = client.post(
        "/api/v1/instruments",
        files={"file": (name, content, "text/csv")},
        data={"version": "9.9"},
        headers={"X-CSRF-Token": csrf},
    )
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text[:200])
    assert response.json()["detail"]
    assert _state(instance) == before
    assert "etc/passwd" not in response.text and len(response.text) < 200_000


@pytest.mark.parametrize(
    ("case", "name", "content"), DICTIONARIES, ids=[d[0] for d in DICTIONARIES]
)
def test_the_dictionary_import_command_refuses_hostile_files(
    service, case, name, content, tmp_path, monkeypatch, capsys
):
    instance, _ = service
    path = tmp_path / "upload" / name.replace("/", "_")
    path.parent.mkdir()
    path.write_bytes(content)
    monkeypatch.setenv("COHORT_DATA_DIR", str(instance.settings.data_dir))
    monkeypatch.setenv("COHORT_DATABASE_URL", instance.settings.db_url)
    before = _state(instance)
    code, out, err = run_cohort(
        monkeypatch, capsys, "forms", "import", str(path), "--version", "9.9"
    )
    assert code == 2, (case, out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert _state(instance) == before
