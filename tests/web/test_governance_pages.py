"""The governance dashboard in the web app: figures on a network known by construction,
the site-lead rule (URL tampering included), hostile filters, CSV downloads (plain and
publishable, formula injection neutralised), and the audit-chain check."""

import csv
import io
import re

import pandas as pd
import pytest
from sqlmodel import Session, select

from cohort import audit
from cohort.db import session_scope
from cohort.models import AuditEvent, BirthCount, ImdLookup, LinkageRun, Participant, Site, User
from cohort.research import sample_world
from tests.governance.seed import at, consents, declines
from tests.web.conftest import csrf_of, ensure_site, sign_in

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
PAGES = (
    "/governance",
    "/governance/breakdowns",
    "/governance/representativeness",
    "/governance/withdrawals",
    "/governance/access",
)


@pytest.fixture
def network(instance, make_user):
    """Site A (RAE): Anna 50 consents + 12 declines, Beth 30 + 8, in March; site B
    (Zed General): Zoe, 5 consents. A lead for A, a network lead, an admin."""
    with session_scope(instance.engine) as db:
        a = ensure_site(db)
        b = ensure_site(db, "ZED", "Zed General")
    anna = make_user("anna", "midwife", site_code="RAE", full_name="Anna Able")
    beth = make_user("beth", "midwife", site_code="RAE", full_name="Beth Baker")
    zoe = make_user("zoe", "midwife", site_code="ZED", full_name="Zoe Zimmer")
    make_user("lead.rae", "governance", site_code="RAE")
    make_user("network", "governance")
    make_user("boss", "admin")
    e = instance.engine
    consents(e, 50, site=a, by=anna, when=at(3, 2))
    consents(e, 30, site=a, by=beth, when=at(3, 16), language="ur", ethnicity="pakistani")
    declines(e, 12, site=a, by=anna, when=at(3, 3))
    declines(e, 8, site=a, by=beth, when=at(3, 17), language="pl")
    consents(e, 5, site=b, by=zoe, when=at(3, 9))
    return instance


def test_the_overview_shows_the_rates_with_charts_and_tables(client, network):
    sign_in(client, "network")
    page = client.get("/governance", params={**MARCH, "site": "RAE"})
    assert page.status_code == 200
    assert "80.0%" in page.text
    assert page.text.count('class="cohort-chart" role="img"') == 3  # site, month, week
    assert '<title id="consent-by-site-chart-title">' in page.text
    assert '<table class="nhsuk-table-responsive" id="consent-by-site-table">' in page.text
    assert "<script" not in page.text.split("<main", 1)[1]  # the charts need no JavaScript


@pytest.mark.parametrize("username", ["network", "boss", "lead.rae"])
def test_every_page_renders_for_governance_and_admin(client, network, username):
    sign_in(client, username)
    for path in PAGES:
        assert client.get(path, params=MARCH).status_code == 200, path


def test_the_network_sees_midwives_only_as_codes(client, network):
    sign_in(client, "network")
    page = client.get("/governance/breakdowns", params=MARCH).text
    assert "RAE-M01" in page and "ZED-M01" in page
    for name in ("Anna Able", "Beth Baker", "Zoe Zimmer"):
        assert name not in page


def test_a_site_lead_sees_her_midwives_by_name_and_only_her_site(client, network):
    sign_in(client, "lead.rae")
    page = client.get("/governance/breakdowns", params=MARCH).text
    assert "Anna Able" in page and "Beth Baker" in page
    assert "Zoe Zimmer" not in page and "ZED" not in page


@pytest.mark.parametrize("path", [*PAGES, "/governance/download"])
def test_a_site_lead_cannot_reach_another_site_by_editing_the_address(client, network, path):
    sign_in(client, "lead.rae")
    params = {**MARCH, "site": "ZED", "table": "consent-by-midwife"}
    refused = client.get(path, params=params)
    assert refused.status_code == 403
    assert "Zoe Zimmer" not in refused.text and "ZED-M01" not in refused.text
    assert "your own site" in refused.text


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"from": "yesterday"}, "year-month-day"),
        ({"from": "2026-04-01", "to": "2026-03-01"}, "start on or before"),
        ({"site": "NOWHERE"}, "no such site"),
        ({"to": "9" * 10_000}, "year-month-day"),
        ({"site": "<script>alert(1)</script>"}, "no such site"),
    ],
)
def test_hostile_filters_get_a_clear_error_and_no_figures(client, network, params, says):
    sign_in(client, "network")
    before = _events(network)
    page = client.get("/governance", params=params)
    assert page.status_code == 400
    assert says in page.text
    assert "nhsuk-error-summary" in page.text
    assert "<script>alert" not in page.text
    assert "9" * 100 not in page.text.split("<main", 1)[1]  # the message shortens it
    assert "consent-by-site-table" not in page.text
    assert _events(network) == before  # nothing recorded, nothing changed


