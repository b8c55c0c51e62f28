"""Accounts: role rules, sign-in with lock-out, no user enumeration, disabling."""

import statistics
import time
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from cohort import sites
from cohort.auth import passwords, users
from cohort.db import session_scope
from cohort.errors import CohortError, Conflict, NotFound
from cohort.i18n import Message
from cohort.models import ROLES, AuditEvent, Project, User, utcnow
from tests.auth.conftest import PASSWORD


def _events(db, action):
    db.commit()  # events join the chain when their transaction commits
    return db.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


@pytest.mark.parametrize(
    ("changes", "field", "error", "words"),
    [
        ({"role": "surgeon"}, "role", CohortError, "unknown role"),
        ({"role": "midwife", "site_code": None}, "site", CohortError, "site she works at"),
        ({"role": "data_manager", "site_code": "RAE"}, "site", CohortError, "network"),
        ({"site_code": "NOPE", "role": "midwife"}, "site", NotFound, "no site"),
        ({"password": "too short"}, "password", CohortError, "at least 12"),
        ({"username": "Bad Name!"}, "username", CohortError, "username must be"),
        ({"full_name": "  "}, "full_name", CohortError, "missing"),
        ({"project_codes": ["P1"]}, "projects", CohortError, "only a researcher"),
        ({"role": "researcher", "project_codes": ["NOPE"]}, "projects", NotFound, "NOPE"),
        ({"username": "taken"}, "username", Conflict, "already taken"),
    ],
)
def test_create_user_refuses_with_a_clear_message(db, make_user, changes, field, error, words):
    sites.add_site(db, "RAE", "Bradford Royal Infirmary", "test")
    make_user("taken", "admin")
    args = {"username": "newbie", "role": "data_manager", **changes}
    with pytest.raises(error) as exc:
        make_user(args.pop("username"), args.pop("role"), **args)
    assert exc.value.field == field
    assert words in exc.value.message


def test_create_user_scopes_roles_and_audits_without_the_password(db, make_user):
    sites.add_site(db, "RAE", "Bradford Royal Infirmary", "test")
    db.add(Project(code="BIB-GROWTH", title="Growth"))
    db.flush()
    make_user("mia", "midwife", site_code="rae")
    make_user("gina", "governance")
    make_user("rita", "researcher", project_codes=["BIB-GROWTH", " "])
    listed = {u.username: u for u in users.list_users(db)}
    assert listed["mia"].site == "RAE"
    assert listed["gina"].site is None
    assert listed["rita"].projects == ("BIB-GROWTH",)
    for event in _events(db, "user.add"):
        assert PASSWORD not in str(event.detail)


def test_authenticate_accepts_the_right_password_case_insensitively(db, make_user, settings):
    make_user("ada")
    user = users.authenticate(db, " ADA ", PASSWORD, "10.0.0.1", settings)
    assert user.username == "ada"
    (event,) = _events(db, "login")
    assert event.actor == "ada" and event.source == "10.0.0.1"


def _refusal(db, settings, username, password):
    with pytest.raises(users.LoginFailed) as exc:
        users.authenticate(db, username, password, "10.0.0.1", settings)
    return exc.value


def test_every_refusal_says_the_same_thing(db, make_user, settings):
    make_user("ada")
    make_user("bob")
    users.disable_user(db, "bob", actor="ada")
    unknown = _refusal(db, settings, "nobody", PASSWORD)
    wrong = _refusal(db, settings, "ada", "wrong password!")
    disabled = _refusal(db, settings, "bob", PASSWORD)
    assert unknown.message == wrong.message == disabled.message
    assert unknown.status_code == wrong.status_code == 401


def test_failed_logins_are_audited_with_the_username_but_never_the_password(
    db, make_user, settings
):
    make_user("ada")
    _refusal(db, settings, "ada", "my secret guess")
    _refusal(db, settings, "nobody", "another secret guess")
    events = _events(db, "login.failed")
    assert [e.detail["username"] for e in events] == ["ada", "nobody"]
    assert all("secret guess" not in str(e.detail) for e in events)


