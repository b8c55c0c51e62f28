"""The stored-XSS journeys' check that hostile text (``tests.hostile_input``) stayed text.

A payload that ran sets ``window.__xss`` or logs ``XSS-RAN``; one that became markup left
an element with an inline handler (the app writes none: its CSP allows no inline script),
whatever case a service folded it to. Pages are opened with the CSP switched off
(``bypass_csp``): the CSP would block an injected script anyway, and these journeys are
about the escaping under it.
"""

from playwright.sync_api import Page

# Elements a payload made: a script holding the mark, or any inline event handler.
INJECTED = """() => [...document.querySelectorAll("*")].filter(e =>
  (e.tagName === "SCRIPT" && /xss-ran/i.test(e.text)) ||
  [...e.attributes].some(a => a.name.toLowerCase().startsWith("on"))).length"""


def sign_in(page: Page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def assert_inert(page: Page, ran: list[str], where: str) -> None:
    page.wait_for_timeout(50)  # let an onerror or onload handler fire, if one was made
    assert page.evaluate("window.__xss === undefined"), where
    assert ran == [], where
    assert page.evaluate(INJECTED) == 0, where
