"""Consent resources built from the consent zone, on SQLite and PostgreSQL, each validated
with fhir.resources' R4B model: one per instrument version she consented under, the
newest active and the older superseded; the patient's identifier as the reader may see."""

from datetime import UTC, datetime

from fhir.resources.R4B.consent import Consent

from cohort import capture
from cohort.config import Settings
from cohort.db import session_scope
from cohort.interop import backfill
from cohort.interop.fhir_consent import NHS_NUMBER_SYSTEM, Reader, Systems
from cohort.interop.redcap_metadata import load
from forms import registry
from tests.consent_world import CONSENT, NHS_NUMBER
from tests.interop.redcap_world import flat_row

SYSTEMS = Systems.of(Settings(fhir_system_base="https://cohort.example.org/fhir"))


def read_all(world, user, study_id):
    with session_scope(world.engine) as s:
        return Reader(s, world.keys, user, SYSTEMS).search(study_id, None, None)


def test_a_consent_under_a_newer_version_supersedes_the_older(world, enrolled):
    with session_scope(world.engine) as s:
        text = registry.export(s, capture.FORM, "1.0")
        newer = registry.get(
            s, capture.FORM, registry.publish(s, text, version="1.1", actor="t").version
        )
        capture.update_answers(
            s,
            newer,
            enrolled,
            {"discussion_language": "en", "consent_items": ["link_council"]},
            user=world.midwife,
            token="fhir-update-token-1",
        )
    resources = [Consent.model_validate(r) for r in read_all(world, world.midwife, enrolled)]
    assert [(r.id, r.status) for r in resources] == [
        (f"{enrolled}.1.0", "inactive"),
        (f"{enrolled}.1.1", "active"),
    ]
    newest = {p.code[0].coding[0].code: p.type for p in resources[1].provision.provision}
    assert [item for item, kind in newest.items() if kind == "permit"] == ["link_council"]


def test_the_patient_is_named_as_the_reader_may_see(world, enrolled):
    (for_data_manager,) = read_all(world, world.data_manager, enrolled)
    assert for_data_manager["patient"]["identifier"] == {
        "system": NHS_NUMBER_SYSTEM,
        "value": NHS_NUMBER,
    }
    governance = world.researcher.model_copy(update={"role": "governance"})
    (for_governance,) = read_all(world, governance, enrolled)
    assert for_governance["patient"]["identifier"] == {
        "system": "https://cohort.example.org/fhir/study-id",
        "value": enrolled,
    }
    assert NHS_NUMBER not in str(for_governance)
    Consent.model_validate(for_governance)


def test_a_backfilled_consent_is_dated_when_she_gave_it_and_updated_at_the_import(world):
    imported = datetime.now(UTC)
    with session_scope(world.engine) as s:
        report = backfill.import_rows(
            s,
            world.keys,
            load(s),
            [{**flat_row(CONSENT), "consent_date": "2019-06-03 14:05"}],
            user=world.midwife,
            site_code=world.site.code,
            source="test",
        )
    (resource,) = read_all(world, world.midwife, report.accepted[0].study_id)
    consent = Consent.model_validate(resource)
    assert consent.dateTime == datetime(2019, 6, 3, 14, 5, tzinfo=UTC)
    assert consent.provision.period.start == consent.dateTime
    assert consent.meta.lastUpdated >= imported
