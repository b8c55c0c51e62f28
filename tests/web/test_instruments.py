"""Data managers publish and download instrument dictionaries, on the page and the API."""

import re

import pytest
from sqlmodel import select

from cohort.db import session_scope
from cohort.models import Instrument
from cohort.web import ui_language
from forms import registry, uploaded_translations
from tests.web.conftest import sign_in

SHIPPED = (registry.INSTRUMENTS / "babi_consent.csv").read_bytes()
MALFORMED = (
    b"field_name,form_name,field_type,field_label\n"
    b"Bad Name,babi_consent,text,Name\n"
    b"ok_field,babi_consent,nonsense,Label\n"
)


@pytest.fixture
def db_url(tmp_path) -> str:
    """Upload behaviour does not depend on the backend: SQLite."""
    return f"sqlite:///{tmp_path / 'cohort.db'}"


@pytest.fixture
def manager(client, make_user):
    make_user("dora", "data_manager")
    return sign_in(client, "dora")


def _versions(instance) -> list[tuple[str, str]]:
    with session_scope(instance.engine) as db:
        return [(i.name, i.version) for i in db.exec(select(Instrument).order_by(Instrument.id))]


def _post(client, csrf, data: bytes, version: str, filename: str = "dictionary.csv"):
    return client.post(
        "/instruments",
        data={"csrf_token": csrf, "version": version},
        files={"file": (filename, data, "text/csv")},
        follow_redirects=False,
    )


def test_a_good_dictionary_becomes_the_current_version(client, manager, instance):
    changed = SHIPPED.replace(b"\n", b"\r\n", 1)  # different bytes, same meaning
    response = _post(client, manager, changed, "1.1")
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "babi_consent version 1.1 published" in page.text
    with session_scope(instance.engine) as db:
        assert registry.current(db, "babi_consent").version == "1.1"
        assert registry.export(db, "babi_consent", "1.1").encode() == changed


def test_a_malformed_dictionary_lists_every_problem_and_stores_nothing(client, manager, instance):
    before = _versions(instance)
    response = _post(client, manager, MALFORMED, "1.1")
    assert response.status_code == 400
    summary = response.text[response.text.index("nhsuk-error-summary") :]
    assert re.search(r"Row 2, column &#34;field_name&#34;|Row 2, column \"field_name\"", summary)
    assert re.search(r"Row 3, column &#34;field_type&#34;|Row 3, column \"field_type\"", summary)
    assert _versions(instance) == before


def test_a_version_that_changes_what_consents_are_recorded_by_is_refused(client, manager, instance):
    before = _versions(instance)
    changed = SHIPPED.replace(b"16_19, 16 to 19 | 20_24", b"16_24, 16 to 24 | 20_24")
    response = _post(client, manager, changed, "1.1")
    assert response.status_code == 400
    summary = response.text[response.text.index("nhsuk-error-summary") :]
    assert "Row 14" in summary and "age_band" in summary and "answer codes" in summary
    assert _versions(instance) == before


def test_a_refused_dictionary_shows_one_error_summary(client, manager):
    response = _post(client, manager, MALFORMED, "1.1")
    assert response.text.count('class="nhsuk-error-summary"') == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"caf\xe9,field\n", "not UTF-8"),
        (b"x" * (2 * 1024 * 1024 + 1), "larger than 2 MB"),
    ],
)
def test_an_unreadable_file_is_refused(client, manager, instance, data, message):
    before = _versions(instance)
    response = _post(client, manager, data, "1.1")
    assert response.status_code == 400
    assert message in response.text
    assert _versions(instance) == before


def test_a_taken_version_is_a_conflict(client, manager, instance):
    response = _post(client, manager, SHIPPED.replace(b"\n", b"\r\n", 1), "1.0")
    assert response.status_code == 409
    assert "already published with different content" in response.text
    assert _versions(instance) == [("babi_consent", "1.0")]


def test_download_is_the_published_bytes(client, manager):
    changed = SHIPPED.replace(b"\n", b"\r\n")
    _post(client, manager, changed, "2.0")
    response = client.get("/instruments/babi_consent/2.0/dictionary.csv")
    assert response.status_code == 200
    assert response.content == changed
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="babi_consent-2.0.csv"'
    )
    assert client.get("/instruments").text.count("/dictionary.csv") == 2


@pytest.mark.parametrize(
    "path",
    [
        "/instruments/..%2F..%2Fetc/passwd/dictionary.csv",
        "/instruments/../../etc/passwd/dictionary.csv",
        "/instruments/babi_consent/..%2F1.0/dictionary.csv",
        "/instruments/%2e%2e/1.0/dictionary.csv",
        "/api/v1/instruments/..%2Fpyproject.toml/1.0",
        "/instruments/babi_consent/9.9/dictionary.csv",
    ],
)
def test_path_like_names_are_not_found(client, manager, path):
    response = client.get(path)
    assert response.status_code == 404
    assert b"[project]" not in response.content and b"root:" not in response.content


