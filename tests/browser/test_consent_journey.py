"""The midwife's journey in a real browser: record a consent in English and in Urdu,
with JavaScript on and off; the woman's statements beside English, right to left for
Urdu; a study ID at the end; no serious accessibility violation on any page."""

import re
from datetime import date

import pytest

from cohort import synth
from tests.browser.conftest import screenshot, serious_accessibility_violations, sign_in

pytestmark = pytest.mark.browser

ITEMS = ("link_mother_health", "link_baby_health", "link_council", "contact")
# (midwife's UI language, the woman's language, JavaScript on)
JOURNEYS = [
    ("en", "en", True),
    ("en", "en", False),
    ("en", "ur", True),
    ("en", "ur", False),
    ("ur", "ur", True),
    ("ur", "ur", False),
]
# A population the demo seed never draws from, one woman per journey.
WOMEN = synth.mothers(4242, len(JOURNEYS) + 1, today=date.today())


def _switch_ui_language(page, code: str) -> None:
    page.select_option("select[name=ui_language]", code)
    page.click("#change-language")
    page.wait_for_load_state()


@pytest.mark.parametrize(
    ("ui", "language", "js"),
    JOURNEYS,
    ids=[f"ui-{ui}-her-{lang}-{'js' if js else 'no-js'}" for ui, lang, js in JOURNEYS],
)
def test_midwife_records_a_consent_and_gets_a_study_id(browser, live_server, ui, language, js):
    context = browser.new_context(viewport={"width": 1100, "height": 1400}, java_script_enabled=js)
    page = context.new_page()
    woman = WOMEN[JOURNEYS.index((ui, language, js))]
    name = f"consent-ui-{ui}-her-{language}-{'js' if js else 'no-js'}"
    sign_in(page, live_server, "midwife.brd")
    if ui != "en":
        _switch_ui_language(page, ui)
        assert page.get_attribute("html", "lang") == ui
        assert page.get_attribute("html", "dir") == "rtl"
    page.goto(f"{live_server.url}/consents/new")
    if js:  # axe-core itself needs JavaScript
        assert serious_accessibility_violations(page) == []

    page.check("input[name=outcome][value='1']")  # with JS on, this reveals her details
    page.fill("input[name=nhs_number]", woman.nhs_number)
    page.fill("input[name=given_name]", woman.given_name)
    page.fill("input[name=family_name]", woman.family_name)
    page.fill("input[name=date_of_birth]", woman.date_of_birth.isoformat())
    page.fill("input[name=postcode]", woman.postcode)
    page.select_option("select[name=discussion_language]", language)
    page.click("#show-statements")
    page.wait_for_load_state()
    if language != ui:  # her statements beside the midwife's, in her script's direction
        hers = page.locator("#leaflet-her-language")
        assert hers.get_attribute("lang") == language
        assert hers.get_attribute("dir") == "rtl"
    for item in ITEMS:
        page.check(f"input[name=consent_items][value={item}]")
    screenshot(page, f"{name}-form")
    page.click("#save")
    page.wait_for_load_state()

    study_id = page.inner_text("#study-id")
    assert re.fullmatch(r"BB-[0-9A-Z]{4}-[0-9A-Z]{4}", study_id)
    assert woman.family_name not in page.inner_text("main")
    screenshot(page, f"{name}-confirmation")
    if js:  # axe-core itself needs JavaScript
        assert serious_accessibility_violations(page) == []
    context.close()


def test_branching_hides_identifier_questions_for_a_decline_when_javascript_is_on(
    page, live_server
):
    sign_in(page, live_server, "midwife.brd")
    page.goto(f"{live_server.url}/consents/new")
    page.check("input[name=outcome][value='0']")
    assert page.locator("[data-field=nhs_number]").is_hidden()
    assert page.locator("[data-field=age_band]").is_visible()
    page.check("input[name=outcome][value='1']")
    assert page.locator("[data-field=nhs_number]").is_visible()
    assert page.locator("[data-field=age_band]").is_hidden()


def test_after_typing_her_details_a_consent_takes_at_most_six_clicks(page, live_server):
    woman = WOMEN[len(JOURNEYS)]
    clicks: list[str] = []

    def click(selector: str) -> None:
        clicks.append(selector)
        page.click(selector)

    sign_in(page, live_server, "midwife.brd")
    page.click("a[href='/consents/new']")  # from her home page
    page.wait_for_load_state()
    page.select_option("select[name=discussion_language]", "ur")
    page.check("input[name=outcome][value='1']")
    page.fill("input[name=nhs_number]", woman.nhs_number)
    page.fill("input[name=given_name]", woman.given_name)
    page.fill("input[name=family_name]", woman.family_name)
    page.fill("input[name=date_of_birth]", woman.date_of_birth.isoformat())
    page.fill("input[name=postcode]", woman.postcode)
    for item in ITEMS:
        click(f"input[name=consent_items][value={item}]")
    click("#save")
    page.wait_for_load_state()
    assert re.fullmatch(r"BB-[0-9A-Z]{4}-[0-9A-Z]{4}", page.inner_text("#study-id"))
    assert len(clicks) <= 6


def _tab_to(page, selector: str, limit: int = 120) -> None:
    """Press Tab until ``selector`` has the focus, as a keyboard user moves through a page."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def test_a_consent_can_be_recorded_with_the_keyboard_alone(page, live_server):
    woman = synth.mothers(4343, 1, today=date.today())[0]
    sign_in(page, live_server, "midwife.brd")
    page.goto(f"{live_server.url}/consents/new")
    _tab_to(page, "select[name=discussion_language]")
    page.keyboard.type("English")
    _tab_to(page, "input[name=outcome][value='1']")
    page.keyboard.press("Space")
    typed = {
        "nhs_number": woman.nhs_number,
        "given_name": woman.given_name,
        "family_name": woman.family_name,
        "date_of_birth": woman.date_of_birth.isoformat(),
        "postcode": woman.postcode,
    }
    for field, value in typed.items():
        _tab_to(page, f"input[name={field}]")
        page.keyboard.type(value)
    for item in ITEMS:
        _tab_to(page, f"input[name=consent_items][value={item}]")
        page.keyboard.press("Space")
    _tab_to(page, "#save")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/submissions/"))
    assert re.fullmatch(r"BB-[0-9A-Z]{4}-[0-9A-Z]{4}", page.inner_text("#study-id"))
