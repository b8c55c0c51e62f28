"""Sign-ins, identity views, extracts and downloads from the audit trail, and the chain
check kept in it."""

from datetime import date

from sqlmodel import Session

from cohort import audit
from cohort.db import session_scope
from cohort.governance import access
from cohort.models import Participant
from tests.governance.seed import NETWORK, at, consents, period, rows_of


def all_time(site=None):
    return period(date(2000, 1, 1), date(2100, 1, 1), site)


ALL_TIME = all_time()


def test_sign_ins_by_user_and_month_and_for_a_site_its_staff(net):
    anna, cara = net.anna.username, net.cara.username
    with session_scope(net.engine) as s:
        for actor in (anna, anna, cara, "admin"):
            audit.record(s, actor=actor, action="login")
        audit.record(s, actor=anna, action="logout")
    with Session(net.engine) as s:
        network = rows_of(access.logins(s, ALL_TIME, NETWORK))
        site_a = rows_of(access.logins(s, all_time(net.a), NETWORK))
    month = date.today().strftime("%Y-%m")
    assert network == {
        f"{month} · admin": (1,),
        f"{month} · {anna}": (2,),
        f"{month} · {cara}": (1,),
    }
    assert site_a == {f"{month} · {anna}": (2,)}


def test_identity_views_for_a_site_are_of_its_participants(net):
    ids = consents(net.engine, 1, site=net.a, by=net.anna, when=at(3, 1))
    other = consents(net.engine, 1, site=net.b, by=net.cara, when=at(3, 1))
    with session_scope(net.engine) as s:
        for pid in (*ids, *other):
            study_id = s.get(Participant, pid).study_id
            audit.record(s, actor="dm", action="identity.view", participant=study_id)
    with Session(net.engine) as s:
        everywhere = rows_of(access.identity_views(s, ALL_TIME, NETWORK))
        at_a = rows_of(access.identity_views(s, all_time(net.a), NETWORK))
    month = date.today().strftime("%Y-%m")
    assert everywhere == {f"{month} · dm": (2,)}
    assert at_a == {f"{month} · dm": (1,)}


def test_extracts_and_downloads_by_project_and_researcher_whatever_the_site(net):
    with session_scope(net.engine) as s:
        for actor, action, project in (
            ("rita", "research.extract", "P-ONE"),
            ("rita", "research.download", "P-ONE"),
            ("rita", "research.download", "P-ONE"),
            ("sam", "research.download", "P-ONE"),
            ("rita", "research.extract", "P-TWO"),
            ("rita", "research.query", "P-TWO"),  # a question, not an extract
        ):
            audit.record(s, actor=actor, action=action, project=project)
    with Session(net.engine) as s:
        everywhere = access.research(s, ALL_TIME, NETWORK)
        at_a = access.research(s, all_time(net.a), NETWORK)
        before = access.research(s, period(date(2000, 1, 1), date(2000, 12, 31)), NETWORK)
    assert everywhere.columns[1:] == ("Extracts", "Downloads")
    assert rows_of(everywhere) == {
        "P-ONE · rita": (1, 2),
        "P-ONE · sam": (0, 1),
        "P-TWO · rita": (1, 0),
    }
    assert rows_of(at_a) == rows_of(everywhere)
    assert rows_of(before) == {}


def test_a_chain_check_is_kept_in_the_chain_and_the_latest_is_shown(net):
    with Session(net.engine) as s:
        assert access.latest_check(s) is None
    with session_scope(net.engine) as s:
        audit.record(s, actor="anna", action="login")
    with session_scope(net.engine) as s:
        verdict = access.check_chain(s, actor="nia")
    assert verdict.ok
    with Session(net.engine) as s:
        latest = access.latest_check(s)
        assert audit.verify(s).ok  # the check's own event keeps the chain whole
    assert (latest.by, latest.intact, latest.events) == ("nia", True, 1)
