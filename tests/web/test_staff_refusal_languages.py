"""Refusals on the staff pages (users, sites, account, audit) read in the UI language, with
the values they name (a username, a site code, a token number, an event) kept as typed;
the API docs page is in the UI language too. The CLI and the API keep the English."""

import re

import pytest
from sqlalchemy import text

from cohort import audit, i18n, sites
from cohort.auth import tokens, users
from cohort.db import session_scope
from cohort.web import ui_language
from cohort.web.pages import SERVICE_NAME, sentence
from tests.catalogs import compiled, served_from  # noqa: F401 (fixtures)
from tests.web.conftest import csrf_of, ensure_site, sign_in

pytestmark = pytest.mark.usefixtures("served_from")


@pytest.fixture
def db_url(tmp_path) -> str:
    """Page language does not depend on the backend: SQLite."""
    return f"sqlite:///{tmp_path / 'cohort.db'}"


def in_language(client, code: str) -> None:
    client.cookies.set(ui_language.COOKIE, code)


def translated(code: str, template: str, /, **params: object) -> str:
    """The refusal as a page writes it: translated, values in, first letter capital."""
    assert i18n.gettext(code)(template) != template, f"no {code} translation of {template!r}"
    return sentence(i18n.Message(template, params).translated(i18n.gettext(code)))


def field_error(html: str, field: str) -> str:
    found = re.search(rf'id="{field}-error"\s*>\s*<span[^>]*>[^<]*</span>\s*(.*?)\s*<', html)
    return found.group(1)


@pytest.fixture
def admin(client, make_user, instance) -> str:
    make_user("ada", "admin")
    with session_scope(instance.engine) as db:
        ensure_site(db)
    return sign_in(client, "ada")


def test_a_taken_username_is_refused_in_polish_naming_the_username(client, admin, make_user):
    make_user("mia", "midwife")
    in_language(client, "pl")
    form = {"username": "mia", "full_name": "Mia Two", "role": "midwife", "site": "RAE"}
    refused = client.post("/admin/users", data={**form, "password": "x" * 12, "csrf_token": admin})
    assert refused.status_code == 409
    assert field_error(refused.text, "username") == translated(
        "pl", users.USERNAME_TAKEN, username="mia"
    )


def test_a_role_given_the_wrong_scope_is_refused_in_urdu_naming_the_role(client, admin):
    in_language(client, "ur")
    form = {"username": "dora", "full_name": "Dora", "role": "data_manager", "site": "RAE"}
    refused = client.post("/admin/users", data={**form, "password": "x" * 12, "csrf_token": admin})
    assert refused.status_code == 400
    assert field_error(refused.text, "site") == translated(
        "ur", users.NO_SITE_WANTED, role="data_manager"
    )


def test_disabling_her_own_account_is_refused_in_polish(client, admin):
    in_language(client, "pl")
    refused = client.post("/admin/users/ada/disable", data={"csrf_token": admin})
    assert refused.status_code == 400
    assert translated("pl", users.NOT_YOURSELF) in refused.text


def test_a_duplicate_site_code_is_refused_in_urdu_naming_the_code(client, admin):
    in_language(client, "ur")
    refused = client.post(
        "/admin/sites", data={"code": "rae", "name": "Again", "csrf_token": admin}
    )
    assert refused.status_code == 409
    assert field_error(refused.text, "code") == translated("ur", sites.CODE_TAKEN, code="RAE")
    assert 'value="Again"' in refused.text  # what she typed is kept


def test_account_refusals_read_in_polish_with_the_token_number(client, admin):
    in_language(client, "pl")
    unlabelled = client.post("/account/tokens", data={"label": " ", "csrf_token": admin})
    assert unlabelled.status_code == 400
    assert field_error(unlabelled.text, "label") == translated("pl", tokens.NO_LABEL)
    unknown = client.post("/account/tokens/4321/revoke", data={"csrf_token": admin})
    assert unknown.status_code == 404
    assert translated("pl", tokens.NO_SUCH_TOKEN, number=4321) in unknown.text


def test_a_wrong_current_password_is_refused_in_urdu(client, admin):
    in_language(client, "ur")
    refused = client.post(
        "/account/password",
        data={"current_password": "not it", "new_password": "y" * 12, "csrf_token": admin},
    )
    assert refused.status_code == 400
    assert field_error(refused.text, "current_password") == translated(
        "ur", users.WRONG_CURRENT_PASSWORD
    )


def test_the_api_keeps_the_english_with_the_value(client, admin):
    refused = client.post(
        "/api/v1/sites",
        json={"code": "RAE", "name": "Again"},
        headers={"X-CSRF-Token": admin},
    )
    assert refused.status_code == 409
    assert refused.json() == {"detail": "a site with code RAE already exists", "field": "code"}


def test_a_broken_audit_chain_gives_its_reason_in_urdu(client, make_user, instance):
    make_user("gina", "governance")
    sign_in(client, "gina")
    with instance.engine.begin() as conn:
        conn.execute(text("UPDATE auditevent SET actor = 'mallory' WHERE seq = 1"))
    in_language(client, "ur")
    page = re.sub(r"\s+", " ", client.get("/governance/audit?check=true").text)
    assert i18n.gettext("ur")(audit.ALTERED) in page
    assert audit.ALTERED not in page


def test_the_api_docs_page_reads_in_urdu_right_to_left(client):
    in_language(client, "ur")
    page = re.sub(r"\s+", " ", client.get("/api/v1/docs").text)
    assert '<html lang="ur" dir="rtl">' in page
    title = translated(
        "ur", "%(title)s \N{EN DASH} API documentation", title=i18n.gettext("ur")(SERVICE_NAME)
    )
    assert f"<title>{title}</title>" in page


def test_a_refused_sign_in_reads_in_urdu_with_the_minutes_to_wait(client, instance):
    in_language(client, "ur")
    csrf = csrf_of(client.get("/login").text)
    refused = client.post(
        "/login", data={"username": "nobody", "password": "wrong", "csrf_token": csrf}
    )
    assert refused.status_code == 401
    expected = users.LoginFailed(instance.settings).text
    assert field_error(refused.text, "username") == translated(
        "ur", expected.template, **expected.params
    )
