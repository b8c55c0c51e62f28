"""More requests than database connections, for longer than the pool waits: the request is
turned away with 503 and a retry, never a server error, and the retry saves it once."""

import dataclasses
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from cohort.models import Participant
from cohort.web import errors
from cohort.web.app import create_app
from tests.consent_world import CONSENT, count_rows
from tests.web.conftest import sign_in
from tests.web.test_consent_api import bearer


@pytest.fixture
def one_connection(instance):
    """The instance on an engine of one connection that a request waits 0.2 s for."""
    sqlite = instance.engine.url.get_backend_name() == "sqlite"
    engine = create_engine(
        instance.engine.url,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.2,
        connect_args={"check_same_thread": False} if sqlite else {},
    )
    yield dataclasses.replace(instance, engine=engine)
    engine.dispose()


def test_a_save_that_finds_every_connection_taken_is_503_and_its_retry_saves_it_once(
    instance, make_user, one_connection
):
    make_user("mia", "midwife")
    headers = {**bearer(instance, "mia"), "Idempotency-Key": str(uuid.uuid4())}
    client = TestClient(create_app(one_connection), raise_server_exceptions=False)
    with one_connection.engine.connect():  # another request holds the only connection
        turned_away = client.post("/api/v1/consents", json=CONSENT, headers=headers)
    assert turned_away.status_code == 503
    assert turned_away.json() == {"detail": errors.BUSY_API, "field": None}
    assert turned_away.headers["Retry-After"] == errors.BUSY_RETRY_AFTER_S
    assert count_rows(instance.engine, Participant) == 0

    retried = client.post("/api/v1/consents", json=CONSENT, headers=headers)
    assert retried.status_code == 201, retried.text
    replayed = client.post("/api/v1/consents", json=CONSENT, headers=headers)
    assert replayed.json()["study_id"] == retried.json()["study_id"]
    assert count_rows(instance.engine, Participant) == 1


def test_a_page_that_finds_every_connection_taken_says_nothing_was_saved(make_user, one_connection):
    make_user("mia", "midwife")
    client = TestClient(create_app(one_connection), raise_server_exceptions=False)
    sign_in(client, "mia")
    with one_connection.engine.connect():
        page = client.get("/consents/new")
    assert page.status_code == 503 and page.headers["Retry-After"] == errors.BUSY_RETRY_AFTER_S
    assert "cannot save anything at the moment" in page.text
    assert "Traceback" not in page.text and "TimeoutError" not in page.text