def _events(instance) -> int:
    with Session(instance.engine) as s:
        return len(s.exec(select(AuditEvent.id)).all())


def _csv(response) -> dict[str, list[str]]:
    rows = list(csv.reader(io.StringIO(response.text)))
    return {row[0]: row[1:] for row in rows}


def test_a_table_downloads_as_csv_and_the_download_is_recorded(client, network):
    sign_in(client, "network")
    got = client.get("/governance/download", params={**MARCH, "table": "consent-by-site"})
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    assert "consent-by-site_2026-03-01_2026-03-31.csv" in got.headers["content-disposition"]
    table = _csv(got)
    assert table["Bradford Royal Infirmary (RAE)"] == ["80", "20", "100", "80.0%"]
    assert table["Zed General (ZED)"] == ["5", "0", "5", "100.0%"]
    with Session(network.engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "governance.download")).one()
    assert event.actor == "network" and event.detail["table"] == "consent-by-site"


def test_the_publishable_download_applies_disclosure_control(client, network):
    sign_in(client, "network")
    params = {**MARCH, "table": "consent-by-site", "publishable": "true"}
    table = _csv(client.get("/governance/download", params=params))
    assert table["Zed General (ZED)"][0] == "suppressed"  # 5 consents
    assert table["Zed General (ZED)"][3] == "suppressed"  # and her rate
    assert all(cell == "suppressed" or int(cell) % 5 == 0 for cell in table["Total"][:3])


def test_a_formula_in_a_label_is_neutralised_in_the_csv(client, network, make_user):
    with session_scope(network.engine) as db:
        db.add(Site(code="EVIL", name='=HYPERLINK("http://evil.example","x")'))
    evil = make_user("eve", "midwife", site_code="EVIL")
    with Session(network.engine) as s:
        site = s.exec(select(Site).where(Site.code == "EVIL")).one()
    declines(network.engine, 9, site=site, by=evil, when=at(3, 4))
    sign_in(client, "network")
    got = client.get("/governance/download", params={**MARCH, "table": "consent-by-site"})
    label = next(row[0] for row in csv.reader(io.StringIO(got.text)) if "EVIL" in row[0])
    assert label.startswith("'=HYPERLINK")


def test_an_unknown_table_is_refused(client, network):
    sign_in(client, "network")
    got = client.get("/governance/download", params={"table": "identity"})
    assert got.status_code == 404
    assert "no such table" in got.text


