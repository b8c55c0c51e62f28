"""A data manager registers a project and puts the demo researcher on it; the researcher
makes an extract, asks an aggregate question and uses the SQL console, in a real browser:
every page with no serious or critical accessibility violations, and screenshots."""

from datetime import date, timedelta

import pytest

from tests.browser.conftest import screenshot, serious_accessibility_violations, sign_in

pytestmark = pytest.mark.browser
CODE = "BROWSER-01"


def checked_page(page, name: str) -> None:
    assert page.locator("h1").inner_text()
    screenshot(page, name)
    assert serious_accessibility_violations(page) == []


def test_register_extract_query_and_console(browser, live_server):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_server, "datamanager")
        page.goto(f"{live_server.url}/projects")
        checked_page(page, "research-projects")
        page.fill("#code", CODE)
        page.fill("#title", "Browser journey")
        page.fill("#lead", "Dr Lead")
        page.fill("#approval_reference", "REC 26/YH/0099")
        page.fill("#approved_from", (date.today() - timedelta(days=1)).isoformat())
        page.fill("#approved_until", (date.today() + timedelta(days=30)).isoformat())
        for value in ("consent.age_band", "consent.ethnicity", "consent.site"):
            page.check(f"input[name=variables][value='{value}']")
        page.check("input[name=row_level]")
        page.click("form[action='/projects'] button")
        page.wait_for_load_state()
        assert f"/projects/{CODE}" in page.url
        page.fill("#username", "researcher")
        page.click("button[value=add]")
        page.wait_for_load_state()
        checked_page(page, "research-project-admin")

        context.clear_cookies()
        sign_in(page, live_server, "researcher")
        page.goto(f"{live_server.url}/projects/{CODE}")
        page.click("#make-extract")
        page.wait_for_load_state()
        assert page.locator("a[href$='/files/zip']").count() == 1
        checked_page(page, "research-project-extract")

        page.goto(f"{live_server.url}/projects/{CODE}/queries?dataset=consent&group_by=age_band")
        assert page.locator("svg.cohort-chart[role=img]").count() == 1
        checked_page(page, "research-query")

        page.goto(f"{live_server.url}/projects/{CODE}/console")
        page.fill("#sql", "SELECT site, count(DISTINCT pseudonym) AS n FROM consent GROUP BY site")
        page.click("form[action$='/console'] button")
        page.wait_for_load_state()
        assert page.locator("table.nhsuk-table").count() == 1
        checked_page(page, "research-console")
    finally:
        context.close()
