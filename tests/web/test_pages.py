"""The pages of this slice, used as staff use them: forms, field errors, audit."""

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import select

from cohort import vault
from cohort.db import session_scope
from cohort.models import AuditEvent
from cohort.web.app import create_app
from tests.web.conftest import ensure_site, make_instance, sign_in

NHS_NUMBER = "9434765919"


@pytest.fixture
def db_url(tmp_path) -> str:
    """Page behaviour does not depend on the backend: SQLite (sessions run on both)."""
    return f"sqlite:///{tmp_path / 'cohort.db'}"


def _events(instance, action):
    with session_scope(instance.engine) as db:
        return db.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def _field_error(html: str, field: str) -> str:
    found = re.search(rf'id="{field}-error"\s*>\s*<span[^>]*>Error: </span>(.*?)\s*<', html)
    assert found, f"no error message on field {field}"
    return found.group(1)


@pytest.mark.parametrize(
    ("role", "offered", "not_offered"),
    [
        (
            "admin",
            ["Manage sites", "Manage users", "Check the audit trail"],
            ["Find a participant"],
        ),
        ("data_manager", ["Find a participant"], ["Manage users", "Check the audit trail"]),
        ("governance", ["Check the audit trail"], ["Manage sites", "Find a participant"]),
        ("midwife", ["Your account and API tokens"], ["Manage users", "Find a participant"]),
    ],
)
def test_home_offers_exactly_the_pages_of_the_role(client, make_user, role, offered, not_offered):
    make_user("ada", role)
    sign_in(client, "ada")
    page = client.get("/").text
    mine = page[page.index("What you can do") : page.index("What each role can do")]
    assert all(f">{title}</a>" in mine for title in offered)
    assert not any(title in mine for title in not_offered)
    assert all(label in page for label in ("Midwife", "Data manager", "Governance lead"))


def test_admin_adds_a_site(client, make_user, instance):
    make_user("ada")
    csrf = sign_in(client, "ada")
    response = client.post(
        "/admin/sites", data={"code": "aire", "name": "Airedale", "csrf_token": csrf}
    )
    assert response.status_code == 200 and "Site AIRE (Airedale) added" in response.text
    assert '<td class="nhsuk-table__cell">AIRE</td>' in client.get("/admin/sites").text
    assert [e.actor for e in _events(instance, "site.add")] == ["ada"]


def test_bad_site_code_is_shown_beside_the_field_and_adds_nothing(client, make_user, instance):
    make_user("ada")
    csrf = sign_in(client, "ada")
    response = client.post("/admin/sites", data={"code": "!", "name": "Odd", "csrf_token": csrf})
    assert response.status_code == 400
    assert '<a href="#code"' in response.text  # the error summary links to the field
    assert _field_error(response.text, "code").startswith("Site code must be")
    assert 'value="Odd"' in response.text  # what was typed is kept
    assert _events(instance, "site.add") == []


def test_admin_adds_and_disables_a_user(client, make_user, instance):
    make_user("ada")
    with session_scope(instance.engine) as db:
        ensure_site(db)
    csrf = sign_in(client, "ada")
    form = {
        "username": "mia",
        "full_name": "Mia Midwife",
        "role": "midwife",
        "site": "RAE",
        "password": "a long initial password",
        "csrf_token": csrf,
    }
    added = client.post("/admin/users", data=form)
    assert added.status_code == 200 and "User mia added" in added.text
    disabled = client.post("/admin/users/mia/disable", data={"csrf_token": csrf})
    assert "User mia disabled" in disabled.text
    mine = client.post("/admin/users/ada/disable", data={"csrf_token": csrf})
    assert mine.status_code == 400 and "cannot disable your own account" in mine.text
    assert [e.detail["username"] for e in _events(instance, "user.disable")] == ["mia"]


def test_midwife_without_a_site_is_refused_beside_the_site_field(client, make_user):
    make_user("ada")
    csrf = sign_in(client, "ada")
    form = {"username": "mia", "full_name": "Mia", "role": "midwife", "password": "x" * 12}
    response = client.post("/admin/users", data={**form, "csrf_token": csrf})
    assert response.status_code == 400
    assert "site she works at" in _field_error(response.text, "site")


