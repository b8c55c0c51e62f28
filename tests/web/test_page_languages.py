"""Every kind of page speaks the staff member's UI language, chrome and all: the heading,
the header (service name, menu, sign out), the skip link and the footer, right to left for
Urdu; messages after an action and refusals beside a field are translated too. Served
from the shipped catalogs, so these read the translations as committed."""

import re

import pytest
from fastapi.testclient import TestClient

from cohort import i18n
from cohort.db import session_scope
from cohort.web import ui_language
from cohort.web.pages import ROLE_LABELS
from tests.catalogs import compiled, served_from  # noqa: F401 (fixtures)
from tests.web.conftest import csrf_of, ensure_site, sign_in

pytestmark = pytest.mark.usefixtures("served_from")


def urdu(text: str) -> str:
    return i18n.gettext("ur")(text)


def polish(text: str) -> str:
    return i18n.gettext("pl")(text)


@pytest.fixture
def db_url(tmp_path) -> str:
    """Page language does not depend on the backend: SQLite."""
    return f"sqlite:///{tmp_path / 'cohort.db'}"


def flat(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def heading(html: str) -> str:
    return re.search(r"<h1[^>]*>\s*(.*?)\s*</h1>", html, re.S).group(1)


def in_language(client: TestClient, code: str) -> None:
    client.cookies.set(ui_language.COOKIE, code)


def test_the_sign_in_page_reads_in_urdu_right_to_left(client):
    in_language(client, "ur")
    page = flat(client.get("/login").text)
    assert '<html lang="ur" dir="rtl">' in page
    assert heading(page) == "سائن ان کریں"
    assert re.search(r'<button[^>]*type="submit"[^>]*>\s*سائن ان کریں\s*</button>', page)
    assert "صارف نام" in page and "پاس ورڈ" in page  # username, password labels
    assert "<title>سائن ان کریں \N{EN DASH} برتھ کوہورٹ</title>" in page
    assert "مرکزی مواد پر جائیں" in page  # skip link
    assert "NHS برتھ کوہورٹ پلیٹ فارم" in page  # footer
    assert "Sign in" not in page


# role, page, its heading (English)
PAGES = [
    ("admin", "/", None),
    ("admin", "/admin/users", "Users"),
    ("admin", "/admin/sites", "Sites"),
    ("admin", "/account", "Your account"),
    ("governance", "/governance/audit", "Audit trail"),
    ("data_manager", "/instruments", "Instrument dictionaries"),
]
CHROME = ["Birth cohort", "Skip to main content", "NHS birth cohort platform"]
SIGNED_IN_CHROME = ["Home", "Sign out", "Change language"]


@pytest.mark.parametrize(("role", "path", "title"), PAGES, ids=[p[1] for p in PAGES])
def test_each_kind_of_page_reads_in_urdu_with_its_chrome(client, make_user, role, path, title):
    make_user("ada", role, full_name="Ada Example")
    sign_in(client, "ada")
    in_language(client, "ur")
    page = flat(client.get(path).text)
    assert '<html lang="ur" dir="rtl">' in page
    assert heading(page) == (urdu(title) if title else "Ada Example")
    for chrome in CHROME + SIGNED_IN_CHROME:
        assert urdu(chrome) in page and urdu(chrome) != chrome, chrome
    assert f"Ada Example ({urdu(ROLE_LABELS[role])})" in page  # who is signed in


def test_a_page_that_does_not_exist_says_so_in_urdu(client):
    in_language(client, "ur")
    page = flat(client.get("/no-such-page").text)
    assert '<html lang="ur" dir="rtl">' in page
    assert heading(page) == urdu("Page not found") != "Page not found"
    assert urdu("if you typed the web address, check it is correct") in page
    assert all(urdu(chrome) in page for chrome in CHROME)
    assert urdu("Go to the home page") in page


def test_the_home_page_offers_her_pages_in_her_language(client, make_user):
    make_user("ada", "admin", full_name="Ada Example")
    sign_in(client, "ada")
    in_language(client, "pl")
    page = flat(client.get("/").text)
    assert "Zalogowano jako ada (Administrator)." in page
    assert ">Zarządzaj użytkownikami</a>" in page and ">Zarządzaj ośrodkami</a>" in page
    assert "Położna" in page  # the midwife's row of the role table


def test_messages_after_an_action_are_in_the_ui_language(client, make_user, instance):
    make_user("ada")
    with session_scope(instance.engine) as db:
        ensure_site(db)
    csrf = sign_in(client, "ada")
    in_language(client, "pl")
    form = {"username": "mia", "full_name": "Mia Midwife", "role": "midwife", "site": "RAE"}
    added = client.post("/admin/users", data={**form, "password": "x" * 12, "csrf_token": csrf})
    assert "Dodano użytkownika mia." in added.text
    site = client.post(
        "/admin/sites", data={"code": "aire", "name": "Airedale", "csrf_token": csrf}
    )
    assert "Dodano ośrodek AIRE (Airedale)" in site.text
    assert polish("Success") in site.text


def test_an_expired_sign_in_form_is_explained_in_urdu_beside_the_field(client):
    in_language(client, "ur")
    client.get("/login")
    refused = client.post("/login", data={"username": "ada", "password": "x", "csrf_token": "old"})
    assert refused.status_code == 403
    assert urdu("the sign-in form had expired: please sign in again") in refused.text


def test_a_malformed_dictionary_is_refused_in_polish_beside_the_file_field(client, make_user):
    make_user("dora", "data_manager")
    csrf = sign_in(client, "dora")
    in_language(client, "pl")
    bad = b"field_name,form_name,field_type,field_label\nok,babi_consent,nonsense,Label\n"
    response = client.post(
        "/instruments",
        data={"csrf_token": csrf, "version": "9"},
        files={"file": ("dictionary.csv", bad, "text/csv")},
    )
    assert response.status_code == 400
    error = re.search(r'id="file-error"\s*>\s*<span[^>]*>[^<]*</span>(.*?)\s*<', response.text)
    assert error.group(1).startswith(
        "Wiersz 2, kolumna „field_type”: nieznany typ pola &#34;nonsense&#34;: użyj jednego z:"
    )
    summary = re.search(r'nhsuk-error-summary__list[^"]*"(.*?)</ul>', response.text, re.S)
    assert "nieznany typ pola" in summary.group(1) and "unknown field type" not in summary.group(1)


def test_the_last_resort_error_page_speaks_urdu_too(app):
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("internals")

    client = TestClient(app, raise_server_exceptions=False)
    in_language(client, "ur")
    page = client.get("/boom")
    assert page.status_code == 500
    assert '<html lang="ur" dir="rtl">' in page.text
    assert urdu("Sorry, there is a problem with the service") in page.text
    assert "internals" not in page.text


def test_an_unknown_language_cookie_reads_as_english(client):
    client.cookies.set(ui_language.COOKIE, "xx")
    page = flat(client.get("/login").text)
    assert '<html lang="en" dir="ltr">' in page and heading(page) == "Sign in"
    assert csrf_of(page)


def test_dates_on_staff_pages_are_written_the_locale_way(client, make_user):
    make_user("dora", "data_manager")
    sign_in(client, "dora")
    in_language(client, "ro")
    page = client.get("/instruments").text
    published = re.search(r"<td[^>]*>([^<]*\d{4}[^<]*)</td>", page).group(1)
    assert re.fullmatch(r"\d{1,2} [a-zăîâșț]+\.? \d{4}, \d{2}:\d{2}:\d{2}", published), published


def test_the_find_a_participant_page_reads_in_urdu(client, make_user):
    make_user("dora", "data_manager")
    sign_in(client, "dora")
    in_language(client, "ur")
    page = flat(client.get("/participants/find").text)
    assert heading(page) == "شریک تلاش کریں"
    assert re.search(r"<button[^>]*>\s*تلاش کریں\s*</button>", page)


def test_a_page_her_role_does_not_serve_says_so_in_urdu(client, make_user):
    make_user("ada", "admin", full_name="Ada Example")
    sign_in(client, "ada")
    in_language(client, "ur")
    refused = flat(client.get("/consents/new").text)
    assert urdu("your role (%(role)s) cannot use this page") % {"role": "admin"} in refused
