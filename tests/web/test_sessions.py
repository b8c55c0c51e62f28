"""Sign-in, session cookies and CSRF, through the login form as a browser uses it; and
the server's record of each signed-in session, which sign-out revokes."""

import hashlib
import re
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeSerializer
from sqlalchemy import event
from sqlmodel import select

from cohort.auth import passwords, users
from cohort.db import session_scope
from cohort.models import AuditEvent, WebSession
from cohort.web.app import create_app
from cohort.web.sessions import (
    COOKIE,
    IDLE_TIMEOUT_S,
    REFRESH_AFTER_S,
    SALT,
    BrowserSession,
    signed_in_user,
)
from tests.web.conftest import PASSWORD, csrf_of, sign_in


def _login(client, username, password, csrf=None, **extra):
    csrf = csrf or csrf_of(client.get("/login").text)
    data = {"username": username, "password": password, "csrf_token": csrf, **extra}
    return client.post("/login", data=data, follow_redirects=False)


def _error_text(response) -> str:
    found = re.search(r'nhsuk-error-summary__list".*?<a[^>]*>\s*(.*?)\s*</a>', response.text, re.S)
    assert found, response.text
    return found.group(1)


def _events(instance, action):
    with session_scope(instance.engine) as db:
        return db.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_sign_in_sets_a_strict_httponly_cookie_and_audits(client, make_user, instance):
    make_user("ada")
    response = _login(client, "ada", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert client.get("/api/v1/me").json()["username"] == "ada"
    (event,) = _events(instance, "login")
    assert event.actor == "ada" and event.source == "testclient"


def test_cookie_is_secure_over_https_or_when_configured(app, make_user, instance):
    make_user("ada")
    over_https = TestClient(app, base_url="https://testserver")
    assert "Secure" in _login(over_https, "ada", PASSWORD).headers["set-cookie"]
    instance.settings.secure_cookies = True
    assert "Secure" in _login(TestClient(app), "ada", PASSWORD).headers["set-cookie"]


def test_unknown_user_and_wrong_password_look_the_same(client, make_user, instance):
    make_user("ada")
    unknown = _login(client, "nobody", PASSWORD)
    wrong = _login(client, "ada", "not the password")
    assert unknown.status_code == wrong.status_code == 401
    assert _error_text(unknown) == _error_text(wrong)
    assert client.get("/api/v1/me").status_code == 401
    failed = _events(instance, "login.failed")
    assert [e.detail["username"] for e in failed] == ["nobody", "ada"]
    assert all("not the password" not in str(e.detail) for e in failed)


def test_lockout_after_repeated_failures(client, make_user, instance):
    make_user("ada")
    for _ in range(instance.settings.login_max_failures):
        assert _login(client, "ada", "not the password").status_code == 401
    locked = _login(client, "ada", PASSWORD)
    assert locked.status_code == 401
    assert _error_text(locked) == _error_text(_login(client, "nobody", PASSWORD))
    assert len(_events(instance, "user.locked")) == 1


def test_sign_in_form_without_its_csrf_token_is_refused(client, make_user):
    make_user("ada")
    client.get("/login")
    response = _login(client, "ada", PASSWORD, csrf="forged")
    assert response.status_code == 403
    assert client.get("/api/v1/me").status_code == 401


def test_sign_in_starts_a_new_session_id(client, make_user):
    make_user("ada")
    before = csrf_of(client.get("/login").text)
    _login(client, "ada", PASSWORD, csrf=before)
    after = csrf_of(client.get("/account").text)
    assert after != before
    refused = client.post("/account/tokens", data={"label": "x", "csrf_token": before})
    assert refused.status_code == 403


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "\\\\evil"])
def test_sign_in_only_returns_to_this_site(client, make_user, target):
    make_user("ada")
    response = _login(client, "ada", PASSWORD, next=target)
    assert response.headers["location"] == "/"


