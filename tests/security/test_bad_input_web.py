"""Hostile and malformed input at the web entry points the other corpora leave out, on
SQLite and PostgreSQL: a withdrawal (API and form), the participant search, extracts
asked for by ids that are not theirs or not ids, the REDCap-compatible API and the FHIR
search. Each is refused with a 4xx, changes nothing (row counts and the audit chain's
head as before) and gives nothing away: no traceback, no echo of a 10 MB value, none of
the woman's identifiers. (The research entry points are in
tests/web/test_research_bad_input.py, the governance filters in
tests/governance/test_filters.py.)"""

import uuid

import pytest

from cohort.auth import tokens
from cohort.auth.users import get_user
from cohort.db import session_scope
from tests.consent_world import CONSENT
from tests.security.hostile import TEN_MB, state
from tests.web.conftest import sign_in

TRAVERSAL = "../../../../etc/passwd"
IDENTIFIERS = ("Aisha", "Khan", "1995-04-02", "BD5 0NA", "9434765919", "root:")


@pytest.fixture(scope="module")
def enrolled(service):
    """The service with one woman in the cohort, her study ID and an API token each for
    the midwife and the data manager."""
    instance, browsers = service
    client, csrf = browsers["mw"]
    response = client.post(
        "/api/v1/consents",
        json=CONSENT,
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": f"enrol-{uuid.uuid4()}"},
    )
    assert response.status_code == 201, response.text[:300]
    with session_scope(instance.engine) as db:
        issued = {
            u: tokens.issue_token(db, get_user(db, u), "bad", actor="test") for u in ("mw", "dm")
        }
    # issuing a token signs its owner's browsers out (session_version): sign in again
    signed_in = {u: (c, sign_in(c, u)) for u, (c, _) in browsers.items()}
    return instance, signed_in, response.json()["study_id"], issued


def _refused(response, case: str, study_id: str) -> None:
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text[:300])
    text = response.text
    assert "Traceback" not in text and len(text) < 200_000, case
    assert not [i for i in IDENTIFIERS if i in text], (case, text[:300])


def _withdraw_on_the_api(client, csrf: str, study_id: str, level):
    return client.post(
        f"/api/v1/participants/{study_id}/withdrawals",
        json={"level": level},
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": f"bad-{uuid.uuid4()}"},
    )


WITHDRAWALS = [
    ("unknown level", "forever"),
    ("path traversal as the level", TRAVERSAL),
    ("NUL byte in the level", "no_\x00data"),
    ("10 MB level", TEN_MB),
    ("a list as the level", ["full"]),
    ("a number as the level", 7),
    ("no level", None),
]


@pytest.mark.parametrize(("case", "level"), WITHDRAWALS, ids=[c for c, _ in WITHDRAWALS])
def test_a_hostile_withdrawal_is_refused_on_the_api_and_the_form(enrolled, case, level):
    instance, browsers, study_id, _ = enrolled
    client, csrf = browsers["mw"]
    before = state(instance)
    response = _withdraw_on_the_api(client, csrf, study_id, level)
    _refused(response, case, study_id)
    assert response.json()["detail"], case
    if isinstance(level, str):
        page = client.get(f"/participants/{study_id}/withdrawal")
        assert page.status_code == 200, page.text[:500]
        token = page.text.split('name="submission_token" value="')[1].split('"')[0]
        form = {"level": level, "csrf_token": csrf, "submission_token": token}
        response = client.post(
            f"/participants/{study_id}/withdrawal", data=form, follow_redirects=False
        )
        _refused(response, case, study_id)
        assert "There is a problem" in response.text, case
    assert state(instance) == before, case


# (case, a study ID in the path that is not one)
NOT_STUDY_IDS = [
    ("path traversal as the study ID", "..%2F..%2Fetc%2Fpasswd"),
    ("NUL byte in the study ID", "BB%00123"),
    ("60 kB study ID", "B" * 60_000),
]


@pytest.mark.parametrize(("case", "study_id"), NOT_STUDY_IDS, ids=[c for c, _ in NOT_STUDY_IDS])
def test_a_withdrawal_for_what_is_not_a_study_id_is_refused(enrolled, case, study_id):
    instance, browsers, _, _ = enrolled
    client, csrf = browsers["mw"]
    before = state(instance)
    response = _withdraw_on_the_api(client, csrf, study_id, "full")
    _refused(response, case, study_id)
    assert response.json()["detail"], case
    assert state(instance) == before, case


SEARCHES = [
    ("NUL byte", "943476\x005919"),
    ("10 MB", TEN_MB),
    ("invalid NHS number", "9434765918"),
    ("a formula", "=cmd|' /C calc'!A0"),
    ("path traversal", TRAVERSAL),
]


