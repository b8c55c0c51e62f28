"""The REDCap-compatible API, spoken to by PyCap (a real REDCap client) against a real
``cohort serve`` on loopback, on SQLite and PostgreSQL: what REDCap clients depend on,
scoping by the token owner's role and site, and REDCap's error shapes."""

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from xml.sax.saxutils import escape

import httpx
import pandas as pd
import pytest
import semantic_version
from fastapi.testclient import TestClient
from redcap import Project, RedcapError
from sqlmodel import Session, select

from cohort import synth
from cohort.db import make_engine
from cohort.models import AuditEvent
from cohort.web.app import create_app
from tests.interop.redcap_world import (
    OTHER_SITE,
    SITE,
    RedcapWorld,
    consent_answers,
    make_redcap_world,
    migrated_url,
)
from tests.live_server import serve
from tests.web.conftest import csrf_of, sign_in

AT_SITE, ELSEWHERE = 12, 3
CHECKBOXES = [
    "consent_items___link_mother_health",
    "consent_items___link_baby_health",
    "consent_items___link_council",
    "consent_items___contact",
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request, tmp_path_factory) -> Iterator[tuple[str, RedcapWorld]]:
    """(the API address, the world behind it)."""
    root = tmp_path_factory.mktemp("redcap")
    db_url = migrated_url(request, root)
    world = make_redcap_world(root / "var", db_url, AT_SITE, ELSEWHERE)
    world.instance.engine.dispose()
    with serve(root / "var", database_url=db_url) as url:
        yield f"{url}/redcap/api/", world


def project(live, username: str = "mw") -> Project:
    url, world = live
    return Project(url, world.tokens[username])


def post(live, username: str = "mw", **data) -> httpx.Response:
    url, world = live
    return httpx.post(url, data={"token": world.tokens[username], **data}, timeout=120)


def test_tokens_are_in_redcaps_form(live):
    _, world = live
    for token in world.tokens.values():
        assert len(token) == 32 and token == token.upper()
        int(token, 16)


def test_version_is_a_bare_semantic_version(live):
    version = project(live).export_version()
    assert isinstance(version, semantic_version.Version)
    assert post(live, content="version").text == str(version)


def test_project_info_says_a_classic_project(live):
    info = project(live).export_project_info()
    assert info["is_longitudinal"] == "0"
    assert not project(live).is_longitudinal  # formEventMapping is an error, as REDCap's


def test_metadata_is_the_consent_form_with_the_study_id_first(live):
    proj = project(live)
    metadata = proj.export_metadata()
    assert metadata[0]["field_name"] == "study_id" == proj.def_field
    assert {row["form_name"] for row in metadata} == {"babi_consent"}
    assert "consent_items" in proj.field_names
    frame = proj.export_metadata(format_type="df")
    assert frame.loc["nhs_number", "identifier"] == "y"
    assert frame.loc["consent_items", "field_type"] == "checkbox"


def test_instruments_and_export_field_names(live):
    proj = project(live)
    assert proj.export_instruments() == [
        {"instrument_name": "babi_consent", "instrument_label": "Babi consent"}
    ]
    names = proj.export_field_names(field="consent_items")
    assert [row["export_field_name"] for row in names] == CHECKBOXES
    assert names[0]["choice_value"] == "link_mother_health"


def test_a_midwife_exports_her_sites_records_as_strings_record_id_first(live):
    _, world = live
    records = project(live).export_records()
    assert sorted(r["study_id"] for r in records) == sorted(world.study_ids[SITE])
    for record in records:
        assert next(iter(record)) == "study_id"
        assert all(isinstance(value, str) for value in record.values())
        assert record["babi_consent_complete"] == "2"
        assert [record[column] for column in CHECKBOXES] == ["1", "1", "0", "1"]
        assert record["nhs_number"].isdigit()


def test_a_data_manager_exports_every_site(live):
    records = project(live, "dm").export_records(fields=["study_id"])
    assert len(records) == AT_SITE + ELSEWHERE


