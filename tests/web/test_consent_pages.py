"""The midwife's journey through the pages, as a browser without JavaScript makes it:
record consent or decline, confirmation, duplicates, double submits, errors in her UI
language, the woman's language beside it, updates, withdrawals and site boundaries."""

import re
from datetime import date

import pytest
from babel.support import NullTranslations
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cohort import i18n
from cohort.db import session_scope
from cohort.models import Consent, Decline, Identity, Participant, Submission, Withdrawal
from cohort.web import ui_language
from tests.consent_world import CONSENT, DECLINE, NHS_NUMBER, count_rows
from tests.web.conftest import ensure_site, sign_in

FORM = "/consents/new"


class Marked(NullTranslations):
    """A stand-in catalog that shows which language each message went through."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    def gettext(self, message: str) -> str:
        return f"[{self.code}] {message}"


@pytest.fixture
def marked_catalogs(monkeypatch):
    monkeypatch.setattr(i18n, "translations", lambda code: Marked(code))


@pytest.fixture
def midwife(client, make_user) -> str:
    make_user("mia", "midwife")
    return sign_in(client, "mia")


def flat(html: str) -> str:
    """The page with each run of white space as one space, as a reader sees the markup."""
    return re.sub(r"\s+", " ", html)


def open_form(client: TestClient, path: str = FORM) -> tuple[str, str]:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return flat(page.text), re.search(r'name="submission_token" value="([^"]+)"', page.text).group(
        1
    )


def send(client, csrf, token, answers, path=FORM, action="save", **kw):
    data = {**answers, "csrf_token": csrf, "submission_token": token, "action": action}
    return client.post(path, data=data, follow_redirects=False, **kw)


def record(client, csrf, answers=CONSENT) -> str:
    """Record through the form; the study ID the confirmation shows."""
    _, token = open_form(client)
    saved = send(client, csrf, token, answers)
    assert saved.status_code == 303, saved.text
    return study_id_of(client.get(saved.headers["location"]).text)


def study_id_of(html: str) -> str:
    return re.search(r'id="study-id">([^<]+)<', html).group(1)


def field_error(html: str, field: str) -> str:
    found = re.search(rf'id="{field}-error"\s*>\s*<span[^>]*>[^<]*</span>(.*?)\s*<', html, re.S)
    assert found, f"no error message on field {field}"
    return found.group(1).strip()


def test_record_consent_is_offered_on_the_home_page_and_in_the_menu(client, midwife):
    home = client.get("/").text
    assert 'href="/consents/new"' in home
    assert home.count("Record consent") >= 2  # the card and the header menu


def test_the_form_has_every_question_a_label_and_its_branching(client, midwife):
    html, token = open_form(client)
    for field in ("discussion_language", "outcome", "nhs_number", "date_of_birth", "postcode"):
        assert f'data-field="{field}"' in html
    assert re.search(r"<legend[^>]*>\s*Does she agree to join the cohort\?", html)
    assert '<label class="nhsuk-label" for="nhs_number" >' in html
    assert 'data-branching="{&#34;op&#34;:&#34;=&#34;' in html
    assert '<script src="/static/forms/branching.js" defer></script>' in html
    assert client.get("/static/forms/branching.js").status_code == 200
    assert len(token) >= 16 and 'id="save"' in html and 'id="show-statements"' in html


def test_a_consent_is_saved_and_confirmed_with_her_study_id(client, midwife, instance):
    _, token = open_form(client)
    saved = send(client, midwife, token, CONSENT)
    assert saved.status_code == 303 and saved.headers["location"] == f"/submissions/{token}"
    confirmation = client.get(saved.headers["location"]).text
    with Session(instance.engine) as s:
        participant = s.exec(select(Participant)).one()
    assert study_id_of(confirmation) == participant.study_id
    assert "Consent recorded" in confirmation and "Link her health records" in confirmation


def test_a_double_submit_saves_once_and_confirms_the_same(client, midwife, instance):
    _, token = open_form(client)
    first, second = send(client, midwife, token, CONSENT), send(client, midwife, token, CONSENT)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert count_rows(instance.engine, Consent) == count_rows(instance.engine, Submission) == 1


def test_going_back_to_a_saved_form_shows_what_was_saved(client, midwife, instance):
    fresh = client.get(FORM, follow_redirects=False)
    assert fresh.status_code == 303 and fresh.headers["location"].startswith(f"{FORM}?submission=")
    _, token = open_form(client, fresh.headers["location"])
    send(client, midwife, token, CONSENT)
    back = client.get(fresh.headers["location"])
    assert back.status_code == 200 and "Consent recorded" in back.text
    assert 'name="submission_token"' not in back.text
    assert study_id_of(back.text) == study_id_of(client.get(f"/submissions/{token}").text)
    assert count_rows(instance.engine, Consent) == 1


def test_a_decline_keeps_no_identifier(client, midwife, instance):
    _, token = open_form(client)
    typed_anyway = {**DECLINE, "nhs_number": NHS_NUMBER, "given_name": "Aisha"}
    saved = send(client, midwife, token, typed_anyway)
    confirmation = client.get(saved.headers["location"]).text
    assert "Decline recorded" in confirmation and 'id="study-id"' not in confirmation
    assert count_rows(instance.engine, Decline) == 1
    assert count_rows(instance.engine, Participant) == count_rows(instance.engine, Identity) == 0


def test_fields_hidden_by_branching_are_not_stored(client, midwife, instance):
    record(client, midwife, {**CONSENT, "discussion_language": "en", "leaflet_given": "0"})
    with Session(instance.engine) as s:
        row = s.exec(select(Consent)).one()
    assert (row.interpreter_used, row.leaflet_language) == (None, None)


def test_errors_are_listed_linked_to_their_fields_and_nothing_is_saved(client, midwife, instance):
    _, token = open_form(client)
    answers = {**CONSENT, "nhs_number": "12345", "given_name": "", "family_name": "Khan"}
    refused = send(client, midwife, token, answers)
    assert refused.status_code == 400
    html = flat(refused.text)
    assert "<title>Error: Record consent" in html
    assert '<a href="#nhs_number" >' in html and '<a href="#given_name" >' in html
    assert "10 digits" in field_error(html, "nhs_number")
    assert field_error(html, "given_name") == "Enter an answer"
    assert 'value="Khan"' in html and 'value="12345"' in html  # what she typed is kept
    assert re.search(r'value="contact"\s+checked', html)
    assert f'name="submission_token" value="{token}"' in html  # the same, still unused
    assert count_rows(instance.engine, Participant) == count_rows(instance.engine, Submission) == 0


def test_field_errors_are_in_the_ui_language(client, midwife, marked_catalogs):
    client.cookies.set(ui_language.COOKIE, "ur")
    _, token = open_form(client)
    refused = send(client, midwife, token, {**CONSENT, "given_name": "", "nhs_number": "1"})
    assert field_error(refused.text, "given_name") == "[ur] Enter an answer"
    assert (
        field_error(refused.text, "nhs_number") == "[ur] NHS number must be 10 digits long, not 1"
    )
    assert '<html lang="ur" dir="rtl">' in flat(refused.text)


def test_her_statements_show_in_her_language_beside_the_midwifes(client, midwife, instance):
    _, token = open_form(client)
    typed = {"discussion_language": "ur", "outcome": "1", "family_name": "Khan"}
    shown = send(client, midwife, token, typed, action="show_statements")
    assert shown.status_code == 200
    html = flat(shown.text)
    assert 'id="leaflet-her-language" lang="ur" dir="rtl"' in html
    assert '<span lang="ur" dir="rtl">' in html  # beside each tick box
    assert 'value="Khan"' in html and f'value="{token}"' in html
    assert count_rows(instance.engine, Submission) == 0


def test_a_language_chosen_ahead_shows_her_statements_left_to_right(client, midwife):
    html, _ = open_form(client, f"{FORM}?language=pl")
    assert re.search(r'<option value="pl" selected', html)
    assert 'id="leaflet-her-language" lang="pl" dir="ltr"' in html


def test_no_second_column_when_she_speaks_the_midwifes_language(client, midwife):
    html, _ = open_form(client, f"{FORM}?language=en")
    assert 'id="leaflet-her-language"' not in html and '<span lang="en"' not in html


def test_the_ui_language_switcher_remembers_the_choice(client, midwife, marked_catalogs):
    switched = client.post(
        "/language",
        data={"ui_language": "pl", "next": FORM, "csrf_token": midwife},
        follow_redirects=False,
    )
    assert switched.status_code == 303 and switched.headers["location"] == FORM
    html = flat(client.get(FORM).text)
    assert '<html lang="pl" dir="ltr">' in html and "[pl] Record consent" in html
    refused = client.post("/language", data={"ui_language": "xx", "csrf_token": midwife})
    assert refused.status_code == 400


def test_an_nhs_number_already_enrolled_here_shows_her_consent(client, midwife, instance):
    study_id = record(client, midwife)
    _, token = open_form(client)
    again = send(client, midwife, token, {**CONSENT, "given_name": "Ayesha"})
    assert again.status_code == 409
    assert study_id_of(again.text) == study_id and "She is already in the cohort" in again.text
    assert f'href="/participants/{study_id}/consent"' in again.text
    assert f'href="/participants/{study_id}/withdrawal"' in again.text
    assert count_rows(instance.engine, Participant) == 1


def test_an_nhs_number_enrolled_at_another_site_shows_nothing_of_her(
    client, app, midwife, make_user, instance
):
    study_id = record(client, midwife)
    with session_scope(instance.engine) as db:
        ensure_site(db, "LDS", "Leeds General")
    make_user("lee", "midwife", site_code="LDS")
    other = TestClient(app)
    csrf = sign_in(other, "lee")
    _, token = open_form(other)
    again = send(other, csrf, token, CONSENT)
    assert again.status_code == 409 and "Bradford Royal Infirmary" in again.text
    assert study_id not in again.text and count_rows(instance.engine, Participant) == 1


def test_her_page_shows_scope_and_history_with_dates_in_the_ui_language(client, midwife):
    study_id = record(client, midwife)
    client.cookies.set(ui_language.COOKIE, "pl")
    page = client.get(f"/participants/{study_id}").text
    assert i18n.format_date(date.today(), "pl") in page
    assert page.count("nhsuk-tag--green") == 3 and page.count("nhsuk-tag--grey") == 1
    assert page.count('class="nhsuk-table__row"') == 2  # header and her consent


def test_another_sites_midwife_gets_not_found_everywhere(client, app, midwife, make_user, instance):
    study_id = record(client, midwife)
    with session_scope(instance.engine) as db:
        ensure_site(db, "LDS", "Leeds General")
    make_user("lee", "midwife", site_code="LDS")
    other = TestClient(app)
    csrf = sign_in(other, "lee")
    for path in ("", "/consent", "/withdrawal"):
        response = other.get(f"/participants/{study_id}{path}")
        assert response.status_code == 404 and "Bradford" not in response.text
    posted = other.post(
        f"/participants/{study_id}/withdrawal",
        data={"level": "full", "submission_token": "a-token-of-sixteen", "csrf_token": csrf},
    )
    assert posted.status_code == 404 and count_rows(instance.engine, Withdrawal) == 0


def test_a_confirmation_is_only_for_whoever_saved_it(client, app, midwife, make_user):
    _, token = open_form(client)
    send(client, midwife, token, DECLINE)
    make_user("max", "midwife")
    other = TestClient(app)
    sign_in(other, "max")
    assert other.get(f"/submissions/{token}").status_code == 404


def test_updating_her_consent_starts_from_her_choices_and_keeps_history(client, midwife, instance):
    study_id = record(client, midwife)
    html, token = open_form(client, f"/participants/{study_id}/consent")
    assert re.search(r'value="link_mother_health"\s+checked', html)
    assert 'data-field="nhs_number"' not in html
    unchanged = send(client, midwife, token, CONSENT_CHOICES, f"/participants/{study_id}/consent")
    assert unchanged.status_code == 409 and "already her choices" in unchanged.text
    narrower = {**CONSENT_CHOICES, "consent_items": ["link_mother_health"]}
    saved = send(client, midwife, token, narrower, f"/participants/{study_id}/consent")
    assert saved.status_code == 303
    assert "Consent updated" in client.get(saved.headers["location"]).text
    page = client.get(f"/participants/{study_id}").text
    assert page.count('class="nhsuk-table__row"') == 3
    assert count_rows(instance.engine, Consent) == 2


CONSENT_CHOICES = {
    "discussion_language": "ur",
    "interpreter_used": "1",
    "consent_items": CONSENT["consent_items"],
}


def test_the_withdrawal_page_explains_each_level_and_offers_only_further_ones(
    client, midwife, instance
):
    study_id = record(client, midwife)
    html, token = open_form(client, f"/participants/{study_id}/withdrawal")
    for words in ("No further contact", "No further data", "Full withdrawal", "removed"):
        assert words in html
    missing = send(client, midwife, token, {}, f"/participants/{study_id}/withdrawal")
    assert missing.status_code == 400 and '<a href="#level" >' in flat(missing.text)
    saved = send(
        client, midwife, token, {"level": "no_data"}, f"/participants/{study_id}/withdrawal"
    )
    assert saved.status_code == 303
    assert "Withdrawal recorded" in client.get(saved.headers["location"]).text
    html, _ = open_form(client, f"/participants/{study_id}/withdrawal")
    assert "Full withdrawal" in html and "No further contact" not in html
    page = client.get(f"/participants/{study_id}").text
    assert 'id="update-consent"' not in page and 'id="record-withdrawal"' in page
    assert count_rows(instance.engine, Withdrawal) == 1


def test_a_data_manager_records_a_withdrawal_but_no_consent(client, app, midwife, make_user):
    study_id = record(client, midwife)
    make_user("dana", "data_manager")
    manager = TestClient(app)
    csrf = sign_in(manager, "dana")
    assert manager.get(FORM).status_code == 403
    found = manager.post("/participants/find", data={"nhs_number": NHS_NUMBER, "csrf_token": csrf})
    assert f'href="/participants/{study_id}" id="view-consent"' in found.text
    page = manager.get(f"/participants/{study_id}").text
    assert 'id="record-withdrawal"' in page and 'id="update-consent"' not in page
    _, token = open_form(manager, f"/participants/{study_id}/withdrawal")
    saved = send(manager, csrf, token, {"level": "full"}, f"/participants/{study_id}/withdrawal")
    assert saved.status_code == 303
    assert "Nothing: she has withdrawn" in manager.get(saved.headers["location"]).text
