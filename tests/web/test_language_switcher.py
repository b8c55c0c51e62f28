"""The UI language switcher: on every page, signed in or not. A visitor chooses hers on the
sign-in page and it comes back in that language, still on its way to the page she asked
for; the switch only sets a cookie, but the form must still come from this service."""

import re

import pytest
from fastapi.testclient import TestClient

from cohort.web import ui_language
from tests.catalogs import compiled, served_from  # noqa: F401 (fixtures)
from tests.web.conftest import csrf_of, sign_in

pytestmark = pytest.mark.usefixtures("served_from")


@pytest.fixture
def db_url(tmp_path) -> str:
    """The switcher keeps nothing in the database: SQLite."""
    return f"sqlite:///{tmp_path / 'cohort.db'}"


def switcher(html: str) -> str:
    return re.search(r'<form[^>]*action="/language".*?</form>', html, re.S).group(0)


def switch(client: TestClient, code: str, csrf: str, next_page: str):
    return client.post(
        "/language",
        data={"ui_language": code, "next": next_page, "csrf_token": csrf},
        follow_redirects=False,
    )


def test_a_visitor_chooses_urdu_on_the_sign_in_page_and_it_reads_right_to_left(client):
    page = client.get("/login?next=/consents/new").text
    form = switcher(page)
    assert 'name="next" value="/login?next=/consents/new"' in form
    assert '<option value="ur"' in form and "اردو" in form

    switched = switch(client, "ur", csrf_of(form), "/login?next=/consents/new")
    assert switched.status_code == 303
    assert switched.headers["location"] == "/login?next=/consents/new"
    again = client.get(switched.headers["location"]).text
    assert re.search(r'<html lang="ur"\s+dir="rtl">', again)
    assert "سائن ان کریں" in again  # "Sign in"
    assert 'name="next" value="/consents/new"' in again  # still on her way there
    assert re.search(r'<option value="ur" selected', again)


def test_the_switch_refuses_a_form_not_sent_from_this_service(client):
    client.get("/login")
    for csrf in ("", "forged"):
        refused = switch(client, "ur", csrf, "/login")
        assert refused.status_code == 403
        assert ui_language.COOKIE not in refused.cookies


def test_the_switch_refuses_without_a_session_at_all(app):
    refused = switch(TestClient(app), "ur", "anything", "/login")
    assert refused.status_code == 403


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil"])
def test_the_switch_only_returns_to_this_site(client, target):
    csrf = csrf_of(client.get("/login").text)
    assert switch(client, "pl", csrf, target).headers["location"] == "/"


def test_an_unknown_language_is_refused_and_nothing_is_remembered(client):
    csrf = csrf_of(client.get("/login").text)
    refused = switch(client, "xx", csrf, "/login")
    assert refused.status_code == 400
    assert ui_language.COOKIE not in refused.cookies


def test_a_signed_in_user_switches_from_any_page(client, make_user):
    make_user("ada")
    csrf = sign_in(client, "ada")
    form = switcher(client.get("/admin/sites").text)
    assert 'name="next" value="/admin/sites"' in form
    switched = switch(client, "pl", csrf, "/admin/sites")
    assert switched.headers["location"] == "/admin/sites"
    assert '<html lang="pl" dir="ltr">' in re.sub(r"\s+", " ", client.get("/admin/sites").text)


def test_a_page_shown_after_a_form_comes_back_to_a_page_not_to_the_form(client, make_user):
    make_user("ada")
    csrf = sign_in(client, "ada")
    refused = client.post("/admin/users/ada/disable", data={"csrf_token": csrf})
    assert 'name="next" value="/admin/users/ada/disable"' in switcher(refused.text)
    switched = switch(client, "pl", csrf, "/admin/users/ada/disable")
    assert switched.headers["location"] == "/"  # only a form posts to that address
    kept = switch(client, "pl", csrf, "/admin/users?sort=name")
    assert kept.headers["location"] == "/admin/users?sort=name"
