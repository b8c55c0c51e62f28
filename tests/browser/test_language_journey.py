"""A visitor chooses her language before signing in, in a real browser, with JavaScript on
and off: the sign-in page comes back in Urdu, right to left, and signing in takes her on
to the page she asked for, still in Urdu."""

import pytest

from cohort import i18n
from tests.browser.conftest import screenshot, serious_accessibility_violations

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_visitor_chooses_urdu_on_the_sign_in_page(browser, live_server, js):
    context = browser.new_context(java_script_enabled=js)
    page = context.new_page()
    page.goto(f"{live_server.url}/participants/find")
    page.select_option("select[name=ui_language]", "ur")
    page.click("#change-language")
    page.wait_for_load_state()

    html = page.locator("html")
    assert (html.get_attribute("lang"), html.get_attribute("dir")) == ("ur", "rtl")
    assert page.inner_text("h1") == i18n.gettext("ur")("Sign in") != "Sign in"
    screenshot(page, f"sign-in-chosen-urdu-{'js' if js else 'no-js'}")
    if js:  # axe-core runs in the page
        assert serious_accessibility_violations(page) == []

    page.fill("input[name=username]", "datamanager")
    page.fill("input[name=password]", live_server.passwords["datamanager"])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/participants/find")
    assert page.locator("html").get_attribute("dir") == "rtl"
    context.close()