def test_lockout_after_max_failures_refuses_even_the_right_password(db, make_user, settings):
    make_user("ada")
    for _ in range(settings.login_max_failures):
        _refusal(db, settings, "ada", "wrong password!")
    locked = _refusal(db, settings, "ada", PASSWORD)
    assert locked.message == _refusal(db, settings, "nobody", PASSWORD).message
    assert len(_events(db, "user.locked")) == 1


def test_lockout_ends_after_its_time(db, make_user, settings):
    user = make_user("ada")
    for _ in range(settings.login_max_failures):
        _refusal(db, settings, "ada", "wrong password!")
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.add(user)
    db.flush()
    assert users.authenticate(db, "ada", PASSWORD, None, settings).failed_logins == 0


def test_failures_survive_the_refusal(engine, make_user, settings, db):
    """The refusal raises, yet the count and the audit event are committed."""
    make_user("ada")
    db.commit()
    with pytest.raises(users.LoginFailed), session_scope(engine) as other:
        users.authenticate(other, "ada", "wrong password!", None, settings)
    with session_scope(engine) as fresh:
        assert fresh.exec(select(User.failed_logins).where(User.username == "ada")).one() == 1
        assert len(_events(fresh, "login.failed")) == 1


def test_unknown_username_costs_about_as_long_as_a_wrong_password(db, make_user, settings):
    make_user("ada")

    def timed(username):
        start = time.perf_counter()
        _refusal(db, settings, username, "wrong password!")
        return time.perf_counter() - start

    unknown = statistics.median(timed("nobody") for _ in range(3))
    known = statistics.median(timed("ada") for _ in range(2))  # stays under the lock-out
    assert 0.5 < unknown / known < 2


def test_sign_in_rehashes_a_password_stored_with_old_parameters(db, make_user, settings):
    user = make_user("ada")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    db.add(user)
    users.authenticate(db, "ada", PASSWORD, None, settings)
    assert not passwords.needs_rehash(user.password_hash)
    assert passwords.verify(user.password_hash, PASSWORD)


def test_password_change_bumps_the_session_version(db, make_user):
    user = make_user("ada")
    before = user.session_version
    with pytest.raises(CohortError) as exc:
        users.change_own_password(db, user, "not my password", "a new long password")
    assert exc.value.field == "current_password"
    users.change_own_password(db, user, PASSWORD, "a new long password")
    assert user.session_version == before + 1
    assert passwords.verify(user.password_hash, "a new long password")


def test_disable_stops_sign_in_and_bumps_the_session_version(db, make_user, settings):
    make_user("ada")
    bob = make_user("bob", "data_manager")
    users.disable_user(db, "bob", actor="ada")
    assert not bob.active and bob.session_version == 2
    _refusal(db, settings, "bob", PASSWORD)
    assert users.disable_user(db, "bob", actor="ada") is bob  # already disabled: no change
    assert len(_events(db, "user.disable")) == 1


@pytest.mark.parametrize(
    ("target", "actor", "words"),
    [("ada", "ada", "your own account"), ("ada", "cli", "last active administrator")],
)
def test_disable_refuses_to_lock_everyone_out(db, make_user, target, actor, words):
    make_user("ada")
    with pytest.raises(CohortError, match=words):
        users.disable_user(db, target, actor=actor)


def test_disable_unknown_user_is_not_found(db):
    with pytest.raises(NotFound):
        users.disable_user(db, "ghost", actor="cli")


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"username": "taken"}, Message(users.USERNAME_TAKEN, {"username": "taken"})),
        (
            {"role": "surgeon"},
            Message(users.UNKNOWN_ROLE, {"role": "'surgeon'", "roles": ", ".join(ROLES)}),
        ),
        ({"site_code": "RAE"}, Message(users.NO_SITE_WANTED, {"role": "data_manager"})),
    ],
)
def test_a_refusal_keeps_its_values_apart_from_its_text(db, make_user, changes, refusal):
    """So a page translates the one message and puts the values in, as typed."""
    sites.add_site(db, "RAE", "Bradford Royal Infirmary", "test")
    make_user("taken", "admin")
    args = {"username": "newbie", "role": "data_manager", **changes}
    with pytest.raises(CohortError) as exc:
        make_user(args.pop("username"), args.pop("role"), **args)
    assert exc.value.text == refusal
    assert exc.value.message == str(refusal)  # the CLI and the API: English
