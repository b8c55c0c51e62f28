"""The consent backfill on SQLite and PostgreSQL: each row through the capture path, a
stable token per woman, rows refused without a trace of their values, the import audited
with every row not recorded; a record keeps the moment she answered, and the dashboard's
closed days count it."""

import json
import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from cohort import synth, withdrawal
from cohort.db import session_scope
from cohort.errors import CohortError
from cohort.governance.approaches import approaches_by
from cohort.governance.filters import Filters
from cohort.governance.rollup import roll_up
from cohort.interop import backfill
from cohort.interop.redcap_metadata import load
from cohort.models import AuditEvent, Consent, Decline, Participant
from tests.consent_world import (
    CONSENT,
    DECLINE,
    NHS_NUMBER,
    OTHER_NHS_NUMBER,
    count_rows,
    token,
)
from tests.interop.redcap_world import consent_answers
from tests.interop.redcap_world import flat_row as row


def run(world, rows, user=None, update=None):
    with session_scope(world.engine) as s:
        return backfill.import_rows(
            s,
            world.keys,
            load(s),
            rows,
            user=user or world.midwife,
            site_code=world.site.code,
            source="test",
            update=update,
        )


def choices(world, study_id) -> list[dict]:
    """Her consent rows, oldest first, as (ticked items, language)."""
    with Session(world.engine) as s:
        member = s.exec(select(Participant).where(Participant.study_id == study_id)).one()
        rows = s.exec(
            select(Consent).where(Consent.participant_id == member.id).order_by(Consent.id)
        )
        return [({i for i, given in r.items.items() if given}, r.language) for r in rows]


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


FIRST_CHOICES = {"link_mother_health", "link_baby_health", "contact"}


def test_without_update_a_row_naming_her_study_id_changes_nothing(world, enrolled):
    """The command line's backfill: a file of old consents never undoes a newer record."""
    (result,) = run(world, [{"study_id": enrolled, "consent_items___contact": "0"}]).results
    assert result.status == backfill.REJECTED  # a new woman's row, and it is not one
    assert choices(world, enrolled) == [(FIRST_CHOICES, "ur")]


@pytest.mark.parametrize("update", ["normal", "overwrite"])
def test_her_row_by_study_id_changes_the_tick_boxes_it_gives(world, enrolled, update):
    given = {
        "study_id": enrolled,
        "consent_items___contact": "0",
        "consent_items___link_council": "1",
    }
    (result,) = run(world, [given], update=update).results
    assert (result.status, result.study_id) == (backfill.UPDATED, enrolled)
    after = {"link_mother_health", "link_baby_health", "link_council"}
    assert choices(world, enrolled) == [(FIRST_CHOICES, "ur"), (after, "ur")]
    with Session(world.engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "consent.update")).one()
    assert event.participant == enrolled and event.detail["link_council"] is True


@pytest.mark.parametrize(
    ("update", "after"),
    [("normal", FIRST_CHOICES), ("overwrite", {"link_mother_health", "contact"})],
)
def test_an_empty_tick_box_cell_is_kept_or_erased_as_redcap_does(world, enrolled, update, after):
    given = {
        **row(CONSENT),
        "consent_items___link_baby_health": "",
        "consent_items___link_council": "",
    }
    (result,) = run(world, [given], update=update).results
    changed = after != FIRST_CHOICES
    assert result.status == (backfill.UPDATED if changed else backfill.IN_COHORT)
    assert result.study_id == enrolled
    assert choices(world, enrolled)[-1][0] == after


def test_her_full_row_again_by_nhs_number_is_no_change(world, enrolled):
    (result,) = run(world, [row(CONSENT, enrolled)], update="normal").results
    assert (result.status, result.study_id) == (backfill.IN_COHORT, enrolled)
    assert len(choices(world, enrolled)) == 1


