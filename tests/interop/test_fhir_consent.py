"""Consent resources built from the consent zone, on SQLite and PostgreSQL, each validated
with fhir.resources' R4B model: one per instrument version she consented under, the
newest active and the older superseded; the patient's identifier as the reader may see."""

import json
from datetime import UTC, datetime

from fhir.resources.R4B.consent import Consent
from sqlmodel import select

from cohort import capture, db, synth, vault, withdrawal
from cohort.config import Settings
from cohort.db import session_scope
from cohort.interop import backfill
from cohort.interop.fhir_consent import NHS_NUMBER_SYSTEM, Reader, Systems
from cohort.interop.redcap_metadata import load
from cohort.models import AuditEvent, Participant, Site
from forms import registry
from tests.consent_world import CONSENT, NHS_NUMBER, token
from tests.interop.redcap_world import consent_answers, flat_row

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


# Six women over two sites, enrolled in turn (so consecutive rows are at different
# sites), two versions of the instrument, and withdrawals at each level: (site, her
# consents after enrolment under 1.0 as (version, items), her withdrawals in order).
WOMEN = {
    "just_enrolled": ("site", [], []),
    "updated_to_1_1_no_contact": ("other", [("1.1", ["link_council"])], ["no_contact"]),
    "updated_twice_under_1_0_no_data": (
        "site",
        [("1.0", ["contact"]), ("1.0", ["link_baby_health", "contact"])],
        ["no_data"],
    ),
    "back_to_1_0_after_1_1_then_full": (
        "other",
        [("1.1", ["link_mother_health"]), ("1.0", ["contact", "link_council"])],
        ["no_contact", "full"],
    ),
    "full_at_once": ("site", [], ["full"]),
    "updated_to_1_1": ("other", [("1.1", ["link_baby_health"])], []),
}
ENROLLED_WITH = ["link_mother_health", "link_baby_health", "contact"]
# What each reads as: (version, status, items permitted), oldest statement first.
EXPECTED = {
    "just_enrolled": [("1.0", "active", ENROLLED_WITH)],
    "updated_to_1_1_no_contact": [
        ("1.0", "inactive", ENROLLED_WITH),
        ("1.1", "active", ["link_council"]),
    ],
    "updated_twice_under_1_0_no_data": [("1.0", "inactive", [])],
    "back_to_1_0_after_1_1_then_full": [
        ("1.1", "inactive", ["link_mother_health"]),
        ("1.0", "inactive", []),
    ],
    "full_at_once": [("1.0", "inactive", [])],
    "updated_to_1_1": [
        ("1.0", "inactive", ENROLLED_WITH),
        ("1.1", "active", ["link_baby_health"]),
    ],
}


def _many_women(world) -> dict[str, str]:
    """The study ID of each of ``WOMEN``, her consents and withdrawals recorded."""
    study_ids = {}
    with session_scope(world.engine) as s:
        text = registry.export(s, capture.FORM, "1.0")
        registry.publish(s, text, version="1.1", actor="t")
        specs = {v: registry.get(s, capture.FORM, v) for v in ("1.0", "1.1")}
        for n, (name, (where, updates, levels)) in enumerate(WOMEN.items()):
            midwife = world.midwife if where == "site" else world.other_midwife
            answers = consent_answers(synth.mothers(seed=700 + n, n=1)[0], ENROLLED_WITH)
            done = capture.record_answers(
                s, world.keys, specs["1.0"], answers, user=midwife, token=token()
            )
            study_ids[name] = done.result["study_id"]
            for version, items in updates:
                capture.update_answers(
                    s,
                    specs[version],
                    study_ids[name],
                    {"discussion_language": "en", "consent_items": items},
                    user=midwife,
                    token=token(),
                )
            for level in levels:
                withdrawal.record_withdrawal(
                    s, study_id=study_ids[name], level_code=level, user=midwife, token=token()
                )
    return study_ids


def _summary(resource: dict) -> tuple[str, str, list[str]]:
    Consent.model_validate(resource)
    permitted = [
        part["code"][0]["coding"][0]["code"]
        for part in resource["provision"]["provision"]
        if part["type"] == "permit"
    ]
    return (
        resource["sourceReference"]["identifier"]["value"].split("|")[1],
        resource["status"],
        sorted(permitted),
    )


def test_reading_many_women_at_once_gives_what_reading_each_alone_does(world, monkeypatch):
    study_ids = _many_women(world)
    with session_scope(world.engine) as s:
        everyone = list(s.exec(select(Participant).order_by(Participant.id)))
        reader = Reader(s, world.keys, world.data_manager, SYSTEMS)
        one_at_a_time = [r for p in everyone for r in reader.resources([p])]
        monkeypatch.setattr(db, "IN_CHUNK", 2)  # three chunks of ids, each across sites
        at_once = reader.resources(everyone)
        nhs = {p.study_id: vault.read_identity(s, world.keys, p.id).nhs_number for p in everyone}
        sites = {p.study_id: s.get(Site, p.site_id).code for p in everyone}
    with session_scope(world.engine) as s:
        event = s.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert json.dumps(at_once) == json.dumps(one_at_a_time)
    by_woman = {name: [] for name in WOMEN}
    for resource in at_once:
        study_id = resource["id"].split(".", 1)[0]
        (name,) = [name for name, one in study_ids.items() if one == study_id]
        by_woman[name].append(_summary(resource))
        assert resource["patient"]["identifier"]["value"] == nhs[study_id]
        assert resource["performer"][0]["identifier"]["value"] == sites[study_id]
    assert by_woman == {
        name: [(v, status, sorted(items)) for v, status, items in expected]
        for name, expected in EXPECTED.items()
    }
    assert len(set(sites.values())) == 2
    assert event.action == "fhir.consent.read" and event.detail == {
        "identifiers": ["nhs_number"],
        "study_ids": [p.study_id for p in everyone],
    }
