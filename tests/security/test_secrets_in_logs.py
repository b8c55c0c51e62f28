"""What a served instance logs holds no key, password, token or identifier: a real
``cohort serve`` taken through sign-in (right and wrong password), a consent with her
identifiers, a refused one, a FHIR search by her NHS number and a made-up address holding
it; then every line it wrote is searched for each secret."""

import base64
import binascii
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from cohort.auth import tokens
from cohort.auth.users import get_user
from cohort.db import session_scope
from tests.consent_world import CONSENT, NHS_NUMBER
from tests.live_server import serve
from tests.web.conftest import PASSWORD, add_user, csrf_of, make_instance, sign_in

PATIENT = f"https://fhir.nhs.uk/Id/nhs-number|{NHS_NUMBER}"
WRONG_PASSWORD = "wrong horse battery staple"


def _token(instance, username: str) -> str:
    with session_scope(instance.engine) as db:
        return tokens.issue_token(db, get_user(db, username), "logs", actor="test")


def _key_forms(key_dir: Path) -> set[str]:
    """Every key file's text, and its key as base64 and as hex."""
    forms = set()
    for path in key_dir.rglob("*.key"):
        text = path.read_text().strip()
        raw = base64.b64decode(text)
        forms |= {text, binascii.hexlify(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    return forms


@pytest.fixture(scope="module")
def served_log(tmp_path_factory) -> tuple[str, set[str]]:
    """The server's whole log after the journey, and the secrets it must not hold."""
    data = tmp_path_factory.mktemp("logs") / "var"
    url = f"sqlite:///{data / 'cohort.db'}"
    instance = make_instance(data, url)
    add_user(instance, "mw", "midwife")
    add_user(instance, "dm", "data_manager")
    midwife, manager = _token(instance, "mw"), _token(instance, "dm")
    instance.engine.dispose()
    secrets = {PASSWORD, WRONG_PASSWORD, midwife, manager, *_key_forms(data / "keys")}
    with serve(data, url, timeout_s=180) as base, httpx.Client(base_url=base) as web:
        form = {"username": "mw", "password": WRONG_PASSWORD}
        refused = web.post("/login", data={**form, "csrf_token": csrf_of(web.get("/login").text)})
        assert refused.status_code == 401
        sign_in(web, "mw")
        secrets |= {cookie.value for cookie in web.cookies.jar}
        api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {midwife}"})
        made = api.post("/api/v1/consents", json=CONSENT, headers={"Idempotency-Key": "k" * 32})
        assert made.status_code == 201, made.text
        mistyped = {**CONSENT, "nhs_number": "943 476 5918"}
        assert api.post("/api/v1/consents", json=mistyped).status_code == 400
        study_id = made.json()["study_id"]
        as_manager = {"Authorization": f"Bearer {manager}"}
        found = api.get("/fhir/Consent", params={"patient:identifier": PATIENT}, headers=as_manager)
        assert len(found.json().get("entry", [])) == 1, found.text
        assert api.get(f"/no-such-page/{NHS_NUMBER}/{study_id}").status_code == 404
        api.close()
        port = urlsplit(base).port
    secrets |= {study_id, "9434765918", "943 476 5918"}
    secrets |= {str(CONSENT[f]) for f in ("given_name", "family_name", "date_of_birth")}
    secrets |= {NHS_NUMBER, CONSENT["nhs_number"], "BD5 0NA", "bd5 0na", "BD50NA"}
    return (data.parent / f"server-{port}.log").read_text(), secrets


def test_the_log_says_what_was_asked_by_route_and_status(served_log):
    log, _ = served_log
    assert "POST /login 401" in log and "POST /login 303" in log
    assert "POST /api/v1/consents 201" in log and "POST /api/v1/consents 400" in log
    assert "GET /fhir/Consent 200" in log
    assert "GET (no route) 404" in log


def test_no_key_password_token_or_identifier_is_in_the_log(served_log):
    log, secrets = served_log
    assert len(secrets) > 15
    leaked = sorted(secret for secret in secrets if secret and secret in log)
    assert leaked == []