def test_the_same_change_imported_twice_is_recorded_once(world, enrolled):
    given = [{"study_id": enrolled, "consent_items___contact": "0"}]
    assert run(world, given, update="normal").results[0].status == backfill.UPDATED
    assert run(world, given, update="normal").results[0].status == backfill.IN_COHORT
    assert len(choices(world, enrolled)) == 2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"nhs_number": "401 023 2137"}, "not the NHS number of the woman"),
        ({"nhs_number": "9434765918"}, "nhs_number: NHS number is not valid"),
        ({"outcome": "0"}, "record her withdrawal on her page"),
        ({"consent_items___contact": "yes"}, "consent_items___contact: give 1"),
        ({"discussion_language": "xx"}, "discussion_language"),
    ],
)
def test_a_change_that_cannot_be_hers_is_rejected(world, enrolled, change, reason):
    given = {"study_id": enrolled, "consent_items___contact": "0", **change}
    (result,) = run(world, [given], update="normal").results
    assert result.status == backfill.REJECTED and reason in result.reason
    assert len(choices(world, enrolled)) == 1


@pytest.mark.parametrize(
    ("update", "change", "column"),
    [
        ("normal", {"given_name": "Ayesha"}, "given_name"),
        ("normal", {"ethnicity": "irish"}, "ethnicity"),
        ("overwrite", {"family_name": ""}, "family_name"),
    ],
)
def test_a_row_changing_her_details_is_refused_not_half_taken(
    world, enrolled, update, change, column
):
    given = {**row(CONSENT, enrolled), "consent_items___contact": "0", **change}
    (result,) = run(world, [given], update=update).results
    assert result.status == backfill.REJECTED
    assert result.reason == backfill.NOT_BY_IMPORT.format(column=column)
    assert "Ayesha" not in result.reason and len(choices(world, enrolled)) == 1


def test_an_empty_detail_is_no_change_under_normal(world, enrolled):
    given = {**row(CONSENT, enrolled), "consent_items___contact": "0", "family_name": ""}
    assert run(world, [given], update="normal").results[0].status == backfill.UPDATED


def test_no_change_after_she_has_withdrawn_from_everything(world, enrolled):
    with session_scope(world.engine) as s:
        withdrawal.record_withdrawal(
            s, study_id=enrolled, level_code="full", user=world.midwife, token=token()
        )
    given = [{"study_id": enrolled, "consent_items___link_council": "1"}]
    (result,) = run(world, given, update="normal").results
    assert result.status == backfill.REJECTED and "withdrawn" in result.reason
    assert len(choices(world, enrolled)) == 1


def test_another_sites_woman_is_not_changed_nor_named(world, enrolled):
    given = [{"study_id": enrolled, "consent_items___contact": "0"}]
    (result,) = run(world, given, user=world.other_midwife, update="overwrite").results
    assert (result.status, result.reason, result.study_id) == (
        backfill.IN_COHORT,
        backfill.OTHER_SITE,
        None,
    )
    assert len(choices(world, enrolled)) == 1


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


@pytest.mark.parametrize(
    "day",
    [
        "2015-02-30",
        "30/09/2015",
        "2015-9-30",
        "2015-09-30T10:00",
        "2015-09-30 25:00",
        "2999-01-01",  # later than now
        "2006-12-31",  # before any cohort of this kind
        "1995-04-02",  # her date of birth in the wrong column
    ],
)
def test_an_impossible_consent_date_is_rejected(world, day):
    (result,) = run(world, [{**row(CONSENT), "consent_date": day}]).results
    assert result.status == backfill.REJECTED and result.reason.startswith("consent_date")
    assert day not in result.reason
    assert count_rows(world.engine, Participant) == 0


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("2019-06-03", datetime(2019, 6, 3, tzinfo=UTC)),
        ("2019-06-03 14:05", datetime(2019, 6, 3, 14, 5, tzinfo=UTC)),
        ("2019-06-03 14:05:09", datetime(2019, 6, 3, 14, 5, 9, tzinfo=UTC)),
    ],
)
def test_the_record_keeps_the_moment_she_answered_and_the_audit_both_times(world, given, kept):
    started = datetime.now(UTC)
    run(
        world,
        [{**row(CONSENT), "consent_date": given}, {**row(DECLINE, "OLD-1"), "consent_date": given}],
    )
    with Session(world.engine) as s:
        assert s.exec(select(Consent)).one().recorded_at.astimezone(UTC) == kept
        assert s.exec(select(Decline)).one().recorded_at.astimezone(UTC) == kept
        recorded = s.exec(
            select(AuditEvent).where(AuditEvent.action.in_(["consent.record", "consent.decline"]))
        ).all()
    assert [event.detail["taken_at"] for event in recorded] == [kept.isoformat()] * 2
    assert all(event.at.astimezone(UTC) >= started for event in recorded)


