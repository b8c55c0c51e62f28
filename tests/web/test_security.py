"""Security headers on every kind of response, and no internals in any error."""

import logging
import re

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import sign_in

PATHS = ["/login", "/api/v1/health", "/api/v1/me", "/nowhere", "/static/cohort/nhsuk-init.js"]


@pytest.fixture
def db_url(tmp_path) -> str:
    """Headers and error pages do not depend on the database: SQLite only."""
    return f"sqlite:///{tmp_path / 'cohort.db'}"


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"


DOWNLOADS = ["/instruments/babi_consent/1.0/dictionary.csv", "/api/v1/instruments/babi_consent/1.0"]


@pytest.mark.parametrize("path", DOWNLOADS)
def test_downloads_carry_the_security_headers_and_are_not_cached(client, make_user, path):
    make_user("dora", "data_manager")
    sign_in(client, "dora")
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


def test_pages_are_not_cached_but_static_files_may_be(client):
    assert client.get("/login").headers["cache-control"] == "no-store"
    assert "cache-control" not in client.get("/static/cohort/nhsuk-init.js").headers


def test_the_only_inline_script_carries_this_responses_nonce(client):
    first, second = client.get("/login"), client.get("/login")
    nonce = re.search(r"'nonce-([^']+)'", first.headers["content-security-policy"]).group(1)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", first.text)
    assert inline == [f' nonce="{nonce}"']
    assert nonce not in second.headers["content-security-policy"]


@pytest.fixture
def failing_client(app):
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals at /srv/cohort/db.py")

    @app.get("/api/v1/boom")
    def api_boom() -> None:
        raise RuntimeError("secret internals at /srv/cohort/db.py")

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("path", ["/boom", "/api/v1/boom"])
def test_an_unexpected_error_shows_nothing_inside_and_is_logged(failing_client, path, caplog):
    with caplog.at_level(logging.ERROR, logger="cohort.web"):
        response = failing_client.get(path)
    assert response.status_code == 500
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "secret internals" in caplog.text


def test_api_errors_are_json_with_detail_and_field(client):
    missing = client.get("/api/v1/nowhere")
    assert missing.status_code == 404 and set(missing.json()) == {"detail", "field"}
    anonymous = client.get("/api/v1/me")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json() == {"detail": "sign in to continue", "field": None}


def test_page_errors_are_pages(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.text


def test_a_malformed_address_is_a_clear_refusal(client, make_user):
    make_user("ada")
    csrf = sign_in(client, "ada")
    response = client.post("/account/tokens/not-a-number/revoke", data={"csrf_token": csrf})
    assert response.status_code == 422
    assert "Token id: input should be a valid integer" in response.text
