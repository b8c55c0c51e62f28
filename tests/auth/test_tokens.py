"""API tokens: shown once, stored as a hash, revocable, dead with their user."""

import hashlib

import pytest
from sqlmodel import select

from cohort.auth import tokens, users
from cohort.errors import CohortError, NotFound
from cohort.i18n import Message
from cohort.models import ApiToken, AuditEvent


def test_issued_token_finds_its_user_and_only_its_hash_is_stored(db, make_user):
    ada = make_user("ada")
    token = tokens.issue_token(db, ada, "nightly extract", actor="ada")
    assert tokens.user_for_token(db, token) is ada
    (row,) = db.exec(select(ApiToken)).all()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str([e.detail for e in db.exec(select(AuditEvent)).all()])


def test_unknown_token_finds_nobody(db, make_user):
    tokens.issue_token(db, make_user("ada"), "job", actor="ada")
    assert tokens.user_for_token(db, "cohort_not-a-real-token") is None


def test_issue_and_revoke_each_bump_the_session_version(db, make_user):
    ada = make_user("ada")
    token = tokens.issue_token(db, ada, "job", actor="ada")
    assert ada.session_version == 2
    (row,) = tokens.list_tokens(db, ada)
    tokens.revoke_token(db, ada, row.id, actor="ada")
    assert ada.session_version == 3
    assert tokens.user_for_token(db, token) is None
    assert tokens.list_tokens(db, ada) == []


def test_a_user_cannot_revoke_someone_elses_token(db, make_user):
    ada, bob = make_user("ada"), make_user("bob")
    tokens.issue_token(db, bob, "job", actor="bob")
    (row,) = tokens.list_tokens(db, bob)
    with pytest.raises(NotFound):
        tokens.revoke_token(db, ada, row.id, actor="ada")


def test_a_disabled_users_tokens_stop_working(db, make_user):
    make_user("ada")
    bob = make_user("bob", "data_manager")
    token = tokens.issue_token(db, bob, "job", actor="bob")
    users.disable_user(db, "bob", actor="ada")
    assert tokens.user_for_token(db, token) is None
    with pytest.raises(CohortError, match="disabled"):
        tokens.issue_token(db, bob, "another", actor="cli")


def test_label_is_required(db, make_user):
    with pytest.raises(CohortError) as exc:
        tokens.issue_token(db, make_user("ada"), "  ", actor="ada")
    assert exc.value.field == "label"


def test_an_unknown_token_number_is_refused_with_the_number_kept_apart(db, make_user):
    with pytest.raises(NotFound) as exc:
        tokens.revoke_token(db, make_user("ada"), 4321, actor="ada")
    assert exc.value.text == Message(tokens.NO_SUCH_TOKEN, {"number": 4321})
    assert exc.value.message == "you have no working API token number 4321"