def test_a_row_without_a_consent_date_is_dated_at_the_import(world):
    started = datetime.now(UTC)
    (result,) = run(world, [{**row(CONSENT), "consent_date": ""}]).results
    assert result.status == backfill.ACCEPTED and result.taken_at is None
    with Session(world.engine) as s:
        assert s.exec(select(Consent)).one().recorded_at.astimezone(UTC) >= started


def women(n: int, seed: int, day: str) -> list[dict[str, str]]:
    return [
        {**row(consent_answers(mother)), "consent_date": day}
        for mother in synth.mothers(seed=seed, n=n, today=date.fromisoformat(day))
    ]


def march_2026(world) -> dict:
    march = Filters(date(2026, 3, 1), date(2026, 3, 31), world.site)
    with Session(world.engine) as s:  # fresh: nothing cached from an earlier read
        return {
            dimension: approaches_by(s, march, dimension)
            for dimension in ("overall", "month", "language", "age_band")
        }


def test_a_consent_backfilled_into_a_closed_month_is_counted_on_the_dashboard(world):
    first = [
        *women(3, seed=11, day="2026-03-04"),
        {**row(DECLINE, "OLD-2"), "consent_date": "2026-03-09 10:30"},
    ]
    assert run(world, first).count(backfill.ACCEPTED) == 4
    with session_scope(world.engine) as s:
        assert roll_up(s) > 0  # March is closed and rolled up
    late = [
        *women(2, seed=12, day="2026-03-04"),
        {**row(DECLINE, "OLD-3"), "consent_date": "2026-03-27"},
    ]
    assert run(world, late).count(backfill.ACCEPTED) == 3
    figures = march_2026(world)
    overall = figures["overall"]["all"]
    assert (overall.consented, overall.declined) == (5, 2)
    assert (figures["month"]["2026-03"].consented, figures["month"]["2026-03"].declined) == (5, 2)
    assert sum(a.consented for a in figures["language"].values()) == 5
    assert sum(a.declined for a in figures["age_band"].values()) == 2
    with session_scope(world.engine) as s:
        roll_up(s)  # the day after the last rolled one (27 March) is rolled now
    assert march_2026(world) == figures


def _waiting_for_the_roll_up(engine) -> bool:
    with Session(engine) as s:
        query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return s.execute(query).scalar() > 0


def test_a_backfill_waits_for_a_roll_up_under_way_and_counts_exactly(world):
    """On PostgreSQL (SQLite takes the write lock at the start of every transaction): a
    roll-up counting a day has not committed when a backfill dates records into it; the
    backfill waits, then recounts the day the roll-up wrote."""
    if world.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises every transaction")
    run(world, women(3, seed=21, day="2026-03-04"))
    done = []
    with session_scope(world.engine) as rolling:
        assert roll_up(rolling) > 0  # holds the roll-up lock until it commits
        late = threading.Thread(
            target=lambda: done.append(run(world, women(2, seed=22, day="2026-03-04")))
        )
        late.start()
        while late.is_alive() and not _waiting_for_the_roll_up(world.engine):
            late.join(0.05)
    late.join()
    assert done[0].count(backfill.ACCEPTED) == 2
    assert march_2026(world)["overall"]["all"].consented == 5