def test_api_token_is_shown_once_works_and_can_be_revoked(client, app, make_user):
    make_user("ada", "researcher")
    csrf = sign_in(client, "ada")
    issued = client.post("/account/tokens", data={"label": "notebook", "csrf_token": csrf})
    token = re.search(r'<code id="new-token">(.*?)</code>', issued.text).group(1)
    assert token not in client.get("/account").text
    machine = TestClient(app)
    bearer = {"Authorization": f"Bearer {token}"}
    assert machine.get("/api/v1/me", headers=bearer).json()["role"] == "researcher"
    token_id = re.search(r"/account/tokens/(\d+)/revoke", issued.text).group(1)
    client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert machine.get("/api/v1/me", headers=bearer).status_code == 401


def _enrol(instance) -> str:
    with session_scope(instance.engine) as db:
        site = ensure_site(db)
        fields = vault.IdentityFields(
            nhs_number=NHS_NUMBER,
            given_name="Amina",
            family_name="Khan",
            date_of_birth=date(1994, 3, 2),
            postcode="BD9 6RJ",
        )
        return vault.enrol(db, instance.keys, site.id, fields, actor="test").study_id


def test_finding_a_participant_shows_study_id_and_site_but_no_identity(client, make_user, instance):
    study_id = _enrol(instance)
    make_user("dana", "data_manager")
    csrf = sign_in(client, "dana")
    found = client.post(
        "/participants/find", data={"nhs_number": "943 476 5919", "csrf_token": csrf}
    )
    assert study_id in found.text and "Bradford Royal Infirmary (RAE)" in found.text
    assert "Amina" not in found.text and "Khan" not in found.text
    (event,) = _events(instance, "participant.find")
    assert event.actor == "dana" and event.participant == study_id
    assert _events(instance, "identity.view") == []


def test_viewing_the_identity_is_explicit_and_audited(client, make_user, instance):
    study_id = _enrol(instance)
    make_user("dana", "data_manager")
    csrf = sign_in(client, "dana")
    shown = client.post(
        "/participants/identity", data={"nhs_number": NHS_NUMBER, "csrf_token": csrf}
    )
    assert shown.status_code == 200
    assert "Amina" in shown.text and "2 March 1994" in shown.text
    (event,) = _events(instance, "identity.view")
    assert (event.actor, event.participant, event.source) == ("dana", study_id, "testclient")


def test_an_invalid_nhs_number_is_explained_beside_the_field(client, make_user):
    make_user("dana", "data_manager")
    csrf = sign_in(client, "dana")
    response = client.post("/participants/find", data={"nhs_number": "12345", "csrf_token": csrf})
    assert response.status_code == 400
    assert "10 digits" in _field_error(response.text, "nhs_number")


def test_nobody_found_says_so(client, make_user, instance):
    make_user("dana", "data_manager")
    csrf = sign_in(client, "dana")
    response = client.post(
        "/participants/find", data={"nhs_number": NHS_NUMBER, "csrf_token": csrf}
    )
    assert "No participant has this NHS number" in response.text
    assert _events(instance, "participant.find")[0].detail == {"found": False}


def test_governance_checks_the_audit_chain_on_demand(client, make_user, instance):
    make_user("gina", "governance")
    sign_in(client, "gina")
    assert "intact" not in client.get("/governance/audit").text
    assert "The audit chain is intact" in client.get("/governance/audit?check=true").text
    with instance.engine.begin() as conn:
        conn.execute(text("UPDATE auditevent SET actor = 'mallory' WHERE seq = 1"))
    broken = client.get("/governance/audit?check=true").text
    assert "The audit chain is broken" in broken and "At event 1" in broken


def test_pages_work_without_the_design_system_files(tmp_path, make_user, instance):
    bare = make_instance(
        instance.settings.data_dir,
        instance.settings.db_url,
        frontend_dir=tmp_path / "absent",
        swagger_ui_dir=tmp_path / "absent",
    )
    client = TestClient(create_app(bare))
    page = client.get("/login")
    assert page.status_code == 200 and "<form" in page.text
    assert "stylesheet" not in page.text
    assert client.get("/static/nhsuk/nhsuk/nhsuk-frontend.min.css").status_code == 404
    bare.engine.dispose()


def test_api_docs_page_needs_no_inline_script(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert re.findall(r"<script(?![^>]*\bsrc=)", page.text) == []
    assert 'data-openapi-url="/api/v1/openapi.json"' in page.text
