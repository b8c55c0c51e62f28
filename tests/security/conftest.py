"""The instance the bad-input corpora share, one per backend."""

import pytest
from fastapi.testclient import TestClient

from cohort.web.app import create_app
from tests.security.hostile import instance_per_backend
from tests.web.conftest import add_user, sign_in


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(request, tmp_path_factory):
    """One instance per backend, a midwife and a data manager signed in, each with a
    browser; every case leaves it as it found it."""
    instance = instance_per_backend(request, tmp_path_factory, "bad")
    add_user(instance, "mw", "midwife")
    add_user(instance, "dm", "data_manager")
    app = create_app(instance)
    browsers = {}
    for username in ("mw", "dm"):
        client = TestClient(app, raise_server_exceptions=False)
        browsers[username] = (client, sign_in(client, username))
    yield instance, browsers
    instance.engine.dispose()