def test_sign_in_returns_to_the_page_asked_for(client, make_user):
    make_user("ada")
    asked = client.get("/admin/users")
    assert asked.status_code == 401 and 'value="/admin/users"' in asked.text
    response = _login(client, "ada", PASSWORD, csrf=csrf_of(asked.text), next="/admin/users")
    assert response.headers["location"] == "/admin/users"


def test_password_change_ends_other_sessions_but_keeps_this_one(app, make_user):
    make_user("ada")
    here, elsewhere = TestClient(app), TestClient(app)
    csrf = sign_in(here, "ada")
    sign_in(elsewhere, "ada")
    changed = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "csrf_token": csrf,
        },
    )
    assert changed.status_code == 200 and "Password changed" in changed.text
    assert here.get("/api/v1/me").status_code == 200
    assert elsewhere.get("/api/v1/me").status_code == 401
    assert _login(TestClient(app), "ada", "a brand new passphrase").status_code == 303


def test_password_change_by_the_service_ends_every_session(client, make_user, instance):
    make_user("ada")
    sign_in(client, "ada")
    with session_scope(instance.engine) as db:
        users.set_password(db, users.get_user(db, "ada"), "another new passphrase", actor="cli")
    assert client.get("/").status_code == 401


def test_disabling_a_user_ends_her_sessions(client, make_user, instance):
    make_user("ada")
    make_user("bob", "data_manager")
    sign_in(client, "bob")
    with session_scope(instance.engine) as db:
        users.disable_user(db, "bob", actor="ada")
    assert client.get("/api/v1/me").status_code == 401


