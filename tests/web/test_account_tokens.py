"""The account page's API tokens in REDCap's form: offered to the roles allowed the REDCap
API only, shown once, kept as a hash, revocable like the others (PyCap with a token from
this page: tests/web/test_redcap_routes.py)."""

import hashlib
import re

from sqlmodel import Session, select

from cohort.models import ApiToken
from tests.web.conftest import sign_in

REDCAP_FORM = re.compile(r"[0-9A-F]{32}")
CHOICE = 'name="redcap"'


def new_token(html: str) -> str:
    return re.search(r'<code id="new-token">(.*?)</code>', html).group(1)


def issue(client, csrf: str, **form) -> object:
    return client.post("/account/tokens", data={"label": "PyCap", "csrf_token": csrf, **form})


OFFERED = {
    "midwife": True,
    "data_manager": True,
    "governance": False,
    "researcher": False,
    "admin": False,
}


def test_the_redcap_form_is_offered_to_the_roles_allowed_the_redcap_api(client, make_user):
    for role, offered in OFFERED.items():
        make_user(role, role)
        sign_in(client, role)
        assert (CHOICE in client.get("/account").text) is offered, role


def test_a_redcap_token_is_shown_once_with_the_api_address_and_kept_as_a_hash(
    client, instance, make_user
):
    make_user("mia", "midwife")
    csrf = sign_in(client, "mia")
    issued = issue(client, csrf, redcap="yes")
    assert issued.status_code == 200
    token = new_token(issued.text)
    assert REDCAP_FORM.fullmatch(token)
    assert 'id="redcap-address">http://testserver/redcap/api/</code>' in issued.text
    assert token not in client.get("/account").text
    with Session(instance.engine) as db:
        (row,) = db.exec(select(ApiToken)).all()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_an_ordinary_token_is_issued_when_the_box_is_not_ticked(client, make_user):
    make_user("mia", "midwife")
    csrf = sign_in(client, "mia")
    issued = issue(client, csrf)
    token = new_token(issued.text)
    assert token.startswith("cohort_") and "redcap-address" not in issued.text


def test_a_role_without_the_redcap_api_is_refused_one_and_nothing_is_issued(
    client, instance, make_user
):
    make_user("rex", "researcher")
    csrf = sign_in(client, "rex")
    refused = issue(client, csrf, redcap="yes")
    assert refused.status_code == 403
    assert "cannot use the REDCap API" in refused.text
    assert 'id="new-token"' not in refused.text
    with Session(instance.engine) as db:
        assert db.exec(select(ApiToken)).all() == []
