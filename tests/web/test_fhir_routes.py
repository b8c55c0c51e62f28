"""FHIR R4 Consent over HTTP, on SQLite and PostgreSQL: every resource the server emits
validates with fhir.resources' R4B models; status follows consent, withdrawal and
decline; the patient is named by NHS number only for roles that may see identifiers."""

import json

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.operationoutcome import OperationOutcome

from cohort import capture, withdrawal
from cohort.auth.users import get_user
from cohort.db import session_scope
from cohort.interop.fhir_consent import NHS_NUMBER_SYSTEM
from cohort.web.app import create_app
from forms import registry
from tests.consent_world import DECLINE
from tests.interop.redcap_world import OTHER_SITE, SITE, make_redcap_world, migrated_url

STUDY_ID_SYSTEM = "urn:cohort:study-id"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fhir(request, tmp_path_factory):
    """(a client, the world): three women at RAE (one withdrawn), one at LDS, a decline.
    Read only: the tests share it."""
    root = tmp_path_factory.mktemp("fhir")
    db_url = migrated_url(request, root)
    world = make_redcap_world(root / "var", db_url, at_site=3, elsewhere=1)
    with session_scope(world.instance.engine) as db:
        midwife = get_user(db, "mw")
        withdrawal.record_withdrawal(
            db,
            study_id=world.study_ids[SITE][2],
            level_code="no_data",
            user=midwife,
            token="fhir-withdrawal-0001",
        )
        spec = registry.current(db, capture.FORM)
        capture.record_answers(
            db, world.instance.keys, spec, DECLINE, user=midwife, token="fhir-decline-00001"
        )
    yield TestClient(create_app(world.instance)), world
    world.instance.engine.dispose()


def get(fhir, path: str, username: str = "mw", **params):
    client, world = fhir
    headers = {"Authorization": f"Bearer {world.tokens[username]}"}
    return client.get(path, params=params, headers=headers)


def consent_of(response) -> Consent:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    return Consent.model_validate(response.json())


def test_a_consent_validates_as_r4_and_says_what_she_agreed_to(fhir):
    _, world = fhir
    study_id = world.study_ids[SITE][0]
    consent = consent_of(get(fhir, f"/fhir/Consent/{study_id}.1.0"))
    assert consent.status == "active"
    assert consent.scope.coding[0].code == "research"
    assert consent.patient.identifier.system == NHS_NUMBER_SYSTEM
    assert consent.dateTime.tzinfo is not None
    assert consent.performer[0].identifier.value == SITE
    assert consent.policy[0].uri == "urn:cohort:protocol"
    assert consent.sourceReference.identifier.value == "babi_consent|1.0"
    allowed = {p.code[0].coding[0].code: p.type for p in consent.provision.provision}
    assert allowed == {
        "link_mother_health": "permit",
        "link_baby_health": "permit",
        "link_council": "deny",
        "contact": "permit",
    }


def test_a_withdrawal_makes_it_inactive_and_denies_everything(fhir):
    _, world = fhir
    consent = consent_of(get(fhir, f"/fhir/Consent/{world.study_ids[SITE][2]}.1.0"))
    assert consent.status == "inactive"
    assert {p.type for p in consent.provision.provision} == {"deny"}


def test_a_decline_is_rejected_and_names_nobody(fhir):
    found = get(fhir, "/fhir/Consent", status="rejected")
    bundle = Bundle.model_validate(found.json())
    assert bundle.type == "searchset" and bundle.total == 1
    decline = bundle.entry[0].resource
    assert decline.status == "rejected" and decline.patient is None
    assert consent_of(get(fhir, f"/fhir/Consent/{decline.id}")).status == "rejected"


def test_search_by_study_id_and_by_nhs_number(fhir):
    _, world = fhir
    study_id = world.study_ids[SITE][0]
    by_study = Bundle.model_validate(get(fhir, "/fhir/Consent", patient=study_id).json())
    assert [entry.resource.id for entry in by_study.entry] == [f"{study_id}.1.0"]
    nhs = by_study.entry[0].resource.patient.identifier.value
    by_nhs = get(fhir, "/fhir/Consent", **{"patient:identifier": f"{NHS_NUMBER_SYSTEM}|{nhs}"})
    assert Bundle.model_validate(by_nhs.json()).total == 1
    active = Bundle.model_validate(get(fhir, "/fhir/Consent", status="active").json())
    assert active.total == 2


def test_governance_sees_study_ids_never_nhs_numbers(fhir):
    everyone = get(fhir, "/fhir/Consent", username="gov")
    bundle = Bundle.model_validate(everyone.json())
    assert bundle.total == 4
    systems = {entry.resource.patient.identifier.system for entry in bundle.entry}
    assert systems == {STUDY_ID_SYSTEM}
    nhs_search = get(
        fhir, "/fhir/Consent", username="gov", **{"patient:identifier": f"{NHS_NUMBER_SYSTEM}|1"}
    )
    assert nhs_search.status_code == 400


def test_a_midwife_never_reaches_another_sites_consents(fhir):
    _, world = fhir
    elsewhere = world.study_ids[OTHER_SITE][0]
    refused = get(fhir, f"/fhir/Consent/{elsewhere}.1.0")
    assert refused.status_code == 404
    OperationOutcome.model_validate(refused.json())
    assert Bundle.model_validate(get(fhir, "/fhir/Consent").json()).total == 3
    assert get(fhir, f"/fhir/sites/{OTHER_SITE}/Consent.ndjson").status_code == 404


def test_the_sites_bulk_export_is_ndjson_of_valid_consents(fhir):
    response = get(fhir, f"/fhir/sites/{SITE}/Consent.ndjson", username="dm")
    assert response.headers["content-type"].startswith("application/fhir+ndjson")
    resources = [Consent.model_validate(json.loads(line)) for line in response.text.splitlines()]
    assert sorted(r.status for r in resources) == ["active", "active", "inactive", "rejected"]


def test_researchers_are_refused_with_an_operation_outcome(fhir):
    refused = get(fhir, "/fhir/Consent", username="rs")
    assert refused.status_code == 403
    assert OperationOutcome.model_validate(refused.json()).issue[0].code == "forbidden"
    client, _ = fhir
    anonymous = client.get("/fhir/Consent")
    assert anonymous.status_code == 401
    OperationOutcome.model_validate(anonymous.json())


def test_a_bad_status_is_an_operation_outcome(fhir):
    refused = get(fhir, "/fhir/Consent", status="maybe")
    assert refused.status_code == 400
    assert "status" in OperationOutcome.model_validate(refused.json()).issue[0].diagnostics
