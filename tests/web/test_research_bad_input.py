"""Hostile and malformed input at the research entry points, on SQLite and PostgreSQL:
registering and editing a project (API), an aggregate query (API) and the SQL console
(API and page). Each is refused with a clear 4xx naming what is wrong, changes nothing
(projects, extracts and the audit chain's head as before) and gives nothing away: no
traceback, no echo of a 10 MB value, no study ID."""

import pytest
from sqlmodel import select

from cohort.db import session_scope
from cohort.models import AuditHead, Extract, Project
from tests.security.hostile import TEN_MB
from tests.web.conftest import PROJECT, sign_in

REGISTRATION = {**PROJECT, "code": "bib-2026-02", "row_level": False}
# (case, the registration's changed fields)
REGISTRATIONS = [
    ("ends before it starts", {"approved_until": "2020-01-01"}),
    ("impossible date", {"approved_from": "2026-02-30"}),
    ("10 MB title", {"title": TEN_MB}),
    ("NUL byte in the title", {"title": "Early\x00years"}),
    ("NUL byte in the code", {"code": "bib\x00-1"}),
    ("path traversal as the code", {"code": "../../etc/passwd"}),
    ("unknown dataset", {"variables": ["nosuch.age"]}),
    ("unknown variable", {"variables": ["consent.nhs_number"]}),
    ("path traversal as a variable", {"variables": ["../../etc/passwd"]}),
    ("10,000 variables", {"variables": [f"consent.v{i}" for i in range(10_000)]}),
    ("variables as text", {"variables": "consent.age_band"}),
    ("unknown date granularity", {"date_granularity": "hour"}),
    ("row level as a list", {"row_level": ["yes"]}),
]
EDITS = [
    ("ends before it started", {"approved_until": "2000-01-01"}),
    ("unknown variable", {"variables": ["consent.family_name"]}),
    ("unknown date granularity", {"date_granularity": "second"}),
    ("NUL byte in a variable", {"variables": ["consent.age\x00band"]}),
]
QUERIES = [
    ("unknown dataset", {"dataset": "vault"}),
    ("path traversal as the dataset", {"dataset": "../../etc/passwd"}),
    ("10 MB dataset name", {"dataset": TEN_MB}),
    ("NUL byte in the dataset name", {"dataset": "cons\x00ent"}),
    ("unknown group", {"dataset": "consent", "group_by": ["nhs_number"]}),
    ("10,000 groups", {"dataset": "consent", "group_by": ["age_band"] * 10_000}),
    ("10 MB group name", {"dataset": "consent", "group_by": [TEN_MB]}),
    ("unknown measure", {"dataset": "consent", "measure": "sum"}),
    ("SQL as the measure", {"dataset": "consent", "measure": "DROP TABLE consent"}),
    ("a mean of nothing", {"dataset": "consent", "measure": "mean"}),
    ("a mean of a label", {"dataset": "consent", "measure": "mean", "of": "age_band"}),
    ("a filter on an unknown variable", {"dataset": "consent", "filters": {"x' OR 1=1": "1"}}),
    ("a NUL byte in a filter's variable", {"dataset": "consent", "filters": {"age\x00band": "1"}}),
    ("a 10 MB filter value", {"dataset": "consent", "filters": {"age_band": TEN_MB}}),
    ("a NUL byte in a filter", {"dataset": "consent", "filters": {"age_band": "25\x0029"}}),
    ("filters as a list", {"dataset": "consent", "filters": ["age_band"]}),
    ("a number as the dataset", {"dataset": 7}),
]
STATEMENTS = [
    ("10 MB statement", "SELECT 1 -- " + TEN_MB),
    ("NUL byte in the statement", "SELECT\x00 1"),
    ("empty", ""),
    ("two statements", "SELECT 1; SELECT 2"),
    ("a file read", "SELECT * FROM read_csv('/etc/passwd')"),
]