def test_the_audit_chain_is_checked_on_demand_and_the_verdict_kept(client, network):
    csrf = sign_in(client, "network")
    assert "has not been checked yet" in client.get("/governance/access").text
    refused = client.post("/governance/access/verify", data={})
    assert refused.status_code == 403
    done = client.post(
        "/governance/access/verify", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    page = client.get("/governance/access").text
    assert re.search(r"Intact: \d+ events checked", page)
    assert "Linkage coverage appears here once linkage has run." in page


def test_a_midwife_cannot_open_the_dashboard(client, network):
    sign_in(client, "anna")
    assert client.get("/governance").status_code == 403
    assert (
        client.get("/governance/download", params={"table": "consent-by-site"}).status_code == 403
    )


def test_the_menu_offers_the_dashboard_to_governance(client, network):
    sign_in(client, "network")
    assert 'href="/governance"' in client.get("/").text
    assert csrf_of(client.get("/governance").text)


def test_the_access_page_shows_extracts_and_downloads_by_project(client, network):
    with session_scope(network.engine) as db:
        audit.record(db, actor="rita", action="research.download", project="P-ONE")
    sign_in(client, "network")
    page = client.get("/governance/access").text
    assert "Extracts and downloads by project and researcher" in page
    assert "P-ONE · rita" in page


def test_linkage_coverage_counts_consented_participants_on_the_page_and_in_downloads(
    client, network
):
    """RAE: 10 mothers whose consent covers maternity records, 7 linked; ZED: 5, 4 linked."""
    e = network.engine
    with Session(e) as s:
        rae, zed = (s.exec(select(Site).where(Site.code == c)).one() for c in ("RAE", "ZED"))
        anna, zoe = (s.exec(select(User).where(User.username == u)).one() for u in ("anna", "zoe"))
    covers = {"link_mother_health": True}
    at_rae = consents(e, 10, site=rae, by=anna, when=at(3, 4), items=covers)
    at_zed = consents(e, 5, site=zed, by=zoe, when=at(3, 4), items=covers)
    with session_scope(e) as db:
        db.add(
            LinkageRun(
                source="maternity",
                file_name="f.csv",
                file_sha256="0" * 64,
                outcome="succeeded",
                rows_read=12,
                rows_written=11,
                started_at=at(3, 5),
            )
        )
        found = dict(db.exec(select(Participant.id, Participant.study_id)).all())
    linked = [found[pid] for pid in [*at_rae[:7], *at_zed[:4]]]
    sample_world.link(
        network.settings.research_store_path,
        "maternity",
        pd.DataFrame({"study_id": linked}),
        linked_at=at(3, 5),
    )
    params = {**MARCH, "table": "linkage-coverage"}

    sign_in(client, "network")
    page = client.get("/governance/access", params=MARCH).text
    assert "Share of consented participants linked" in page and "Share of rows linked" in page
    assert "73.3%" in page  # 11 of 15
    assert _csv(client.get("/governance/download", params=params))["maternity"] == [
        *("15", "11", "1", "1", "0", "0", "12", "11", "0"),
        *("73.3%", "91.7%"),
    ]

    sign_in(client, "lead.rae")
    assert "70.0%" in client.get("/governance/access", params=MARCH).text
    own = _csv(client.get("/governance/download", params=params))
    assert own["maternity"][:2] == ["10", "7"] and own["maternity"][-2] == "70.0%"
    published = _csv(client.get("/governance/download", params={**params, "publishable": "true"}))
    assert published["maternity"][:2] == ["10", "suppressed"]  # 7 is at the threshold
    assert published["maternity"][-2] == "suppressed"


def test_the_representativeness_page_says_whether_an_imd_lookup_is_loaded(client, network):
    sign_in(client, "network")
    before = client.get("/governance/representativeness", params=MARCH).text
    assert "No postcode-to-IMD lookup is loaded" in before
    assert "quintile 1 is the most deprived" in before
    with session_scope(network.engine) as db:
        db.add(ImdLookup(file_name="imd2019.csv", sha256="ab" * 32, rows=1234, loaded_by="cli"))
    after = client.get("/governance/representativeness", params=MARCH).text
    assert "No postcode-to-IMD lookup is loaded" not in after
    assert "1234 postcodes from imd2019.csv" in after and "IMD quintile" in after
    params = {**MARCH, "table": "mix-by-deprivation", "publishable": "true"}
    published = _csv(client.get("/governance/download", params=params))
    assert published["Not recorded"][:3] == ["85", "20", "105"]  # the seeded rows: no decile


def test_the_representativeness_page_shows_births_and_says_when_they_are_network_wide(
    client, network
):
    sign_in(client, "network")
    before = client.get("/governance/representativeness", params=MARCH).text
    assert "once a maternity file has been linked" in before and "Share of births" not in before
    with session_scope(network.engine) as db:
        db.add(
            BirthCount(
                source="maternity",
                file_sha256="f" * 64,
                month="2026-03",
                age_band="25_29",
                ethnicity="pakistani",
                births=400,
            )
        )
    network_page = client.get("/governance/representativeness", params=MARCH).text
    assert "Share of births" in network_page and ">400<" in network_page
    assert "whole network&#39;s" not in network_page
    site_page = client.get("/governance/representativeness", params={**MARCH, "site": "RAE"})
    assert "the births shown are the whole network&#39;s" in site_page.text
