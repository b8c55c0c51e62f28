"""A governance lead reads the dashboard in a real browser: charts drawn, tables beside
them, no serious or critical accessibility violations, with JavaScript on and off."""

import pytest

from tests.browser.conftest import screenshot, serious_accessibility_violations, sign_in

pytestmark = pytest.mark.browser

PAGES = (
    ("/governance", "governance-consent-rates"),
    ("/governance/breakdowns", "governance-breakdowns"),
    ("/governance/representativeness", "governance-representativeness"),
    ("/governance/withdrawals", "governance-withdrawals"),
    ("/governance/access", "governance-access"),
)


@pytest.mark.parametrize(("path", "name"), PAGES)
def test_every_dashboard_page_renders_accessibly(page, live_server, path, name):
    sign_in(page, live_server, "governance")
    page.goto(f"{live_server.url}{path}")
    assert page.locator("h1").inner_text()
    screenshot(page, name)
    assert serious_accessibility_violations(page) == []


def test_the_trend_and_site_charts_are_drawn_with_their_tables(page, live_server):
    sign_in(page, live_server, "governance")
    page.goto(f"{live_server.url}/governance")
    charts = page.locator("svg.cohort-chart[role=img]")
    assert charts.count() == 3
    assert page.locator("svg.cohort-chart title").first.text_content()  # its text alternative
    box = charts.first.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 50
    assert page.locator("#consent-by-site-table").is_visible()
    assert page.locator("#consent-by-month-table").is_visible()


def test_the_dashboard_works_with_javascript_off(browser, live_server):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1100, "height": 900}
    )
    page = context.new_page()
    try:
        sign_in(page, live_server, "governance.brd")
        page.goto(f"{live_server.url}/governance/breakdowns")
        assert page.locator("svg.cohort-chart").count() == 4
        page.fill("input[name=from]", "2000-01-01")
        page.click("form[action='/governance/breakdowns'] button")
        page.wait_for_load_state()
        assert "from=2000-01-01" in page.url
        screenshot(page, "governance-site-lead-no-javascript")
    finally:
        context.close()
