"""Stored and reflected XSS in participants' records, forms and partner data: every text
a midwife, a data manager or a partner can put in renders as text on every page showing it.

Payloads go in through the services users and partners reach: a consent form version a
data manager publishes (labels, notes, choices, section headers, a new address question
and a free-text notes question), its uploaded Urdu translations, a consent recorded by a
midwife with a hostile full name (the woman's names, address and notes answer hostile),
and partner files in the maternity inbox (a file with a hostile name whose rows carry
hostile payload strings and identifiers and a row rejected for a hostile date, and a
file refused for its hostile header). Linkage runs them, a researcher's extract takes
the payload, the governance dashboard labels its tables and charts with the form's
choices and the midwife's name, and each page is opened in Chromium without its CSP
(``tests.browser.hostile_text``). Withdrawals carry no free text: a level is chosen from
fixed options.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import cycle, islice

import pandas as pd
import pytest
from sqlmodel import Session, select

from cohort import demo
from cohort.auth import users
from cohort.config import Settings
from cohort.db import session_scope
from cohort.instance import Instance, initialise, open_instance
from cohort.models import LinkageRun, User
from cohort.research import extracts
from linkage_jobs import runner, synth_deliveries
from linkage_jobs.runner import Places
from linkage_jobs.spec import load_specs
from tests.browser.hostile_text import assert_inert, sign_in
from tests.consent_world import NHS_NUMBER
from tests.hostile_input import (
    PAYLOAD,
    PAYLOADS,
    enrol_hostile_mother,
    hostile_dictionary,
    publish_hostile_form,
)
from tests.live_server import serve

pytestmark = pytest.mark.browser

MIDWIFE, DATA_MANAGER, RESEARCHER = "xss.midwife", "datamanager", "researcher"
GOVERNANCE, SITE_LEAD = "governance", "governance.brd"  # the site lead sees midwives' names
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class HostileRecords:
    url: str
    passwords: dict[str, str]
    study_id: str
    runs: list[int]
    translations: bytes  # the Urdu file taken, to upload again with a foreign text


def _deliver_hostile_files(inst: Instance) -> None:
    """A maternity file named with a payload, its string payload and a forename hostile
    and one row's booking date a payload; beside it a file refused for its header."""
    spec = load_specs()["maternity"]
    (delivery,) = synth_deliveries.deliver(inst, {spec.name: spec}, seed=11)
    rows = pd.read_csv(delivery.file, dtype=str, keep_default_na=False)
    rows["Delivery_Mode"] = list(islice(cycle(PAYLOADS), len(rows)))
    rows.loc[0, "Forename"] = PAYLOAD
    rows.loc[1, "Booking_Date"] = PAYLOAD
    inbox = Places.of(inst.settings, spec).inbox
    rows.to_csv(inbox / f"maternity {PAYLOADS[1]}.csv", index=False)
    delivery.file.unlink()
    refused = pd.DataFrame({"NHS_No": ["9434765919"], PAYLOADS[1]: [PAYLOAD]})
    refused.to_csv(inbox / f"{PAYLOADS[2]}.csv", index=False)
    runner.run_source(inst, spec, actor=DATA_MANAGER)


def _extract_for_the_researcher(inst: Instance) -> None:
    with session_scope(inst.engine) as db:
        researcher = db.exec(select(User).where(User.username == RESEARCHER)).one()
        extracts.make_extract(db, inst.settings, inst.keys.pseudonym, researcher, "DEMO-001")


@pytest.fixture(scope="module")
def hostile_records(tmp_path_factory) -> Iterator[HostileRecords]:
    data = tmp_path_factory.mktemp("xss-records") / "var"
    settings = Settings(data_dir=data)
    initialise(settings)
    inst = open_instance(settings)
    logins = demo.seed(inst, today=date.today(), link=False)
    translations = publish_hostile_form(inst.engine, DATA_MANAGER)
    with session_scope(inst.engine) as db:
        midwife = users.create_user(
            db,
            username=MIDWIFE,
            full_name=PAYLOAD,
            role="midwife",
            password=PASSWORD,
            site_code="BRD",
            actor="test",
        )
    study_id = enrol_hostile_mother(inst.engine, inst.keys, midwife)
    _deliver_hostile_files(inst)
    _extract_for_the_researcher(inst)
    with Session(inst.engine) as db:
        runs = [run.id for run in db.exec(select(LinkageRun).order_by(LinkageRun.id))]
    inst.engine.dispose()
    with serve(data) as url:
        passwords = {x.username: x.password for x in logins} | {MIDWIFE: PASSWORD}
        yield HostileRecords(url, passwords, study_id, runs, translations)


def _open_all(page, ran, records: HostileRecords, username: str, paths: list[str]) -> None:
    sign_in(page, records.url, username, records.passwords[username])
    for path in paths:
        page.goto(records.url + path)
        assert "<img src=x" in page.inner_text("main").lower(), path  # shown, as text
        assert_inert(page, ran, path)


def test_a_published_form_and_its_translations_are_inert_on_the_consent_form(
    watched, hostile_records
):
    page, ran = watched
    sid = hostile_records.study_id
    paths = [
        "/consents/new",
        "/consents/new?language=ur",
        f"/participants/{sid}/consent",
    ]
    _open_all(page, ran, hostile_records, MIDWIFE, paths)
    page.goto(f"{hostile_records.url}/participants/{sid}")  # recorded by her, by username
    assert_inert(page, ran, "her consent page")
    page.goto(f"{hostile_records.url}/consents/new")
    page.select_option("select[name=ui_language]", "ur")  # the midwife's own language
    page.click("form[action='/language'] button")
    page.wait_for_load_state()
    assert "<img src=x" in page.inner_text("main").lower()
    assert_inert(page, ran, "the form in Urdu")


