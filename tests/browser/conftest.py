"""Headless Chromium journeys against a real ``cohort serve`` on loopback.

Debian's chromium is driven by Playwright through ``executable_path`` (no browser
download). Screenshots go to ``test-output/screenshots``; axe-core (installed by
``make frontend``) is injected with ``page.evaluate`` because the CSP blocks script tags.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from cohort import demo
from cohort.config import Settings
from cohort.instance import Instance, initialise, open_instance
from tests.live_server import ROOT, serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / ".frontend" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-output" / "screenshots"


@dataclass
class LiveServer:
    url: str
    inst: Instance
    passwords: dict[str, str]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("live") / "var"
    settings = Settings(data_dir=data)
    initialise(settings)
    inst = open_instance(settings)
    logins = demo.seed(inst, today=date.today())
    with serve(data) as url:
        yield LiveServer(url, inst, {x.username: x.password for x in logins})
    inst.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError("chromium is not installed: run 'make test', which installs it")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def watched(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A page without the CSP, and every sign of a stored-XSS payload that ran
    (``tests.browser.hostile_text``)."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    ran: list[str] = []
    page.on("console", lambda m: ran.append(m.text) if "XSS-RAN" in m.text else None)
    page.on("dialog", lambda d: (ran.append(d.message), d.dismiss()))
    yield page, ran
    context.close()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def serious_accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the current page, as readable lines."""
    if not AXE.exists():
        raise RuntimeError("axe-core is not installed: run 'make frontend'")
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def sign_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", server.passwords[username])
    page.click("button[type=submit]")
    page.wait_for_load_state()