@pytest.mark.parametrize(("case", "nhs_number"), SEARCHES, ids=[c for c, _ in SEARCHES])
def test_a_hostile_participant_search_is_refused(enrolled, case, nhs_number):
    instance, browsers, study_id, _ = enrolled
    client, csrf = browsers["dm"]
    before = state(instance)
    response = client.post(
        "/participants/find", data={"nhs_number": nhs_number, "csrf_token": csrf}
    )
    _refused(response, case, study_id)
    assert state(instance) == before, case


# (case, method, path) an extract is asked for by
EXTRACTS = [
    ("rerun of no such extract", "post", "/api/v1/extracts/999999/rerun"),
    ("rerun of a non-number", "post", "/api/v1/extracts/abc/rerun"),
    ("rerun of a negative id", "post", "/api/v1/extracts/-1/rerun"),
    ("a huge id", "post", "/api/v1/extracts/" + "9" * 40 + "/rerun"),
    ("a file of no such extract", "get", "/api/v1/extracts/999999/files/data.csv"),
    ("path traversal as the file", "get", "/api/v1/extracts/1/files/..%2F..%2Fetc%2Fpasswd"),
    ("NUL byte in the file", "get", "/api/v1/extracts/1/files/data%00.csv"),
    ("the page's delete of a non-number", "post", "/extracts/1%00/delete"),
    ("extracts of no such project", "get", "/api/v1/projects/..%2F..%2Fetc/extracts"),
]


@pytest.mark.parametrize(("case", "method", "path"), EXTRACTS, ids=[c for c, *_ in EXTRACTS])
def test_an_extract_asked_for_by_a_bad_id_is_refused(enrolled, case, method, path):
    instance, browsers, study_id, _ = enrolled
    client, csrf = browsers["dm"]
    before = state(instance)
    response = client.request(
        method, path, headers={"X-CSRF-Token": csrf}, data={"csrf_token": csrf}
    )
    _refused(response, case, study_id)
    assert state(instance) == before, case


# (case, form fields besides the token, or the token itself under "token")
REDCAP = [
    ("no token", {"token": "", "content": "version"}),
    ("a token of zeros", {"token": "0" * 32, "content": "version"}),
    ("NUL byte in the token", {"token": "AB\x00CD", "content": "version"}),
    ("10 MB token", {"token": TEN_MB, "content": "version"}),
    ("unknown content", {"content": "../../etc/passwd"}),
    ("NUL byte in the content", {"content": "rec\x00ord"}),
    ("unknown format", {"content": "record", "format": "exe"}),
    ("unknown field", {"content": "record", "format": "json", "fields": "x' OR 1=1"}),
    ("hostile filter logic", {"content": "record", "format": "json", "filterLogic": "[a]=1;DROP"}),
    (
        "import: NUL byte in a name",
        {
            "content": "record",
            "format": "json",
            "data": '[{"record_id": "1", "given_name": "A\\u0000b"}]',
        },
    ),
    ("import: not JSON", {"content": "record", "format": "json", "data": "{{{"}),
    (
        "import: JSON of the wrong shape",
        {"content": "record", "format": "json", "data": '{"a": 1}'},
    ),
    (
        "import: 10 MB cell",
        {"content": "record", "format": "csv", "data": "record_id,given_name\n1," + TEN_MB},
    ),
    (
        "import: a formula",
        {"content": "record", "format": "csv", "data": "record_id,given_name\n1,=cmd|x\n"},
    ),
]


@pytest.mark.parametrize(("case", "fields"), REDCAP, ids=[c for c, _ in REDCAP])
def test_a_hostile_redcap_call_is_refused(enrolled, case, fields):
    instance, browsers, study_id, issued = enrolled
    client, _ = browsers["mw"]
    before = state(instance)
    response = client.post("/redcap/api/", data={"token": issued["mw"], **fields})
    _refused(response, case, study_id)
    assert state(instance) == before, case


FHIR = [
    ("NUL byte in the identifier", {"patient:identifier": "x|943476\x005919"}),
    (
        "60 KB identifier (a longer URL is refused before the app)",
        {"patient:identifier": "9" * 60_000},
    ),
    ("NUL byte in the status", {"status": "act\x00ive"}),
]


@pytest.mark.parametrize(("case", "params"), FHIR, ids=[c for c, _ in FHIR])
def test_a_hostile_fhir_search_is_refused(enrolled, case, params):
    instance, browsers, study_id, issued = enrolled
    client, _ = browsers["mw"]
    before = state(instance)
    response = client.get(
        "/fhir/Consent", params=params, headers={"Authorization": f"Bearer {issued['mw']}"}
    )
    _refused(response, case, study_id)
    assert state(instance) == before, case
