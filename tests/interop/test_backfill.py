"""The consent backfill on SQLite and PostgreSQL: each row through the capture path, a
stable token per woman, rows refused without a trace of their values, the import audited
with every row not recorded."""

import json

import pytest
from sqlmodel import Session, select

from cohort.db import session_scope
from cohort.errors import CohortError
from cohort.interop import backfill
from cohort.interop.redcap_metadata import load
from cohort.models import AuditEvent, Participant
from tests.consent_world import CONSENT, DECLINE, NHS_NUMBER, OTHER_NHS_NUMBER, count_rows

ITEMS = ["link_mother_health", "link_baby_health", "link_council", "contact"]


def row(answers: dict, record_id: str = "") -> dict[str, str]:
    flat = {k: v for k, v in answers.items() if k != "consent_items"}
    ticked = answers.get("consent_items", [])
    if "consent_items" in answers:
        flat |= {f"consent_items___{i}": "1" if i in ticked else "0" for i in ITEMS}
    return {"study_id": record_id, **flat}


def run(world, rows, user=None):
    with session_scope(world.engine) as s:
        return backfill.import_rows(
            s,
            world.keys,
            load(s),
            rows,
            user=user or world.midwife,
            site_code=world.site.code,
            source="test",
        )


def audit_text(world) -> str:
    with Session(world.engine) as s:
        return json.dumps([e.detail for e in s.exec(select(AuditEvent))])


def test_a_consent_and_a_decline_are_recorded_once(world):
    rows = [row(CONSENT), row(DECLINE, "OLD-9")]
    first = run(world, rows)
    assert [r.status for r in first.results] == [backfill.ACCEPTED, backfill.ACCEPTED]
    assert first.results[0].study_id.startswith("BB-")
    again = run(world, rows)
    assert [r.status for r in again.results] == [backfill.ALREADY_IMPORTED] * 2
    assert count_rows(world.engine, Participant) == 1


def test_the_token_follows_the_woman_not_the_spelling_of_her_nhs_number(world):
    with session_scope(world.engine) as s:
        project = load(s)
    spaced = backfill.row_token(world.keys, "BRD", project, {"nhs_number": "943 476 5919"})
    plain = backfill.row_token(world.keys, "BRD", project, {"nhs_number": NHS_NUMBER})
    other = backfill.row_token(world.keys, "BRD", project, {"nhs_number": OTHER_NHS_NUMBER})
    elsewhere = backfill.row_token(world.keys, "LDS", project, {"nhs_number": NHS_NUMBER})
    assert spaced == plain and len({plain, other, elsewhere}) == 3
    assert NHS_NUMBER not in plain and len(plain) <= 64


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"nhs_number": "9434765918"}, "nhs_number"),
        ({"date_of_birth": "1994-13-01"}, "date_of_birth"),
        ({"date_of_birth": "2020-01-01"}, "date_of_birth"),  # too young to join
        ({"postcode": "@SUM(A1)"}, "postcode"),
        ({"given_name": "A\x00isha"}, "given_name"),
        ({"given_name": "A" * 10_000}, "given_name"),
        ({"consent_items___contact": "maybe"}, "consent_items___contact"),
        ({"interpreter_used": "perhaps"}, "interpreter_used"),
    ],
)
def test_a_bad_row_is_rejected_naming_the_field_never_the_value(world, change, field):
    bad = {**row(CONSENT), **change}
    report = run(world, [bad])
    (result,) = report.results
    assert result.status == backfill.REJECTED and result.reason.startswith(field)
    for value in change.values():
        assert value[:12] not in result.reason
        assert value[:12] not in audit_text(world)
    assert count_rows(world.engine, Participant) == 0


def test_a_woman_already_in_the_cohort_is_reported_with_her_study_id_at_her_site(world, enrolled):
    (result,) = run(world, [row(CONSENT)]).results
    assert (result.status, result.study_id) == (backfill.IN_COHORT, enrolled)
    (elsewhere,) = run(world, [row(CONSENT)], user=world.other_midwife).results
    assert (elsewhere.status, elsewhere.study_id) == (backfill.IN_COHORT, None)
    assert enrolled not in elsewhere.reason


def test_unknown_columns_refuse_the_whole_file(world):
    with pytest.raises(CohortError, match="not in the project: shoe_size"):
        run(world, [{**row(CONSENT), "shoe_size": "5"}])
    assert count_rows(world.engine, Participant) == 0


def test_the_import_is_audited_with_each_row_not_recorded(world):
    run(world, [row(CONSENT), row(CONSENT), {**row(DECLINE), "age_band": "99"}])
    with Session(world.engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "backfill.import")).one()
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.seq))]
    assert "consent.record" in actions
    assert event.detail["accepted"] == 1 and event.detail["duplicate"] == 1
    assert event.detail["rejected"] == 1
    statuses = {group["status"]: group["rows"] for group in event.detail["not_recorded"]}
    assert statuses == {backfill.DUPLICATE: [3], backfill.REJECTED: [4]}
    assert "Aisha" not in audit_text(world) and NHS_NUMBER not in audit_text(world)


def test_her_age_is_checked_on_the_day_she_consented(world):
    older = {**row(CONSENT), "date_of_birth": "1970-06-01"}  # 45 in 2015, over 50 today
    (today,) = run(world, [older]).results
    assert today.status == backfill.REJECTED and today.reason.startswith("date_of_birth")
    (then,) = run(world, [{**older, "consent_date": "2015-09-30"}]).results
    assert then.status == backfill.ACCEPTED


@pytest.mark.parametrize("day", ["2015-02-30", "30/09/2015", "2999-01-01"])
def test_an_impossible_consent_date_is_rejected(world, day):
    (result,) = run(world, [{**row(CONSENT), "consent_date": day}]).results
    assert result.status == backfill.REJECTED and result.reason.startswith("consent_date")
    assert day not in result.reason
