"""Signing in, and a data manager finding a participant, in a real browser."""

import pytest
from sqlmodel import Session, select

from cohort import vault
from cohort.models import Participant
from tests.browser.conftest import screenshot, serious_accessibility_violations, sign_in

pytestmark = pytest.mark.browser


def test_sign_in_page_is_accessible(page, live_server):
    page.goto(f"{live_server.url}/login")
    screenshot(page, "spine-sign-in")
    assert serious_accessibility_violations(page) == []


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(page, live_server):
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "midwife.brd")
    page.fill("input[name=password]", "not the password at all")
    page.click("button[type=submit]")
    body = page.inner_text("main")
    assert "username or password" in body.lower()
    assert page.url.endswith("/login")


@pytest.mark.parametrize(
    ("username", "offered", "not_offered"),
    [
        ("midwife.brd", [], ["Find a participant", "Manage sites", "Manage users"]),
        ("datamanager", ["Find a participant"], ["Manage users", "Check the audit trail"]),
        (
            "admin",
            ["Manage sites", "Manage users", "Check the audit trail"],
            ["Find a participant"],
        ),
    ],
)
def test_each_role_is_offered_only_its_own_pages(page, live_server, username, offered, not_offered):
    sign_in(page, live_server, username)
    nav = page.inner_text("header")
    for label in offered:
        assert label in nav
    for label in not_offered:
        assert label not in nav
    assert serious_accessibility_violations(page) == []


def test_data_manager_finds_a_participant_and_views_her_identity(page, live_server):
    inst = live_server.inst
    with Session(inst.engine) as s:
        participant = s.exec(select(Participant).order_by(Participant.id)).first()
        identity = vault.read_identity(s, inst.keys, participant.id)
    sign_in(page, live_server, "datamanager")
    page.goto(f"{live_server.url}/participants/find")
    page.fill("input[name=nhs_number]", identity.nhs_number)
    page.click("form[action='/participants/find'] button")
    page.wait_for_load_state()
    assert participant.study_id in page.inner_text("main")
    assert identity.family_name not in page.inner_text("main")
    screenshot(page, "spine-participant-found")
    page.click("form[action='/participants/identity'] button")
    page.wait_for_load_state()
    assert identity.family_name in page.inner_text("main")
    screenshot(page, "spine-participant-identity")
    assert serious_accessibility_violations(page) == []