def test_records_and_fields_filters_and_a_dataframe(live):
    _, world = live
    wanted = world.study_ids[SITE][:3]
    frame = project(live).export_records(
        records=wanted, fields=["consent_items", "babi_consent_complete"], format_type="df"
    )
    assert isinstance(frame, pd.DataFrame)
    assert sorted(frame.index) == sorted(wanted)
    assert list(frame.columns) == [*CHECKBOXES, "babi_consent_complete"]


def test_fields_joined_by_commas_as_redcapr_sends_them(live):
    response = post(live, content="record", format="json", fields="study_id,postcode")
    assert response.status_code == 200
    assert {tuple(row) for row in response.json()} == {("study_id", "postcode")}


def test_thousands_of_record_ids_in_one_export(live):
    _, world = live
    asked = world.study_ids[SITE] + [f"BB-0000-{n:04d}" for n in range(5000)]
    records = project(live).export_records(records=asked, fields=["study_id"])
    assert len(records) == AT_SITE


def test_filter_logic_in_redcap_syntax(live):
    everyone = project(live).export_records(fields=["study_id"])
    council = project(live).export_records(filter_logic="[consent_items(link_council)] = '1'")
    contact = project(live).export_records(filter_logic="[consent_items(contact)] = '1'")
    assert council == [] and len(contact) == len(everyone)


def test_a_midwife_never_sees_another_sites_records(live):
    _, world = live
    others = world.study_ids[OTHER_SITE]
    assert project(live).export_records(records=others) == []
    assert len(project(live, "mw.lds").export_records(records=others)) == ELSEWHERE


@pytest.mark.parametrize("username", ["rs", "gov"])
def test_other_roles_are_refused(live, username):
    with pytest.raises(RedcapError):
        project(live, username).export_records()
    response = post(live, username, content="record", format="json")
    assert response.status_code == 403
    assert set(response.json()) == {"error"}


def test_errors_take_redcaps_shape_in_each_format(live):
    bad = post(live, content="nonsense", format="json")
    assert bad.status_code == 400 and "content" in bad.json()["error"]
    assert post(live, content="nonsense", format="csv").text.startswith("ERROR:")
    assert "<error>" in post(live, content="nonsense").text
    wrong = post(live, content="record", format="json", fields="no_such_field")
    assert wrong.status_code == 400 and "no_such_field" in wrong.json()["error"]
    url, _ = live
    assert httpx.post(url, data={"token": "0" * 32, "content": "version"}).status_code == 403


def _new_women(n: int, seed: int, on: str = "") -> list[dict]:
    """Rows of women new to the cohort; ``on``: the consent_date, her age right on it."""
    rows = []
    today = date.fromisoformat(on[:10]) if on else None
    for mother in synth.mothers(seed=seed, n=n, today=today):
        answers = consent_answers(mother)
        ticked = answers.pop("consent_items")
        answers |= {
            column: "1" if column.split("___")[1] in ticked else "0" for column in CHECKBOXES
        }
        rows.append({"study_id": "", **answers, **({"consent_date": on} if on else {})})
    return rows


def test_import_records_backfills_consents_once(live):
    rows = _new_women(3, seed=101)
    proj = project(live)
    assert proj.import_records(rows) == {"count": 3}
    assert proj.import_records(rows) == {"count": 0}  # the same rows again: nothing new
    ids = [r["study_id"] for r in proj.export_records(fields=["study_id"])]
    assert len(ids) == AT_SITE + 3


def test_import_takes_a_dataframe_with_booleans_as_true_false(live):
    rows = _new_women(2, seed=202)
    frame = pd.DataFrame(rows).set_index("study_id")
    frame["leaflet_given"] = True  # PyCap sends booleans as the strings True/False
    assert project(live).import_records(frame, import_format="df") == {"count": 2}


def test_an_import_with_a_bad_row_records_nothing(live):
    rows = _new_women(2, seed=303)
    rows[1]["nhs_number"] = "1234567890"
    before = len(project(live).export_records(fields=["study_id"]))
    with pytest.raises(RedcapError) as refused:
        project(live).import_records(rows)
    assert "Row 3: nhs_number" in str(refused.value)
    assert "1234567890" not in str(refused.value)
    assert len(project(live).export_records(fields=["study_id"])) == before


