"""Fuzzing ``/api/v1`` from its own OpenAPI document with schemathesis, as every role.

Each operation gets a few generated requests (valid and invalid by the schema) under each
role's API token: none may end in a server error, and every answer must be what the
document says it may be (status, content type, body schema). Hypothesis runs
derandomized with a small budget, so a run is bounded and the same every time.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cohort.auth import tokens
from cohort.auth.users import get_user
from cohort.db import session_scope
from cohort.models import ROLES
from cohort.web.app import API_PREFIX, create_app
from tests.conftest import _fresh_pg_url
from tests.web.conftest import add_user, make_instance

EXAMPLES_PER_OPERATION = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request, tmp_path_factory):
    """The app and an API token per role, on one instance per backend (PostgreSQL refuses
    NUL bytes that SQLite stores, so both are fuzzed)."""
    data = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    url = (
        f"sqlite:///{data / 'cohort.db'}"
        if request.param == "sqlite"
        else _fresh_pg_url(request.getfixturevalue("pg_cluster"))
    )
    instance = make_instance(data / "var", url)
    bearer = {}
    for role in ROLES:
        add_user(instance, role.replace("_", "-"), role)
        with session_scope(instance.engine) as db:
            user = get_user(db, role.replace("_", "-"))
            bearer[role] = tokens.issue_token(db, user, "fuzz", actor="test")
    app = create_app(instance)
    yield schemathesis.openapi.from_asgi(f"{API_PREFIX}/openapi.json", app), bearer
    instance.engine.dispose()


def _fuzz(operation, headers: dict[str, str]) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


@pytest.mark.parametrize("role", ROLES)
def test_no_server_error_and_no_schema_violation(api, role):
    schema, bearer = api
    headers = {"Authorization": f"Bearer {bearer[role]}"}
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            _fuzz(operation, headers)
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failure, not the first
            failures.append(f"{operation.label}: {exc}")
    assert failures == [], "\n\n".join(failures)


def test_an_extract_id_beyond_the_database_integer_is_not_found(api):
    """Found by this fuzzing on PostgreSQL, whose id column is a 32-bit integer."""
    schema, bearer = api
    operation = schema["/api/v1/extracts/{extract_id}/files/{name}"]["GET"]
    case = operation.Case(path_parameters={"extract_id": 9066075224406, "name": "x.csv"})
    response = case.call(headers={"Authorization": f"Bearer {bearer['researcher']}"})
    assert response.status_code == 404