def test_typed_answers_shown_again_with_an_error_are_inert(watched, hostile_records):
    page, ran = watched
    sign_in(page, hostile_records.url, MIDWIFE, hostile_records.passwords[MIDWIFE])
    page.goto(f"{hostile_records.url}/consents/new")
    page.check("input[name=outcome][value='1']")
    for name in ("given_name", "family_name", "address", "notes"):
        page.fill(f"[name={name}]", PAYLOAD)
    page.fill("[name=postcode]", PAYLOADS[1])
    page.click("#save")
    page.wait_for_load_state()
    assert page.locator(".nhsuk-error-summary").count() == 1
    assert page.input_value("[name=notes]") == PAYLOAD
    assert_inert(page, ran, "the form shown again with its errors")


def _upload(page, url: str, action: str, body: bytes, version: str = "") -> None:
    page.goto(f"{url}/instruments")
    form = f"form[action='{action}']"
    page.set_input_files(
        f"{form} input[type=file]",
        files=[{"name": f"{PAYLOADS[2]}.txt", "mimeType": "text/plain", "buffer": body}],
    )
    if version:
        page.fill(f"{form} input[name=version]", version)
    page.click(f"{form} button[type=submit]")
    page.wait_for_load_state()


def test_refused_uploads_quoting_their_text_are_inert(watched, hostile_records):
    page, ran = watched
    url = hostile_records.url
    sign_in(page, url, DATA_MANAGER, hostile_records.passwords[DATA_MANAGER])
    refused = hostile_dictionary({("notes", "Identifier?"): PAYLOADS[1]})
    _upload(page, url, "/instruments", refused.encode(), version="3")
    assert "<img src=x" in page.inner_text(".nhsuk-error-summary").lower()
    assert_inert(page, ran, "a dictionary refused")
    foreign = f'msgid "{PAYLOADS[2]}"\nmsgstr "{PAYLOADS[2]}"\n'.encode()
    _upload(page, url, "/instruments/translations", hostile_records.translations + foreign)
    assert "<svg" in page.inner_text(".nhsuk-error-summary").lower()
    assert_inert(page, ran, "a translation file refused")


def test_her_identity_and_record_are_inert_for_the_data_manager(watched, hostile_records):
    page, ran = watched
    sid = hostile_records.study_id
    sign_in(page, hostile_records.url, DATA_MANAGER, hostile_records.passwords[DATA_MANAGER])
    page.goto(f"{hostile_records.url}/participants/{sid}")
    assert_inert(page, ran, "her consent page")
    page.goto(f"{hostile_records.url}/participants/find")
    page.fill("input[name=nhs_number]", NHS_NUMBER)
    page.click("form[action='/participants/find'] button")
    page.wait_for_load_state()
    assert_inert(page, ran, "find a participant")
    page.click("form[action='/participants/identity'] button")
    page.wait_for_load_state()
    assert page.inner_text("main").count(PAYLOADS[0]) == 3  # names and address, as text
    assert_inert(page, ran, "her identity")


def test_partner_files_and_their_runs_are_inert_on_the_linkage_pages(watched, hostile_records):
    page, ran = watched
    runs = [f"/linkage/run?id={run}" for run in hostile_records.runs]
    _open_all(page, ran, hostile_records, DATA_MANAGER, ["/linkage", *runs])
    page.goto(f"{hostile_records.url}/linkage/review")
    assert page.locator("form[action='/linkage/review']").count() >= 1  # a pair is shown
    assert_inert(page, ran, "clerical review")


def test_choice_labels_and_midwives_names_are_inert_on_the_governance_dashboard(
    watched, hostile_records
):
    page, ran = watched
    paths = ["/governance/breakdowns", "/governance/representativeness"]
    _open_all(page, ran, hostile_records, GOVERNANCE, paths)
    page.context.clear_cookies()
    _open_all(page, ran, hostile_records, SITE_LEAD, ["/governance/breakdowns"])
    assert PAYLOADS[0] in page.inner_text("main")  # the midwife's name, by her consents


def test_payload_strings_are_inert_in_query_results_and_the_console(watched, hostile_records):
    page, ran = watched
    query = "dataset=maternity&group_by=Delivery_Mode&measure=count&filter_value="
    _open_all(
        page,
        ran,
        hostile_records,
        RESEARCHER,
        [f"/projects/DEMO-001/queries?{query}{PAYLOADS[1]}"],
    )
    groups = page.locator("td").all_inner_texts()
    assert all(payload in groups for payload in PAYLOADS)  # each a group, as text
    for sql in (
        "SELECT Delivery_Mode FROM maternity LIMIT 8",
        f"SELECT '{PAYLOADS[1].replace(chr(39), chr(39) * 2)}' AS shown",
        f'SELECT * FROM "{PAYLOADS[1].replace(chr(34), "")}"',  # noqa: S608  (refused, quoting it)
    ):
        page.goto(f"{hostile_records.url}/projects/DEMO-001/console")
        page.fill("textarea[name=sql]", sql)
        page.click("form[action='/projects/DEMO-001/console'] button")
        page.wait_for_load_state()
        assert "<img src=x" in page.inner_text("main"), sql
        assert_inert(page, ran, sql)
