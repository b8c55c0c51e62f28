"""Stored and reflected XSS in accounts and projects: hostile text renders as text.

Payloads go in through the services (site name, users' full names, an API token's label,
a project's title, lead and approval reference, a refused sign-in's username in the
audit trail) and through forms and addresses (search box, sign-in, ``next``), and each
page showing them is opened in Chromium without its CSP (``tests.browser.hostile_text``).
Participants' records, forms, translations, partner files and research results are in
``test_stored_xss_records``.
"""

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlmodel import select

from cohort import demo, sites
from cohort.auth import tokens, users
from cohort.config import Settings
from cohort.db import session_scope
from cohort.instance import initialise, open_instance
from cohort.models import Project
from cohort.research import projects
from tests.browser.hostile_text import assert_inert, sign_in
from tests.hostile_input import PAYLOAD, PAYLOADS
from tests.live_server import serve

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


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


PAGES = {
    "xss.admin": ["/", "/admin/sites", "/admin/users", "/account", "/governance/audit"],
    "xss.dm": ["/", "/projects", "/projects/XSS-1", "/projects/XSS-1/edit", "/account"],
}


@pytest.mark.parametrize("username", sorted(PAGES))
def test_stored_text_is_inert_on_every_page_showing_it(watched, hostile_server, username):
    page, ran = watched
    sign_in(page, hostile_server, username, PASSWORD)
    assert_inert(page, ran, "after sign-in")
    for path in PAGES[username]:
        page.goto(hostile_server + path)
        assert PAYLOADS[0] in page.inner_text("body") or path in ("/",), path
        assert_inert(page, ran, path)


def test_a_hostile_username_is_inert_at_sign_in_and_in_the_audit_trail(watched, hostile_server):
    page, ran = watched
    sign_in(page, hostile_server, PAYLOAD[:60], "not the password")
    assert_inert(page, ran, "sign-in refusal")
    sign_in(page, hostile_server, "xss.admin", PASSWORD)
    page.goto(f"{hostile_server}/governance/audit")
    assert_inert(page, ran, "audit trail")


def test_hostile_text_in_addresses_and_search_boxes_is_inert(watched, hostile_server):
    page, ran = watched
    page.goto(f"{hostile_server}/login?next={PAYLOADS[1]}")
    assert_inert(page, ran, "next")
    page.goto(f"{hostile_server}/nowhere/{PAYLOADS[1]}")
    assert_inert(page, ran, "not found")
    sign_in(page, hostile_server, "xss.dm", PASSWORD)
    page.goto(f"{hostile_server}/participants/find")
    page.fill("input[name=nhs_number]", PAYLOADS[1])
    page.click("form[action='/participants/find'] button")
    page.wait_for_load_state()
    assert_inert(page, ran, "find a participant")
