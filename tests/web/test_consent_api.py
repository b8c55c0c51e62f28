"""The consent API: consents and declines from instrument answers, once per Idempotency-Key,
her consent without identifiers, updates, withdrawals, and refusals that name the field."""

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from cohort.auth import tokens
from cohort.db import session_scope
from cohort.models import AuditEvent, Consent, Decline, Identity, Participant, User, Withdrawal
from tests.consent_world import CONSENT, DECLINE, count_rows
from tests.web.conftest import ensure_site

NOTHING_WRITTEN = (Participant, Identity, Consent, Decline, Withdrawal, AuditEvent)


def bearer(instance, username: str) -> dict[str, str]:
    with session_scope(instance.engine) as db:
        user = db.exec(select(User).where(User.username == username)).one()
        return {"Authorization": f"Bearer {tokens.issue_token(db, user, 'tests', actor='test')}"}


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


@pytest.fixture
def midwife(instance, make_user) -> dict[str, str]:
    make_user("mia", "midwife")
    return bearer(instance, "mia")


@pytest.fixture
def enrolled(client, midwife) -> str:
    created = client.post("/api/v1/consents", json=CONSENT, headers={**midwife, **key()})
    assert created.status_code == 201, created.text
    return created.json()["study_id"]


def events(instance) -> int:
    return count_rows(instance.engine, AuditEvent)


def test_a_consent_answers_with_her_study_id_and_scope_and_no_identifier(client, midwife, instance):
    answers = {name: value for name, value in CONSENT.items() if name != "outcome"}
    created = client.post("/api/v1/consents", json=answers, headers={**midwife, **key()})
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "consented" and body["site"] == "RAE"
    assert body["scope"] == {
        "link_mother_health": True,
        "link_baby_health": True,
        "link_council": False,
        "contact": True,
    }
    assert [entry["kind"] for entry in body["history"]] == ["consent"]
    assert (
        body["history"][0]["language"] == "ur" and body["history"][0]["form"] == "babi_consent 1.0"
    )
    assert not {"Aisha", "Khan", "9434765919", "1995-04-02"} & set(str(body).split("'"))
    fetched = client.get(f"/api/v1/participants/{body['study_id']}", headers=midwife)
    assert fetched.json() == body


def test_a_retry_with_the_same_key_saves_once_and_answers_the_same(client, midwife, instance):
    headers = {**midwife, **key()}
    first = client.post("/api/v1/consents", json=CONSENT, headers=headers)
    again = client.post("/api/v1/consents", json=CONSENT, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count_rows(instance.engine, Consent) == 1


def test_a_decline_keeps_only_what_the_consent_rate_needs(client, midwife, instance):
    created = client.post("/api/v1/declines", json=DECLINE, headers={**midwife, **key()})
    assert created.status_code == 201
    assert set(created.json()) == {"decline_id", "site"}
    assert count_rows(instance.engine, Participant) == 0


def test_answers_saying_the_other_outcome_are_refused(client, midwife, instance):
    refused = client.post("/api/v1/declines", json=CONSENT, headers={**midwife, **key()})
    assert refused.status_code == 400 and refused.json()["field"] == "outcome"
    assert count_rows(instance.engine, Participant) == 0


def test_an_nhs_number_already_enrolled_here_is_refused_naming_her(client, midwife, enrolled):
    again = client.post("/api/v1/consents", json=CONSENT, headers={**midwife, **key()})
    assert again.status_code == 409
    assert again.json()["field"] == "nhs_number" and enrolled in again.json()["detail"]


def test_an_nhs_number_enrolled_elsewhere_is_refused_without_naming_her(
    client, instance, make_user, enrolled
):
    with session_scope(instance.engine) as db:
        ensure_site(db, "LDS", "Leeds General")
    make_user("lee", "midwife", site_code="LDS")
    again = client.post(
        "/api/v1/consents", json=CONSENT, headers={**bearer(instance, "lee"), **key()}
    )
    assert again.status_code == 409 and enrolled not in again.text


BAD_INPUT = [
    ({**CONSENT, "nhs_number": "943 476 5918"}, 400, "nhs_number"),
    ({**CONSENT, "date_of_birth": "1995-13-01"}, 400, "date_of_birth"),
    ({**CONSENT, "date_of_birth": "2031-01-01"}, 400, "date_of_birth"),
    ({**CONSENT, "discussion_language": "tlh"}, 400, "discussion_language"),
    ({k: v for k, v in CONSENT.items() if k != "postcode"}, 400, "postcode"),
    ({**CONSENT, "given_name": "A" * 100_000}, 400, "given_name"),
    ({**CONSENT, "family_name": "Kh\u0000an"}, 400, "family_name"),
    ({**CONSENT, "shoe_size": "5"}, 400, "shoe_size"),
    ({**CONSENT, "outcome": 1}, 400, "outcome"),
    ({**CONSENT, "consent_items": {"contact": True}}, 400, "consent_items"),
    ({**CONSENT, "consent_items": ["contact", None]}, 400, "consent_items"),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD_INPUT, ids=[b[2] for b in BAD_INPUT])
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    client, midwife, instance, body, status, field
):
    before = events(instance)
    refused = client.post("/api/v1/consents", json=body, headers={**midwife, **key()})
    assert refused.status_code == status, refused.text
    assert refused.json()["field"] == field and refused.json()["detail"]
    assert events(instance) == before
    assert all(count_rows(instance.engine, model) == 0 for model in NOTHING_WRITTEN[:-1])


