"""Stored and reflected XSS: hostile text in every free-text field renders as text.

Payloads go in through the services (site name, users' full names, an API token's label,
a project's title, lead and approval reference, a refused sign-in's username in the
audit trail) and through forms and addresses (search box, sign-in, ``next``). Each page is
then opened in Chromium with the CSP switched off (``bypass_csp``): the CSP would block
an injected script anyway, and this test is about the escaping under it. A payload that
ran sets ``window.__xss`` or logs ``XSS-RAN``; neither may ever happen.
"""

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page
from sqlmodel import select

from cohort import demo, sites
from cohort.auth import tokens, users
from cohort.config import Settings
from cohort.db import session_scope
from cohort.instance import initialise, open_instance
from cohort.models import Project
from cohort.research import projects
from tests.live_server import serve

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
MARK = "window.__xss=1;console.log('XSS-RAN')"
PAYLOADS = [
    f"<script>{MARK}</script>",
    f'"><img src=x onerror="{MARK}">',
    f'\'><svg onload="{MARK}">',
    f"javascript:{MARK}",
]
PAYLOAD = " ".join(PAYLOADS)[:190]  # within every field's length limit


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory) -> Iterator[str]:
    """A demo instance whose free text is hostile, served on loopback."""
    data = tmp_path_factory.mktemp("xss") / "var"
    settings = Settings(data_dir=data)
    initialise(settings)
    inst = open_instance(settings)
    demo.seed(inst, today=date.today(), link=False)
    with session_scope(inst.engine) as db:
        sites.add_site(db, "XSS", PAYLOAD, actor="test")
        for username, role in [("xss.admin", "admin"), ("xss.dm", "data_manager")]:
            user = users.create_user(
                db,
                username=username,
                full_name=PAYLOAD,
                role=role,
                password=PASSWORD,
                actor="test",
            )
            db.flush()
            tokens.issue_token(db, user, PAYLOAD[:100], actor="test")
        demo_project = db.exec(select(Project).where(Project.code == "DEMO-001")).one()
        projects.register(
            db,
            projects.Approval(
                code="XSS-1",
                title=PAYLOAD,
                lead=PAYLOAD,
                approval_reference=PAYLOAD[:64],
                approved_from=date.today(),
                approved_until=date.today() + timedelta(days=30),
                variables=tuple(demo_project.variables),
            ),
            actor="test",
        )
    inst.engine.dispose()
    with serve(data) as url:
        yield url


@pytest.fixture
def watched(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    ran: list[str] = []
    page.on("console", lambda m: ran.append(m.text) if "XSS-RAN" in m.text else None)
    page.on("dialog", lambda d: (ran.append(d.message), d.dismiss()))
    yield page, ran
    context.close()


def _sign_in(page: Page, url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _assert_inert(page: Page, ran: list[str], where: str) -> None:
    page.wait_for_timeout(50)  # let an onerror or onload handler fire, if one was made
    assert page.evaluate("window.__xss === undefined"), where
    assert ran == [], where
    assert page.locator("img[src=x], svg[onload]").count() == 0, where


PAGES = {
    "xss.admin": ["/", "/admin/sites", "/admin/users", "/account", "/governance/audit"],
    "xss.dm": ["/", "/projects", "/projects/XSS-1", "/projects/XSS-1/edit", "/account"],
}


@pytest.mark.parametrize("username", sorted(PAGES))
def test_stored_text_is_inert_on_every_page_showing_it(watched, hostile_server, username):
    page, ran = watched
    _sign_in(page, hostile_server, username)
    _assert_inert(page, ran, "after sign-in")
    for path in PAGES[username]:
        page.goto(hostile_server + path)
        assert PAYLOADS[0] in page.inner_text("body") or path in ("/",), path
        _assert_inert(page, ran, path)


def test_a_hostile_username_is_inert_at_sign_in_and_in_the_audit_trail(watched, hostile_server):
    page, ran = watched
    _sign_in(page, hostile_server, PAYLOAD[:60], "not the password")
    _assert_inert(page, ran, "sign-in refusal")
    _sign_in(page, hostile_server, "xss.admin")
    page.goto(f"{hostile_server}/governance/audit")
    _assert_inert(page, ran, "audit trail")


def test_hostile_text_in_addresses_and_search_boxes_is_inert(watched, hostile_server):
    page, ran = watched
    page.goto(f"{hostile_server}/login?next={PAYLOADS[1]}")
    _assert_inert(page, ran, "next")
    page.goto(f"{hostile_server}/nowhere/{PAYLOADS[1]}")
    _assert_inert(page, ran, "not found")
    _sign_in(page, hostile_server, "xss.dm")
    page.goto(f"{hostile_server}/participants/find")
    page.fill("input[name=nhs_number]", PAYLOADS[1])
    page.click("form[action='/participants/find'] button")
    page.wait_for_load_state()
    _assert_inert(page, ran, "find a participant")