@pytest.mark.parametrize("role", ["midwife", "researcher"])
def test_other_roles_are_refused(client, make_user, role):
    make_user("mia", role)
    csrf = sign_in(client, "mia")
    assert client.get("/instruments").status_code == 403
    assert client.get("/instruments/babi_consent/1.0/dictionary.csv").status_code == 403
    assert _post(client, csrf, SHIPPED, "1.1").status_code == 403
    assert client.get("/api/v1/instruments").status_code == 403


def test_the_api_lists_publishes_and_returns_problems(client, manager, instance):
    headers = {"X-CSRF-Token": manager}
    listed = client.get("/api/v1/instruments").json()
    assert [(i["name"], i["version"], i["current"]) for i in listed] == [
        ("babi_consent", "1.0", True)
    ]
    bad = client.post(
        "/api/v1/instruments",
        data={"version": "1.1"},
        files={"file": ("d.csv", MALFORMED, "text/csv")},
        headers=headers,
    )
    assert bad.status_code == 400
    body = bad.json()
    assert body["field"] == "file" and body["detail"]
    assert {(p["row"], p["column"]) for p in body["problems"]} >= {
        (2, "field_name"),
        (3, "field_type"),
    }
    taken = client.post(
        "/api/v1/instruments",
        data={"version": "1.0"},
        files={"file": ("d.csv", SHIPPED + b"\n", "text/csv")},
        headers=headers,
    )
    assert taken.status_code == 409
    assert taken.json()["field"] == "version" and taken.json()["problems"] == []
    good = client.post(
        "/api/v1/instruments",
        data={"version": "1.1"},
        files={"file": ("d.csv", SHIPPED, "text/csv")},
        headers=headers,
    )
    assert good.status_code == 201
    assert good.json()["version"] == "1.1" and good.json()["current"] is True
    assert client.get("/api/v1/instruments/babi_consent/1.1").content == SHIPPED


NEW_LABEL = "Her age on the day"
IN_URDU = "اس دن اس کی عمر"


def _publish_new_label(client, manager) -> None:
    changed = SHIPPED.replace(b"Her age,", f"{NEW_LABEL},".encode())
    assert _post(client, manager, changed, "1.1").status_code == 303


def _post_translations(client, csrf, data: bytes):
    return client.post(
        "/instruments/translations",
        data={"csrf_token": csrf},
        files={"file": ("ur.po", data, "text/x-gettext-translation")},
        follow_redirects=False,
    )


def _urdu_row(page: str) -> str:
    return re.search(r'<tr class="nhsuk-table__row">\s*<td[^>]*lang="ur".*?</tr>', page, re.S)[0]


def test_a_new_versions_translations_are_downloaded_filled_in_and_uploaded_back(
    client, manager, make_user
):
    _publish_new_label(client, manager)
    page = client.get("/instruments").text
    assert "babi_consent version 1.1" in page and "Incomplete" in _urdu_row(page)
    po = client.get("/instruments/babi_consent/1.1/translations/ur.po")
    assert (
        po.status_code == 200
        and 'filename="babi_consent-1.1-ur.po"' in (po.headers["content-disposition"])
    )
    blank = f'msgid "{NEW_LABEL}"\nmsgstr ""'.encode()
    assert blank in po.content
    done = po.content.replace(blank, f'msgid "{NEW_LABEL}"\nmsgstr "{IN_URDU}"'.encode())
    response = _post_translations(client, manager, done)
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "Urdu translations of babi_consent version 1.1 taken" in page
    assert "Incomplete" not in _urdu_row(page)
    make_user("mia", "midwife")
    sign_in(client, "mia")
    form = client.get("/consents/new?language=ur", follow_redirects=True).text
    assert IN_URDU not in form  # the midwife works in English: her labels are English
    client.cookies.set(ui_language.COOKIE, "ur")
    assert IN_URDU in client.get("/consents/new?language=ur", follow_redirects=True).text


def test_a_refused_translation_file_says_why_on_the_page_and_takes_nothing(
    client, manager, instance
):
    _publish_new_label(client, manager)
    po = client.get("/instruments/babi_consent/1.1/translations/ur.po").content
    response = _post_translations(client, manager, po + b'\nmsgid "Shoe size"\nmsgstr "x"\n')
    assert response.status_code == 400
    assert "“Shoe size” is not a text of babi_consent version 1.1" in response.text
    assert 'href="#translations-file"' in response.text
    nothing = _post_translations(client, manager, b"")
    assert nothing.status_code == 400 and "The file is empty" in nothing.text
    with session_scope(instance.engine) as db:
        assert uploaded_translations.attach(db, registry.current(db, "babi_consent")) == (
            registry.current(db, "babi_consent")
        )


@pytest.mark.parametrize(
    "path",
    [
        "/instruments/babi_consent/1.0/translations/en.po",
        "/instruments/babi_consent/1.0/translations/xx.po",
        "/instruments/babi_consent/9.9/translations/ur.po",
        "/instruments/no%20form/1.0/translations/ur.po",
    ],
)
def test_a_translation_file_that_does_not_exist_is_not_found(client, manager, path):
    assert client.get(path).status_code == 404