def _state(instance) -> tuple:
    with session_scope(instance.engine) as db:
        head = db.get(AuditHead, 1)
        return (
            len(db.exec(select(Project.id)).all()),
            len(db.exec(select(Extract.id)).all()),
            head.seq if head else 0,
        )


def _refused_clearly(response, case: str) -> None:
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text[:200])
    assert "Traceback" not in response.text and len(response.text) < 200_000, case
    assert "BB-" not in response.text, case


def _api_refused(response, case: str) -> None:
    _refused_clearly(response, case)
    assert set(response.json()) == {"detail", "field"} and response.json()["detail"], case


@pytest.mark.parametrize(("case", "change"), REGISTRATIONS, ids=[c for c, _ in REGISTRATIONS])
def test_a_hostile_project_registration_is_refused_and_registers_nothing(
    client, instance, make_user, case, change
):
    make_user("dana", "data_manager")
    csrf = sign_in(client, "dana")
    before = _state(instance)
    response = client.post(
        "/api/v1/projects", json={**REGISTRATION, **change}, headers={"X-CSRF-Token": csrf}
    )
    _api_refused(response, case)
    assert _state(instance) == before


@pytest.mark.parametrize(("case", "change"), EDITS, ids=[c for c, _ in EDITS])
def test_a_hostile_project_edit_is_refused_and_changes_nothing(
    client, instance, registered, case, change
):
    csrf = sign_in(client, "dana")
    before = (_state(instance), client.get(f"/api/v1/projects/{registered}").json())
    response = client.patch(
        f"/api/v1/projects/{registered}", json=change, headers={"X-CSRF-Token": csrf}
    )
    _api_refused(response, case)
    assert (_state(instance), client.get(f"/api/v1/projects/{registered}").json()) == before


@pytest.mark.parametrize(("case", "body"), QUERIES, ids=[c for c, _ in QUERIES])
def test_a_hostile_aggregate_query_is_refused_and_answers_nothing(
    client, instance, registered, case, body
):
    csrf = sign_in(client, "rita")
    before = _state(instance)
    response = client.post(
        f"/api/v1/projects/{registered}/queries", json=body, headers={"X-CSRF-Token": csrf}
    )
    _api_refused(response, case)
    assert "rows" not in response.json()
    assert _state(instance) == before


@pytest.fixture
def extracted(client, registered) -> str:
    """The project's first extract, which the console reads."""
    csrf = sign_in(client, "rita")
    variables = {"variables": PROJECT["variables"], "csrf_token": csrf}
    assert client.post(f"/projects/{registered}/extracts", data=variables).status_code == 200
    return registered


@pytest.mark.parametrize(("case", "sql"), STATEMENTS, ids=[c for c, _ in STATEMENTS])
def test_a_hostile_console_statement_is_refused_on_the_api_and_the_page(
    client, instance, extracted, case, sql
):
    csrf = sign_in(client, "rita")
    before = _state(instance)
    response = client.post(
        f"/api/v1/projects/{extracted}/console", json={"sql": sql}, headers={"X-CSRF-Token": csrf}
    )
    _api_refused(response, case)
    page = client.post(f"/projects/{extracted}/console", data={"sql": sql, "csrf_token": csrf})
    _refused_clearly(page, case)
    assert _state(instance) == before


# (case, raw request body) the console's JSON decoder must refuse
CONSOLE_BODIES = [
    ("not UTF-8 (Latin-1)", '{"sql": "SELECT \'caf\xe9\'"}'.encode("latin-1")),
    ("a list as the statement", b'{"sql": ["SELECT 1"]}'),
]


@pytest.mark.parametrize(("case", "body"), CONSOLE_BODIES, ids=[c for c, _ in CONSOLE_BODIES])
def test_a_console_body_that_is_not_a_statement_is_refused(client, instance, extracted, case, body):
    csrf = sign_in(client, "rita")
    before = _state(instance)
    response = client.post(
        f"/api/v1/projects/{extracted}/console",
        content=body,
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
    )
    _api_refused(response, case)
    assert _state(instance) == before