def test_a_multi_megabyte_import(live):
    """An extract with a row per appointment: the same few women many times over."""
    women = _new_women(4, seed=404)
    rows = [women[n % 4] for n in range(12_000)]
    data = json.dumps(rows)
    assert len(data) > 3_000_000
    response = post(live, content="record", format="json", returnContent="count", data=data)
    assert response.status_code == 200, response.text
    assert response.json() == {"count": 4}


def test_a_data_managers_token_cannot_import(live):
    with pytest.raises(RedcapError) as refused:
        project(live, "dm").import_records(_new_women(1, seed=505))
    assert "midwife" in str(refused.value)


def test_xml_and_csv_exports(live):
    _, world = live
    xml = post(live, content="record", format="xml", fields="study_id")
    assert xml.headers["content-type"].startswith("text/xml")
    assert xml.text.startswith('<?xml version="1.0" encoding="UTF-8" ?>')
    assert all(f"<study_id>{study_id}</study_id>" in xml.text for study_id in world.study_ids[SITE])
    names = project(live).export_field_names(format_type="df")
    assert names.loc["consent_items", "export_field_name"].tolist() == CHECKBOXES


def test_date_range_on_when_the_latest_consent_was_recorded(live):
    proj = project(live)
    future = datetime.now(UTC) + timedelta(days=1)
    past = datetime.now(UTC) - timedelta(days=1)
    assert proj.export_records(fields=["study_id"], date_begin=future) == []
    assert len(proj.export_records(fields=["study_id"], date_begin=past)) >= AT_SITE
    bad = post(live, content="record", format="json", dateRangeBegin="yesterday")
    assert bad.status_code == 400 and "dateRangeBegin" in bad.json()["error"]


def test_a_csv_import_returning_the_new_study_ids(live):
    rows = _new_women(2, seed=606)
    data = pd.DataFrame(rows).to_csv(index=False)
    response = post(
        live, content="record", format="csv", returnFormat="json", returnContent="ids", data=data
    )
    assert response.status_code == 200, response.text
    ids = response.json()
    assert len(ids) == 2 and all(i.startswith("BB-") for i in ids)
    assert len(project(live).export_records(records=ids)) == 2


def test_an_export_with_identifiers_is_audited_by_study_id_only(live):
    _, world = live
    wanted = world.study_ids[SITE][:2]
    records = project(live).export_records(records=wanted, fields=["nhs_number"])
    engine = make_engine(world.db_url)
    with Session(engine) as s:
        event = s.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "redcap.export")
            .order_by(AuditEvent.seq.desc())
        ).first()
    engine.dispose()
    assert event.actor == "mw" and sorted(event.detail["study_ids"]) == sorted(wanted)
    assert event.detail["identifiers"] == ["nhs_number"]
    assert not any(r["nhs_number"] in json.dumps(event.detail) for r in records)


def test_an_xml_import_the_format_redcap_assumes_when_none_is_given(live):
    rows = _new_women(2, seed=616)
    items = "".join(
        "<item>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in r.items()) + "</item>"
        for r in rows
    )
    data = f'<?xml version="1.0" encoding="UTF-8" ?>\n<records>{items}</records>'
    response = post(live, content="record", data=data)
    assert response.status_code == 200, response.text
    assert "<count>2</count>" in response.text
    bomb = '<!DOCTYPE r [<!ENTITY a "aaaa">]><records><item><outcome>&a;</outcome></item></records>'
    refused = post(live, content="record", format="xml", returnFormat="json", data=bomb)
    assert refused.status_code == 400 and "not valid XML" in refused.json()["error"]


