"""The research pages and API as people use them: a data manager registers a project and
puts a researcher on it, the researcher makes and downloads an extract, asks an aggregate
question and uses the console; a researcher of another project is refused each of them."""

import io
import re
from datetime import timedelta

import pandas as pd

from cohort.web import ui_language
from tests.web.conftest import PROJECT, TODAY, sign_in


def ticked(csrf: str) -> dict:
    """The extract form as the page offers it: every approved variable ticked."""
    return {"variables": PROJECT["variables"], "csrf_token": csrf}


def flat(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def test_a_bad_registration_is_shown_beside_its_field(client, make_user):
    make_user("dana", "data_manager")
    csrf = sign_in(client, "dana")
    response = client.post(
        "/projects", data={**PROJECT, "approved_from": "1 April", "csrf_token": csrf}
    )
    assert response.status_code == 400
    assert 'id="approved_from-error"' in response.text
    assert "YYYY-MM-DD" in response.text


def test_researchers_see_only_their_own_projects(client, registered):
    sign_in(client, "rita")
    assert registered in client.get("/projects").text
    assert [p["code"] for p in client.get("/api/v1/projects").json()] == [registered]
    client.cookies.clear()
    sign_in(client, "rob")
    assert registered not in client.get("/projects").text
    assert client.get(f"/projects/{registered}").status_code == 403


def test_extract_made_downloaded_and_refused_to_another_project(client, registered):
    csrf = sign_in(client, "rita")
    response = client.post(f"/projects/{registered}/extracts", data=ticked(csrf))
    assert response.status_code == 200 and "Delete extract" in response.text
    (made,) = client.get(f"/api/v1/projects/{registered}/extracts").json()
    parquet = client.get(f"/extracts/{made['id']}/files/consent.parquet")
    assert parquet.status_code == 200
    assert len(pd.read_parquet(io.BytesIO(parquet.content))) == 13
    assert client.get(f"/api/v1/extracts/{made['id']}/files/zip").status_code == 200
    client.cookies.clear()
    sign_in(client, "rob")
    for url in (
        f"/extracts/{made['id']}/files/zip",
        f"/api/v1/extracts/{made['id']}/files/manifest.json",
    ):
        response = client.get(url)
        assert response.status_code == 403 and "BB-" not in response.text


def test_an_aggregate_query_page_shows_a_table_and_chart_after_disclosure_control(
    client, registered
):
    sign_in(client, "rita")
    page = client.get(
        f"/projects/{registered}/queries", params={"dataset": "consent", "group_by": "age_band"}
    )
    assert page.status_code == 200
    text = flat(page.text)
    assert "<svg" in text and "25_29" in text and "suppressed" in text
    answer = client.post(
        f"/api/v1/projects/{registered}/queries",
        json={"dataset": "consent", "group_by": ["age_band"]},
        headers={"X-CSRF-Token": sign_in(client, "rita")},
    ).json()
    # 30_34 (3) is suppressed, and 25_29 with it: the total of 13 would give it back.
    assert [(r["groups"], r["n"]) for r in answer["rows"]] == [
        (["25_29"], None),
        (["30_34"], None),
    ]
    assert answer["suppressed"] == 2


def test_the_console_runs_a_select_and_refuses_anything_else(client, registered):
    csrf = sign_in(client, "rita")
    client.post(f"/projects/{registered}/extracts", data=ticked(csrf))
    ok = client.post(
        f"/projects/{registered}/console",
        data={"sql": "SELECT age_band, count(*) AS n FROM consent GROUP BY 1", "csrf_token": csrf},
    )
    assert ok.status_code == 200 and "10" in ok.text
    refused = client.post(
        f"/projects/{registered}/console",
        data={"sql": "COPY consent TO '/tmp/x.csv'", "csrf_token": csrf},
    )
    assert refused.status_code == 400 and "Only SELECT statements run here" in refused.text


def test_removal_ends_access_at_once(client, registered):
    csrf = sign_in(client, "dana")
    client.post(
        f"/projects/{registered}/researchers",
        data={"username": "rita", "action": "remove", "csrf_token": csrf},
    )
    client.cookies.clear()
    sign_in(client, "rita")
    assert client.get(f"/projects/{registered}/queries").status_code == 403


def test_an_extract_takes_only_the_ticked_variables_and_refuses_others(client, registered):
    csrf = sign_in(client, "rita")
    page = client.get(f"/projects/{registered}")
    assert 'value="consent.age_band" checked' in flat(page.text)
    refused = client.post(
        f"/projects/{registered}/extracts",
        data={"variables": ["maternity.Parity"], "csrf_token": csrf},
    )
    assert refused.status_code == 400 and 'id="variables-error"' in refused.text
    assert "not approved for dataset" in refused.text
    made = client.post(
        f"/api/v1/projects/{registered}/extracts",
        json={"variables": ["consent.age_band"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status_code == 201, made.text
    extract_id = made.json()["id"]
    parquet = client.get(f"/api/v1/extracts/{extract_id}/files/consent.parquet")
    assert list(pd.read_parquet(io.BytesIO(parquet.content)).columns) == ["pseudonym", "age_band"]
    again = client.post(f"/api/v1/extracts/{extract_id}/rerun", headers={"X-CSRF-Token": csrf})
    assert again.status_code == 201
    assert [f["sha256"] for f in again.json()["files"]] == [
        f["sha256"] for f in made.json()["files"]
    ]


def test_a_data_manager_changes_the_approval_on_its_page_and_by_the_api(client, registered):
    csrf = sign_in(client, "dana")
    page = client.get(f"/projects/{registered}/edit")
    assert page.status_code == 200 and 'value="consent.age_band" checked' in page.text
    later = (TODAY + timedelta(days=60)).isoformat()
    done = client.post(
        f"/projects/{registered}/edit",
        data={
            "approved_until": later,
            "variables": ["consent.age_band"],
            "date_granularity": "year",
            "row_level": "yes",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    shown = client.get(f"/api/v1/projects/{registered}").json()
    assert (shown["approved_until"], shown["date_granularity"]) == (later, "year")
    assert shown["variables"] == {"consent": ["age_band"]}
    bad = client.post(
        f"/projects/{registered}/edit",
        data={"approved_until": "soon", "variables": ["consent"], "csrf_token": csrf},
    )
    assert bad.status_code == 400 and 'id="approved_until-error"' in bad.text
    patched = client.patch(
        f"/api/v1/projects/{registered}", json={"row_level": False}, headers={"X-CSRF-Token": csrf}
    )
    assert patched.status_code == 200 and patched.json()["row_level"] is False
    unchanged = client.patch(
        f"/api/v1/projects/{registered}", json={"row_level": False}, headers={"X-CSRF-Token": csrf}
    )
    assert unchanged.status_code == 400 and "nothing to change" in unchanged.text
    client.cookies.clear()
    csrf = sign_in(client, "rita")
    assert client.get(f"/projects/{registered}/edit").status_code == 403
    refused = client.patch(
        f"/api/v1/projects/{registered}", json={"row_level": True}, headers={"X-CSRF-Token": csrf}
    )
    assert refused.status_code == 403


def test_the_console_api_runs_a_select_with_disclosure_control_and_refuses_the_rest(
    client, registered
):
    csrf = sign_in(client, "rita")
    headers = {"X-CSRF-Token": csrf}
    client.post(f"/api/v1/projects/{registered}/extracts", headers=headers)
    url = f"/api/v1/projects/{registered}/console"
    sql = "SELECT age_band, count(*) AS n FROM consent GROUP BY 1 ORDER BY 1"
    answer = client.post(url, json={"sql": sql}, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["columns"] == ["age_band", "n"] and body["aggregate"] is True
    # 30_34 (3) is suppressed, and 25_29 with it: the total of 13 would give it back
    assert body["rows"] == [["25_29", None], ["30_34", None]] and body["suppressed"] == 2
    for refused_sql, words in [
        ("COPY consent TO '/tmp/x.csv'", "only select statements run here"),
        ("SELECT * FROM read_csv('/etc/passwd')", "the query failed"),
        ("SELECT 1; SELECT 2", "one statement at a time"),
    ]:
        refused = client.post(url, json={"sql": refused_sql}, headers=headers)
        assert refused.status_code == 400 and words in refused.json()["detail"].lower()
    client.cookies.clear()
    other = sign_in(client, "rob")
    assert client.post(url, json={"sql": sql}, headers={"X-CSRF-Token": other}).status_code == 403


def test_a_query_too_close_to_an_earlier_one_is_refused_on_the_page_and_the_api(client, registered):
    """Those aged 25 to 29 (10), then everyone (13): 3 apart, which the two counts
    together would give away."""
    headers = {"X-CSRF-Token": sign_in(client, "rita")}
    first = client.post(
        f"/api/v1/projects/{registered}/queries",
        json={"dataset": "consent", "filters": {"age_band": "25_29"}},
        headers=headers,
    )
    assert first.status_code == 200
    everyone = {"dataset": "consent"}
    refused = client.post(f"/api/v1/projects/{registered}/queries", json=everyone, headers=headers)
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("this query counts nearly the same people")
    assert "broader or a narrower filter" in refused.json()["detail"]
    page = client.get(f"/projects/{registered}/queries", params=everyone)
    assert page.status_code == 409
    assert "This query counts nearly the same people" in flat(page.text)
    assert "BB-" not in page.text
    client.cookies.set(ui_language.COOKIE, "pl")
    polish = client.get(f"/projects/{registered}/queries", params=everyone)
    assert "To zapytanie liczy prawie te same osoby" in flat(polish.text)