@pytest.mark.parametrize("header", [{}, {"Idempotency-Key": "short"}])
def test_a_recording_without_a_good_idempotency_key_is_refused(client, midwife, header):
    refused = client.post("/api/v1/declines", json=DECLINE, headers={**midwife, **header})
    assert refused.status_code == 400 and refused.json()["field"] == "Idempotency-Key"


def test_updating_her_consent_adds_to_her_history(client, midwife, enrolled, instance):
    change = {"discussion_language": "en", "consent_items": ["link_mother_health"]}
    headers = {**midwife, **key()}
    updated = client.patch(f"/api/v1/participants/{enrolled}/consent", json=change, headers=headers)
    assert updated.status_code == 200
    body = updated.json()
    assert [entry["kind"] for entry in body["history"]] == ["consent", "update"]
    assert body["scope"]["link_mother_health"] and not body["scope"]["contact"]
    replayed = client.patch(
        f"/api/v1/participants/{enrolled}/consent", json=change, headers=headers
    )
    assert replayed.json() == body and count_rows(instance.engine, Consent) == 2
    unchanged = client.patch(
        f"/api/v1/participants/{enrolled}/consent", json=change, headers={**midwife, **key()}
    )
    assert unchanged.status_code == 409 and unchanged.json()["field"] == "consent_items"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"discussion_language": "en", "consent_items": ["sell_data"]}, 400, "consent_items"),
        ({"discussion_language": "en", "consent_items": []}, 400, "consent_items"),
        ({"consent_items": ["contact"]}, 422, "discussion_language"),
        ({"discussion_language": "en", "consent_items": ["contact"], "x": 1}, 422, "x"),
    ],
)
def test_a_bad_update_names_the_field(client, midwife, enrolled, change, status, field):
    refused = client.patch(
        f"/api/v1/participants/{enrolled}/consent", json=change, headers={**midwife, **key()}
    )
    assert refused.status_code == status and refused.json()["field"] == field


@pytest.mark.parametrize(
    ("level", "scope"),
    [
        ("no_contact", {"link_mother_health": True, "contact": False}),
        ("no_data", {"link_mother_health": False, "contact": False}),
        ("full", {"link_mother_health": False, "contact": False}),
    ],
)
def test_a_withdrawal_takes_effect_at_once(client, midwife, enrolled, level, scope):
    withdrawn = client.post(
        f"/api/v1/participants/{enrolled}/withdrawals",
        json={"level": level},
        headers={**midwife, **key()},
    )
    assert withdrawn.status_code == 201
    body = client.get(f"/api/v1/participants/{enrolled}", headers=midwife).json()
    assert body["status"] == "withdrawn" and body["withdrawal"] == level
    assert {item: body["scope"][item] for item in scope} == scope
    assert body["keeps_linked_data"] is (level != "full")


def test_a_withdrawal_below_one_recorded_or_of_no_level_is_refused(client, midwife, enrolled):
    url = f"/api/v1/participants/{enrolled}/withdrawals"
    client.post(url, json={"level": "no_data"}, headers={**midwife, **key()})
    weaker = client.post(url, json={"level": "no_contact"}, headers={**midwife, **key()})
    assert weaker.status_code == 409 and weaker.json()["field"] == "level"
    unknown = client.post(url, json={"level": "some"}, headers={**midwife, **key()})
    assert unknown.status_code == 400 and unknown.json()["field"] == "level"


def test_a_data_manager_withdraws_but_records_no_consent(
    client, instance, make_user, enrolled, midwife
):
    make_user("dana", "data_manager")
    manager = bearer(instance, "dana")
    refused = client.post("/api/v1/consents", json=CONSENT, headers={**manager, **key()})
    assert refused.status_code == 403
    withdrawn = client.post(
        f"/api/v1/participants/{enrolled}/withdrawals",
        json={"level": "full"},
        headers={**manager, **key()},
    )
    assert withdrawn.status_code == 201 and withdrawn.json()["history"][-1]["recorded_by"] == "dana"


def test_another_sites_midwife_gets_404_for_every_participant_call(
    app, instance, make_user, enrolled
):
    with session_scope(instance.engine) as db:
        ensure_site(db, "LDS", "Leeds General")
    make_user("lee", "midwife", site_code="LDS")
    other = TestClient(app, headers=bearer(instance, "lee"))
    calls = [
        other.get(f"/api/v1/participants/{enrolled}"),
        other.patch(
            f"/api/v1/participants/{enrolled}/consent",
            json={"discussion_language": "en", "consent_items": ["contact"]},
            headers=key(),
        ),
        other.post(
            f"/api/v1/participants/{enrolled}/withdrawals", json={"level": "full"}, headers=key()
        ),
    ]
    assert [call.status_code for call in calls] == [404, 404, 404]
    assert all(call.json()["field"] == "study_id" for call in calls)
    assert count_rows(instance.engine, Withdrawal) == 0


def test_the_openapi_document_describes_the_bodies(client):
    spec = client.get("/api/v1/openapi.json").json()
    consents = spec["paths"]["/api/v1/consents"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in consents["parameters"]]
    schemas = spec["components"]["schemas"]
    assert {"InstrumentAnswers", "ParticipantOut", "ConsentUpdate", "WithdrawalIn"} <= set(schemas)
