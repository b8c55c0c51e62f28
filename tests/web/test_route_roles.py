"""Every route by every role (and anonymous), read from the app itself.

The roles a route declares (``requires(...)``) get through: never 401 or 403, never a 5xx.
Everyone else is refused, 401 when anonymous and 403 for a wrong role, and the refusal
shows none of the data. A route that declares no roles fails here unless it is public.
"""

import pytest
from fastapi.testclient import TestClient

from cohort.auth import tokens
from cohort.auth.users import get_user
from cohort.db import session_scope
from cohort.models import ROLES
from cohort.web.app import create_app
from cohort.web.deps import app_routes, declared_roles
from tests.web.conftest import add_user, ensure_site, make_instance, sign_in

PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/language"),
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/docs"),
    ("GET", "/api/v1/openapi.json"),
}
PUBLIC_PREFIXES = ("/static/",)
PATH_SAMPLES = {
    "token_id": "999999",
    "username": "target",
    "study_id": "BB-0000-0000",
    "token": "no-such-submission-token",
    "name": "babi_consent",
    "version": "1.0",
    "code": "NO-SUCH-PROJECT",
    "extract_id": "999999",
    "consent_id": "BB-0000-0000.1.0",
    "site_code": "NOSUCH",
    "language": "ur",
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Signing out revokes the session it is sent with: it gets a browser signed in for it.
SIGNS_OUT = {("POST", "/logout")}
# Authenticated by a token in the posted form, never by a cookie: no CSRF token to check.
TOKEN_IN_FORM = ("/redcap/",)
MARKER = "Zebedee"  # in the data (a site, another user): no refusal may show it


def route_table(app) -> list[tuple[str, str, frozenset[str] | None]]:
    """(method, path, declared roles) for every route; mounts appear with method '*'."""
    rows = []
    for route in app_routes(app):
        methods = sorted((route.methods or {"*"}) - {"HEAD"})
        rows.extend((method, route.path, declared_roles(route)) for method in methods)
    return rows


def is_public(method: str, path: str) -> bool:
    return (method, path) in PUBLIC or path.startswith(PUBLIC_PREFIXES)


def undeclared(app) -> list[tuple[str, str]]:
    return [(m, p) for m, p, roles in route_table(app) if roles is None and not is_public(m, p)]


def concrete(path: str) -> str:
    for name, value in PATH_SAMPLES.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"add a sample value for the parameter in {path} to PATH_SAMPLES"
    return path


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """An app with one signed-in browser per role: role -> (cookies, CSRF token, REDCap
    API token)."""
    data = tmp_path_factory.mktemp("matrix")
    instance = make_instance(data / "var", f"sqlite:///{data / 'cohort.db'}")
    with session_scope(instance.engine) as db:
        ensure_site(db, name=f"{MARKER} Infirmary")
    for role in ROLES:
        add_user(instance, role.replace("_", "-"), role)
    add_user(instance, "target", "data_manager", full_name=f"{MARKER} Target")
    app = create_app(instance)
    signed_in = {}
    for role in ROLES:
        with session_scope(instance.engine) as db:  # before signing in: it ends sessions
            user = get_user(db, role.replace("_", "-"))
            token = tokens.issue_token(db, user, "REDCap", actor="test", redcap=True)
        client = TestClient(app)
        csrf = sign_in(client, role.replace("_", "-"))
        signed_in[role] = (dict(client.cookies), csrf, token)
    yield app, signed_in
    instance.engine.dispose()


def fresh_session(app, role: str) -> tuple[dict, str]:
    client = TestClient(app)
    csrf = sign_in(client, role.replace("_", "-"))
    return dict(client.cookies), csrf


def call(app, method: str, path: str, cookies: dict, csrf: str | None, token: str | None = None):
    client = TestClient(app, cookies=cookies, raise_server_exceptions=False)
    url = concrete(path)
    if path.startswith(TOKEN_IN_FORM):
        return client.request(method, url, data={"token": token} if token else {})
    if method not in UNSAFE:
        return client.request(method, url)
    if path.startswith("/api/"):
        return client.request(method, url, json={}, headers={"X-CSRF-Token": csrf or ""})
    return client.request(method, url, data={"csrf_token": csrf or ""})


def test_every_route_declares_its_roles_or_is_public(matrix):
    app, _ = matrix
    assert undeclared(app) == []


def test_a_route_added_without_roles_is_caught(matrix):
    app, _ = matrix
    sneaky = create_app(app.state.instance)

    @sneaky.get("/sneaky")
    def sneaky_route() -> dict:
        return {}

    assert undeclared(sneaky) == [("GET", "/sneaky")]


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_route_by_role(matrix, role):
    app, signed_in = matrix
    cookies, csrf, token = signed_in.get(role, ({}, None, None))
    wrong = []
    for method, path, allowed in route_table(app):
        if is_public(method, path):
            continue
        if (method, path) in SIGNS_OUT and role in signed_in:
            cookies_here, csrf_here = fresh_session(app, role)
            response = call(app, method, path, cookies_here, csrf_here)
        else:
            response = call(app, method, path, cookies, csrf, token)
        if role in allowed:
            ok = response.status_code not in (401, 403) and response.status_code < 500
        else:
            expected = 401 if role == "anonymous" else 403
            ok = response.status_code == expected and MARKER not in response.text
        if not ok:
            wrong.append(f"{method} {path}: {response.status_code} (allowed: {sorted(allowed)})")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("csrf", [None, "0" * 64], ids=["missing", "wrong"])
def test_every_state_changing_route_needs_the_csrf_token(matrix, csrf):
    app, signed_in = matrix
    missing = []
    for method, path, allowed in route_table(app):
        if method in UNSAFE and not is_public(method, path) and not path.startswith(TOKEN_IN_FORM):
            cookies, _, _ = signed_in[sorted(allowed)[0]]
            response = call(app, method, path, cookies, csrf=csrf)
            if response.status_code != 403:
                missing.append(f"{method} {path}: {response.status_code}")
    assert missing == []


@pytest.mark.parametrize("csrf", ["", "0" * 64], ids=["missing", "wrong"])
def test_public_forms_need_the_csrf_token_of_the_visitors_session(matrix, csrf):
    app, _ = matrix
    client = TestClient(app)
    client.get("/login")  # an anonymous session, as a visitor has
    for method, path in sorted(PUBLIC):
        if method in UNSAFE:
            response = client.request(method, path, data={"csrf_token": csrf, "next": "/"})
            assert response.status_code == 403, path


def test_public_routes_answer_anonymous_visitors(matrix):
    app, _ = matrix
    client = TestClient(app)
    for method, path in sorted(PUBLIC):
        if method == "GET":
            assert client.get(path).status_code == 200, path