def test_a_tampered_cookie_is_no_session(client, make_user):
    make_user("ada")
    sign_in(client, "ada")
    value = client.cookies[COOKIE]
    client.cookies.set(COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/api/v1/me").status_code == 401


def test_sessions_expire_after_the_maximum_age(client, make_user, instance):
    make_user("ada")
    sign_in(client, "ada")
    instance.settings.session_max_age_s = -1
    assert client.get("/api/v1/me").status_code == 401


def test_sign_out_clears_the_cookie_and_is_audited(client, make_user, instance):
    make_user("ada")
    csrf = sign_in(client, "ada")
    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/api/v1/me").status_code == 401
    assert [e.actor for e in _events(instance, "logout")] == ["ada"]


def test_the_app_opens_its_own_instance_when_given_none(instance, monkeypatch):
    monkeypatch.setenv("COHORT_DATA_DIR", str(instance.settings.data_dir))
    monkeypatch.setenv("COHORT_DATABASE_URL", instance.settings.db_url)
    with TestClient(create_app()) as client:
        assert client.get("/api/v1/health").json() == {"status": "ok"}


def _web_sessions(instance) -> list[WebSession]:
    with session_scope(instance.engine) as db:
        return db.exec(select(WebSession)).all()


def _cookie(instance, client) -> dict:
    return URLSafeSerializer(instance.keys.session, salt=SALT).loads(client.cookies[COOKIE])


def _last_used(instance, client, seconds_ago: int) -> None:
    """Rewrite the browser's cookie (signed with the real key) as last used that long ago."""
    cookie = {**_cookie(instance, client), "seen": int(time.time()) - seconds_ago}
    signed = URLSafeSerializer(instance.keys.session, salt=SALT).dumps(cookie)
    (jar_cookie,) = client.cookies.jar
    client.cookies.set(COOKIE, signed, domain=jar_cookie.domain)


def test_a_stolen_copy_of_the_cookie_is_dead_after_sign_out(app, client, make_user):
    make_user("ada")
    csrf = sign_in(client, "ada")
    thief = TestClient(app, cookies={COOKIE: client.cookies[COOKIE]})
    assert thief.get("/api/v1/me").status_code == 200
    client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert thief.get("/api/v1/me").status_code == 401


def test_signing_out_in_one_browser_leaves_the_others_signed_in(app, make_user, instance):
    make_user("ada")
    here, elsewhere = TestClient(app), TestClient(app)
    csrf = sign_in(here, "ada")
    sign_in(elsewhere, "ada")
    here.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert elsewhere.get("/api/v1/me").status_code == 200
    assert len(_web_sessions(instance)) == 1


def test_the_server_keeps_only_a_hash_of_the_session_id(client, make_user, instance):
    make_user("ada")
    sign_in(client, "ada")
    (row,) = _web_sessions(instance)
    sid = _cookie(instance, client)["sid"]
    assert row.id_hash == hashlib.sha256(sid.encode()).hexdigest() != sid


def test_a_session_unused_for_an_hour_ends(client, make_user, instance):
    make_user("ada")
    sign_in(client, "ada")
    _last_used(instance, client, IDLE_TIMEOUT_S + 1)
    assert client.get("/api/v1/me").status_code == 401


def test_using_a_session_keeps_it_alive_refreshing_the_cookie_at_most_once_a_minute(
    client, make_user, instance
):
    make_user("ada")
    sign_in(client, "ada")
    _last_used(instance, client, 10)
    assert "set-cookie" not in client.get("/api/v1/me").headers
    _last_used(instance, client, IDLE_TIMEOUT_S - 10)
    response = client.get("/api/v1/me")
    assert response.status_code == 200 and COOKIE in response.headers["set-cookie"]
    assert time.time() - _cookie(instance, client)["seen"] < 10


def test_signing_out_does_not_refresh_the_cookie_it_clears(client, make_user, instance):
    make_user("ada")
    csrf = sign_in(client, "ada")
    _last_used(instance, client, REFRESH_AFTER_S + 1)
    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    (cookie,) = [c for c in response.headers.get_list("set-cookie") if c.startswith(COOKIE)]
    assert "Max-Age=0" in cookie


def test_signing_in_forgets_sessions_past_the_maximum_age(app, make_user, instance):
    make_user("ada")
    sign_in(TestClient(app), "ada")
    with session_scope(instance.engine) as db:
        (old,) = db.exec(select(WebSession)).all()
        old.started_at -= timedelta(seconds=instance.settings.session_max_age_s + 1)
        db.add(old)
    sign_in(TestClient(app), "ada")
    assert len(_web_sessions(instance)) == 1


def test_a_password_change_removes_the_other_sessions_rows(app, make_user, instance):
    make_user("ada")
    here = TestClient(app)
    csrf = sign_in(here, "ada")
    sign_in(TestClient(app), "ada")
    here.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "a new passphrase", "csrf_token": csrf},
    )
    assert len(_web_sessions(instance)) == 1
    assert here.get("/api/v1/me").status_code == 200


def test_finding_the_signed_in_user_is_one_query_and_no_write(client, make_user, instance):
    make_user("ada")
    sign_in(client, "ada")
    browser_session = BrowserSession(**_cookie(instance, client))
    statements = []

    def count(_conn, _cursor, statement, *_):
        statements.append(statement.lstrip().split()[0].upper())

    event.listen(instance.engine, "before_cursor_execute", count)
    try:
        with session_scope(instance.engine) as db:
            assert signed_in_user(db, browser_session).username == "ada"
    finally:
        event.remove(instance.engine, "before_cursor_execute", count)
    assert statements.count("SELECT") == 1
    assert not {"UPDATE", "INSERT", "DELETE"} & set(statements)


@pytest.mark.parametrize(
    ("username", "password"),
    [("nobody", PASSWORD), ("ada", "not the password"), ("ada", PASSWORD)],
    ids=["unknown user", "wrong password", "right password"],
)
def test_every_sign_in_costs_one_password_verification(
    client, make_user, monkeypatch, username, password
):
    """The same work whether the username exists or not, so timing tells nothing."""
    make_user("ada")
    verified = []
    real = passwords.verify

    def counted(password_hash: str, attempt: str) -> bool:
        verified.append(attempt)
        return real(password_hash, attempt)

    monkeypatch.setattr(passwords, "verify", counted)
    _login(client, username, password)
    assert verified == [password]
