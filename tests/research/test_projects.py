"""Projects: registration checks what is approved, researchers come and go, and access
holds only for a researcher on the project within its approval dates."""

from datetime import timedelta

import pytest
from sqlmodel import select

from cohort.errors import CohortError, Conflict, Forbidden, NotFound
from cohort.models import AuditEvent
from cohort.research import projects
from tests.research.world import TODAY


def test_registration_is_audited_with_its_approval(research):
    research.project("PRJ-A", variables=("maternity.Parity", "consent"))
    with research.session() as s:
        project = projects.get_project(s, "prj-a")
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "project.register")).one()
    assert project.variables["maternity"] == ["Parity"]
    assert project.variables["consent"][0] == "enrolment_month"
    assert event.project == "PRJ-A" and event.detail["row_level"] is True


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "a"}, "code"),
        ({"title": "  "}, "title"),
        ({"variables": ("nosuch",)}, "variables"),
        ({"variables": ("maternity.NHS_No",)}, "variables"),
        ({"variables": ()}, "variables"),
        ({"date_granularity": "week"}, "date_granularity"),
        ({"approved_until": TODAY - timedelta(days=365)}, "approved_until"),
    ],
)
def test_bad_registrations_are_refused_by_field(research, change, field):
    with pytest.raises(CohortError) as refused:
        research.project(**change)
    assert refused.value.field == field


def test_a_code_is_registered_once(research):
    research.project("PRJ-A")
    with pytest.raises(Conflict):
        research.project("PRJ-A", members=())


def test_only_researchers_join_and_removal_ends_access(research):
    code = research.project("PRJ-A")
    with research.session() as s, pytest.raises(CohortError, match="only researchers"):
        projects.add_researcher(s, code, "dana", actor="test")
    with research.session() as s:
        assert projects.open_project(s, research.researcher, code).code == code
        projects.remove_researcher(s, code, "rita", actor="test")
    with research.session() as s, pytest.raises(Forbidden):
        projects.open_project(s, research.researcher, code)
    with research.session() as s:
        projects.add_researcher(s, code, "rita", actor="test")  # and back again
        assert projects.open_project(s, research.researcher, code)


@pytest.mark.parametrize(
    ("start", "end", "open_"),
    [(-10, 0, True), (0, 10, True), (-10, -1, False), (1, 10, False)],
)
def test_access_holds_only_within_the_approval_dates(research, start, end, open_):
    code = research.project(
        approved_from=TODAY + timedelta(days=start), approved_until=TODAY + timedelta(days=end)
    )
    with research.session() as s:
        if open_:
            assert projects.open_project(s, research.researcher, code)
        else:
            with pytest.raises(Forbidden, match="not approved today"):
                projects.open_project(s, research.researcher, code)


def test_a_researcher_not_on_a_project_is_refused(research):
    code = research.project(members=("rita",))
    with research.session() as s, pytest.raises(Forbidden):
        projects.open_project(s, research.other_researcher, code)
    with research.session() as s, pytest.raises(NotFound):
        projects.open_project(s, research.researcher, "NO-SUCH")


def edit(research, code="PRJ-A", **change):
    with research.session() as s:
        projects.edit(s, code, projects.Change(**change), actor="dana")


def test_an_edit_changes_the_approval_and_audits_before_and_after(research):
    code = research.project(variables=("consent", "maternity"), date_granularity="day")
    edit(
        research,
        approved_until=TODAY + timedelta(days=90),
        variables=("maternity.Parity",),
        date_granularity="year",
        row_level=False,
    )
    with research.session() as s:
        project = projects.get_project(s, code)
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "project.edit")).one()
    assert project.variables == {"maternity": ["Parity"]} and not project.row_level
    assert (project.approved_until, project.date_granularity) == (
        TODAY + timedelta(days=90),
        "year",
    )
    assert (event.actor, event.project) == ("dana", code)
    assert event.detail["before"]["date_granularity"] == "day"
    assert event.detail["after"] == {
        "approved_until": (TODAY + timedelta(days=90)).isoformat(),
        "variables": {"maternity": ["Parity"]},
        "date_granularity": "year",
        "row_level": False,
    }


def test_an_edit_audits_only_what_changed(research):
    research.project(row_level=True)
    edit(research, row_level=True, date_granularity="year")
    with research.session() as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "project.edit")).one()
    assert event.detail == {
        "before": {"date_granularity": "month"},
        "after": {"date_granularity": "year"},
    }


def test_ending_the_approval_early_ends_access_today(research):
    code = research.project()
    edit(research, approved_until=TODAY - timedelta(days=1))
    with research.session() as s, pytest.raises(Forbidden, match="not approved today"):
        projects.open_project(s, research.researcher, code)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"approved_until": TODAY - timedelta(days=365)}, "approved_until"),
        ({"variables": ("maternity.NHS_No",)}, "variables"),
        ({"variables": ()}, "variables"),
        ({"date_granularity": "week"}, "date_granularity"),
        ({"row_level": True}, None),  # already so: nothing to change
    ],
)
def test_bad_edits_are_refused_and_change_nothing(research, change, field):
    code = research.project()
    with pytest.raises(CohortError) as refused:
        edit(research, **change)
    assert refused.value.field == field
    with research.session() as s:
        project = projects.get_project(s, code)
        assert project.date_granularity == "month" and project.row_level
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "project.edit")).all() == []
