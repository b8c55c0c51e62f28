"""The JSON API under /api/v1: bearer tokens for machines, CSRF for browser sessions."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from cohort.auth import tokens
from cohort.db import session_scope
from cohort.models import AuditEvent, User
from tests.web.conftest import ensure_site, sign_in


def _token_for(instance, username: str) -> dict[str, str]:
    with session_scope(instance.engine) as db:
        user = db.exec(select(User).where(User.username == username)).one()
        return {"Authorization": f"Bearer {tokens.issue_token(db, user, 'tests', actor='test')}"}


@pytest.fixture
def admin(instance, make_user) -> dict[str, str]:
    make_user("ada", "admin")
    return _token_for(instance, "ada")


def test_me_describes_the_caller(client, instance, make_user):
    make_user("mia", "midwife")
    me = client.get("/api/v1/me", headers=_token_for(instance, "mia")).json()
    assert me == {
        "username": "mia",
        "full_name": "Mia Example",
        "role": "midwife",
        "site": "RAE",
        "projects": [],
    }


def test_admin_adds_a_site_with_a_token_and_no_csrf(client, instance, admin):
    created = client.post("/api/v1/sites", json={"code": "aire", "name": "Airedale"}, headers=admin)
    assert created.status_code == 201 and created.json() == {"code": "AIRE", "name": "Airedale"}
    assert client.get("/api/v1/sites", headers=admin).json() == [
        {"code": "AIRE", "name": "Airedale"}
    ]
    with session_scope(instance.engine) as db:
        (event,) = db.exec(select(AuditEvent).where(AuditEvent.action == "site.add")).all()
    assert event.actor == "ada"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"code": "!", "name": "Odd"}, 400, "code"),
        ({"code": "RAE", "name": "Again"}, 409, "code"),
        ({"name": "No code"}, 422, "code"),
    ],
)
def test_refusals_are_json_naming_the_field(client, instance, admin, body, status, field):
    with session_scope(instance.engine) as db:
        ensure_site(db)
    response = client.post("/api/v1/sites", json=body, headers=admin)
    assert response.status_code == status
    assert response.json()["field"] == field and response.json()["detail"]


def test_a_browser_session_needs_the_csrf_header(client, make_user):
    make_user("ada")
    csrf = sign_in(client, "ada")
    body = {"code": "AIRE", "name": "Airedale"}
    assert client.post("/api/v1/sites", json=body).status_code == 403
    assert (
        client.post("/api/v1/sites", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    )


def test_users_and_audit_are_for_their_roles_only(client, instance, admin, make_user):
    make_user("gina", "governance")
    governance = _token_for(instance, "gina")
    listed = client.get("/api/v1/users", headers=admin).json()
    assert [u["username"] for u in listed] == ["ada", "gina"]
    assert client.get("/api/v1/users", headers=governance).status_code == 403
    verdict = client.get("/api/v1/audit/verify", headers=governance).json()
    assert verdict["intact"] is True and verdict["events"] >= 4


def test_an_unknown_token_is_refused(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer cohort_nonsense"})
    assert response.status_code == 401
    assert "not valid" in response.json()["detail"]


def test_health_is_public(app):
    assert TestClient(app).get("/api/v1/health").json() == {"status": "ok"}


def test_openapi_describes_the_api_and_not_the_pages(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert set(spec["paths"]) == {
        "/api/v1/health",
        "/api/v1/me",
        "/api/v1/sites",
        "/api/v1/users",
        "/api/v1/audit/verify",
        "/api/v1/consents",
        "/api/v1/declines",
        "/api/v1/participants/{study_id}",
        "/api/v1/participants/{study_id}/consent",
        "/api/v1/participants/{study_id}/withdrawals",
        "/api/v1/instruments",
        "/api/v1/instruments/{name}/{version}",
        "/api/v1/projects",
        "/api/v1/projects/{code}",
        "/api/v1/projects/{code}/extracts",
        "/api/v1/projects/{code}/queries",
        "/api/v1/projects/{code}/console",
        "/api/v1/extracts/{extract_id}/files/{name}",
        "/api/v1/extracts/{extract_id}/rerun",
    }
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
