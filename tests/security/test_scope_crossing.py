"""Scoped roles cannot reach past their scope by changing an id in the address.

A midwife sees her own site's participants only, a site's governance lead her own site's
figures only, a researcher her own projects only, and an API token can be revoked by its
owner only. Each row of the table is an id-bearing
route called by someone whose scope it is not: she is refused (403 or 404, as if it did
not exist) or answered with nothing of it, the participant's identifiers never appear,
and nothing changes. The same GET by the rightful user succeeds, so no row passes by
refusing everyone.
"""

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from cohort import capture, sites
from cohort.auth import tokens
from cohort.auth.users import get_user
from cohort.db import session_scope
from cohort.models import ApiToken, Consent, Project, Withdrawal
from cohort.research import projects
from cohort.web.app import create_app
from forms import registry
from tests.consent_world import CONSENT, count_rows, token
from tests.web.conftest import add_user, make_instance, sign_in

SECRETS = ("Aisha", "Khan", "9434765919", "943 476 5919")
REFUSED = (403, 404)
# (who asks, method, address, whose it is): {sid} her study ID, {token} the other
# midwife's token id.
CROSSINGS = [
    ("mw-lds", "GET", "/participants/{sid}", "mw-rae"),
    ("mw-lds", "GET", "/participants/{sid}/consent", "mw-rae"),
    ("mw-lds", "POST", "/participants/{sid}/consent", None),
    ("mw-lds", "GET", "/participants/{sid}/withdrawal", "mw-rae"),
    ("mw-lds", "POST", "/participants/{sid}/withdrawal", None),
    ("mw-lds", "GET", "/api/v1/participants/{sid}", "mw-rae"),
    ("mw-lds", "PATCH", "/api/v1/participants/{sid}/consent", None),
    ("mw-lds", "POST", "/api/v1/participants/{sid}/withdrawals", None),
    ("mw-lds", "GET", "/fhir/sites/RAE/Consent.ndjson", "mw-rae"),
    ("mw-lds", "GET", "/fhir/Consent?patient={sid}", "mw-rae"),
    ("mw-lds", "POST", "/account/tokens/{token}/revoke", None),
    ("gov-lds", "GET", "/governance?site=RAE", "gov-rae"),
    ("gov-lds", "GET", "/governance/withdrawals?site=RAE", "gov-rae"),
    ("gov-lds", "GET", "/governance/access?site=RAE", "gov-rae"),
    ("rs-one", "GET", "/projects/TWO", "rs-two"),
    ("rs-one", "GET", "/api/v1/projects/TWO", "rs-two"),
    ("rs-one", "GET", "/api/v1/projects/TWO/extracts", "rs-two"),
    ("rs-one", "POST", "/api/v1/projects/TWO/queries", None),
    ("rs-one", "POST", "/projects/TWO/extracts", None),
]

# A well-formed request, so the scope check (not the body's) is what refuses it.
BODIES = {
    "/participants/{sid}/consent": {
        "discussion_language": "en",
        "consent_items": ["contact"],
        "submission_token": "a-fresh-submission-token-0001",
    },
    "/api/v1/participants/{sid}/consent": {
        "discussion_language": "en",
        "consent_items": ["contact"],
    },
    "/api/v1/projects/TWO/queries": {"dataset": "consent"},
}


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """Two sites with a midwife each, a woman enrolled at RAE, two projects with a
    researcher each; every user signed in (cookies, CSRF token, API token)."""
    data = tmp_path_factory.mktemp("scope")
    instance = make_instance(data / "var", f"sqlite:///{data / 'cohort.db'}")
    with session_scope(instance.engine) as db:
        sites.add_site(db, "LDS", "Leeds General Infirmary", actor="test")
    add_user(instance, "mw-rae", "midwife")
    add_user(instance, "mw-lds", "midwife", site_code="LDS")
    add_user(instance, "gov-rae", "governance", site_code="RAE")
    add_user(instance, "gov-lds", "governance", site_code="LDS")
    with session_scope(instance.engine) as db:
        for code in ("ONE", "TWO"):
            projects.register(
                db,
                projects.Approval(
                    code=code,
                    title=f"Project {code}",
                    lead="Dr Lead",
                    approval_reference=f"REC-{code}",
                    approved_from=date.today(),
                    approved_until=date.today() + timedelta(days=30),
                    variables=("consent",),
                ),
                actor="test",
            )
    add_user(instance, "rs-one", "researcher", project_codes=["ONE"])
    add_user(instance, "rs-two", "researcher", project_codes=["TWO"])
    with session_scope(instance.engine) as db:
        spec = registry.current(db, "babi_consent")
        midwife = get_user(db, "mw-rae")
        done = capture.record_answers(db, instance.keys, spec, CONSENT, user=midwife, token=token())
        study_id = done.result["study_id"]
    app = create_app(instance)
    signed_in = {}
    for username in ("mw-rae", "mw-lds", "gov-rae", "gov-lds", "rs-one", "rs-two"):
        with session_scope(instance.engine) as db:
            bearer = tokens.issue_token(db, get_user(db, username), "t", actor="test")
        client = TestClient(app, raise_server_exceptions=False)
        signed_in[username] = (client, sign_in(client, username), bearer)
    with session_scope(instance.engine) as db:
        rae_token = db.exec(
            select(ApiToken.id).where(ApiToken.user_id == get_user(db, "mw-rae").id)
        ).first()
    yield instance, signed_in, {"sid": study_id, "token": rae_token}
    instance.engine.dispose()


def _call(signed_in, who: str, method: str, path: str, ids: dict):
    client, csrf, bearer = signed_in[who]
    address, body = path.format(**ids), BODIES.get(path, {"level": "full"})
    if path.startswith("/api/"):
        headers = {"Authorization": f"Bearer {bearer}", "Idempotency-Key": token() + "-key"}
        return client.request(method, address, headers=headers, json=body)
    if method == "GET":
        return client.get(address)
    return client.request(method, address, data={"csrf_token": csrf, **body})


@pytest.mark.parametrize(
    ("who", "method", "path", "owner"), CROSSINGS, ids=[f"{w} {m} {p}" for w, m, p, _ in CROSSINGS]
)
def test_an_id_outside_her_scope_gives_nothing_away(network, who, method, path, owner):
    instance, signed_in, ids = network
    counts = [count_rows(instance.engine, model) for model in (Consent, Withdrawal, ApiToken)]
    response = _call(signed_in, who, method, path, ids)
    assert response.status_code in REFUSED or (
        response.status_code == 200 and ids["sid"] not in response.text
    ), (response.status_code, response.text[:300])
    assert not [s for s in SECRETS if s in response.text]
    assert counts == [count_rows(instance.engine, m) for m in (Consent, Withdrawal, ApiToken)]
    with session_scope(instance.engine) as db:
        assert db.get(ApiToken, ids["token"]).revoked_at is None
        assert db.exec(select(Project.code)).all()
    if owner is not None:
        assert _call(signed_in, owner, method, path, ids).status_code == 200, path