def test_her_exported_record_edited_and_imported_back_changes_her_tick_boxes(live):
    """What a REDCap user does: export, change a value, import; REDCap's two behaviours
    for an empty cell (keep the value, or with overwrite erase it)."""
    _, world = live
    proj = project(live)
    study_id = world.study_ids[SITE][-1]
    (record,) = proj.export_records(records=[study_id])
    ticked = {column for column in CHECKBOXES if record[column] == "1"}
    flipped = CHECKBOXES[2]
    changed = {**record, flipped: "0" if flipped in ticked else "1"}
    assert proj.import_records([changed], return_content="ids") == [study_id]
    (after,) = proj.export_records(records=[study_id], fields=CHECKBOXES)
    assert after[flipped] == changed[flipped]
    assert proj.import_records([changed]) == {"count": 0}  # already her choices
    ticked_now = [column for column in CHECKBOXES if after[column] == "1"]
    emptied = {"study_id": study_id, ticked_now[0]: ""}
    assert proj.import_records([emptied]) == {"count": 0}  # normal: an empty cell keeps it
    assert proj.import_records([emptied], overwrite="overwrite") == {"count": 1}
    (last,) = proj.export_records(records=[study_id], fields=CHECKBOXES)
    assert last[ticked_now[0]] == "0"


def test_import_options_redcap_offers_but_the_cohort_does_not_are_refused(live):
    data = json.dumps(_new_women(1, seed=707))
    for option, value in [("dateFormat", "DMY"), ("overwriteBehavior", "replace"), ("type", "eav")]:
        refused = post(live, content="record", format="json", data=data, **{option: value})
        assert refused.status_code == 400 and option in refused.json()["error"]


def test_a_backfilled_consent_keeps_its_date_and_is_new_to_a_date_range(live):
    proj = project(live)
    metadata = proj.export_metadata()
    assert [row["field_name"] for row in metadata[:2]] == ["study_id", "consent_date"]
    assert metadata[1]["text_validation_type_or_show_slider_number"] == "date_ymd"
    rows = _new_women(1, seed=808, on="2019-06-03 14:05")
    before = datetime.now(UTC) - timedelta(minutes=5)
    ids = proj.import_records(rows, return_content="ids")
    (record,) = proj.export_records(records=ids, fields=["study_id", "consent_date"])
    assert record == {"study_id": ids[0], "consent_date": "2019-06-03"}
    recent = proj.export_records(fields=["study_id"], date_begin=before)
    assert ids[0] in {r["study_id"] for r in recent}
    wrong = [{**row, "consent_date": "03/06/2019"} for row in _new_women(1, seed=809)]
    with pytest.raises(RedcapError) as refused:
        proj.import_records(wrong)
    assert "consent_date" in str(refused.value) and "03/06/2019" not in str(refused.value)


def test_the_forms_filter_and_filter_logic_on_the_consent_date(live):
    _, world = live
    proj = project(live)
    rows = _new_women(1, seed=909, on="2025-02-14")
    ids = proj.import_records(rows, return_content="ids")
    same_day = proj.export_records(
        fields=["study_id"], filter_logic="[consent_date] = '2025-02-14'"
    )
    assert [r["study_id"] for r in same_day] == ids
    (whole,) = proj.export_records(records=world.study_ids[SITE][:1], forms=["babi_consent"])
    assert list(whole)[:2] == ["study_id", "consent_date"] and "nhs_number" in whole
    wrong = post(live, content="record", format="json", forms="no_such_form")
    assert wrong.status_code == 400 and "no_such_form" in wrong.json()["error"]


def test_pycap_works_with_a_token_from_the_account_page_until_it_is_revoked(live):
    url, world = live
    with TestClient(create_app(world.instance)) as page:
        csrf = sign_in(page, "mw")
        issued = page.post(
            "/account/tokens", data={"label": "PyCap", "redcap": "yes", "csrf_token": csrf}
        )
        token = re.search(r'<code id="new-token">(.*?)</code>', issued.text).group(1)
        proj = Project(url, token)
        assert proj.def_field == "study_id"
        assert len(proj.export_records(fields=["study_id"])) >= AT_SITE
        token_id = re.findall(r"/account/tokens/(\d+)/revoke", issued.text)[-1]  # the newest
        revoked = page.post(
            f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(issued.text)}
        )
        assert revoked.status_code == 200
    with pytest.raises(RedcapError):
        proj.export_records()
