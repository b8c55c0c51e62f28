"""The canary: participants with unmistakable identifiers are enrolled through the consent
form, linked from every partner source by the real pipeline, and then every kind of
extract, query, console result, page and API response a researcher can get is scanned,
byte by byte and decoded, for any of their identifiers or any study ID. None may appear.
"""

import io
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cohort import synth
from cohort.models import ChildParticipant, Participant, User
from cohort.research import extracts, projects, queries, query_table
from cohort.web.app import create_app
from linkage_jobs import runner
from tests.linkage.linkage_world import SEED, TODAY, world_fixture
from tests.web.conftest import add_user, sign_in

CANARIES = 9  # above the disclosure threshold, so their groups are published
SOURCES = (
    "maternity",
    "gp_registrations",
    "birth_notifications",
    "school_census",
    "childrens_social_care",
)

DATASETS = ("consent", *SOURCES)


def asking(dataset: str) -> str:
    """The project a dataset's queries are asked in: each dataset's population is its own,
    which, in a world this small, is within the threshold of the others'."""
    return f"CANARY-Q{DATASETS.index(dataset)}"


@pytest.fixture
def world(db_url, tmp_path):
    yield from world_fixture(db_url, tmp_path, mothers=12)


def canaries() -> list[synth.SynthMother]:
    found = synth.mothers(SEED + 1000, CANARIES, today=TODAY)
    return [
        replace(
            m,
            given_name=f"Zzqxcanary{chr(97 + i)}",
            family_name=f"Qqvxbird{chr(97 + i)}",
            postcode=f"ZZ9{i} 9ZZ",
            address=f"{i + 1} Zzqxcanary Lane",
        )
        for i, m in enumerate(found)
    ]


def needles(world, birds: list[synth.SynthMother]) -> set[str]:
    """Every form a canary's identifier could take, and every study ID there is."""
    found: set[str] = set()
    for m in birds:
        dob = m.date_of_birth
        found |= {
            m.nhs_number,
            f"{m.nhs_number[:3]} {m.nhs_number[3:6]} {m.nhs_number[6:]}",
            m.given_name,
            m.family_name,
            m.postcode,
            m.postcode.replace(" ", ""),
            m.address,
            dob.isoformat(),
            dob.strftime("%d/%m/%Y"),
            dob.strftime("%d-%b-%y"),
        }
    with Session(world.instance.engine) as s:
        found |= set(s.exec(select(Participant.study_id)).all())
        found |= set(s.exec(select(ChildParticipant.study_id)).all())
    return found


def decoded(name: str, body: bytes) -> list[bytes]:
    """The bytes as sent, and what they hold once unpacked (zip members, Parquet cells)."""
    out = [body]
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for member in archive.namelist():
                out += decoded(member, archive.read(member))
    if name.endswith(".parquet"):
        out.append(pd.read_parquet(io.BytesIO(body)).to_csv().encode())
    return out


def leaks(outputs: dict[str, bytes], words: set[str]) -> list[str]:
    found = []
    for where, body in outputs.items():
        for blob in decoded(where, body):
            text = blob.decode("utf-8", "replace").lower()
            found += [f"{w} in {where}" for w in words if w.lower() in text]
    return found


def test_no_identifier_or_study_id_reaches_the_research_side(world):
    birds = canaries()
    bird_ids = [world.enrol(m) for m in birds]
    for source in SOURCES:
        world.deliver(
            source, rows=60, study_ids=bird_ids + list(world.mothers)[:6], member_share=1.0
        )
        runner.run_source(world.instance, world.specs[source])
    assert len(world.linked("maternity")) > 0 and len(world.linked("birth_notifications")) > 0

    instance = world.instance
    add_user(instance, "dana", "data_manager")
    add_user(instance, "rita", "researcher")
    today = datetime.now(UTC).date()
    with Session(instance.engine) as s:
        for code in ["CANARY", *(asking(d) for d in DATASETS)]:
            projects.register(
                s,
                projects.Approval(
                    code=code,
                    title="Canary",
                    lead="Dr Lead",
                    approval_reference="REC 1",
                    approved_from=today - timedelta(days=1),
                    approved_until=today + timedelta(days=1),
                    variables=DATASETS,
                    date_granularity="day",
                    row_level=True,
                ),
                actor="test",
            )
            projects.add_researcher(s, code, "rita", actor="test")
        s.commit()

    outputs: dict[str, bytes] = {}
    with TestClient(create_app(instance)) as client:
        csrf = sign_in(client, "rita")
        headers = {"X-CSRF-Token": csrf}
        made = client.post("/api/v1/projects/CANARY/extracts", headers=headers)
        assert made.status_code == 201, made.text
        outputs["api extract"] = made.content
        listing = client.get("/api/v1/projects/CANARY/extracts")
        outputs["api extracts"] = listing.content
        extract_id = listing.json()[0]["id"]
        for name in [f["name"] for f in listing.json()[0]["files"]] + ["manifest.json", "zip"]:
            response = client.get(f"/api/v1/extracts/{extract_id}/files/{name}")
            assert response.status_code == 200
            outputs[name if name != "zip" else "extract.zip"] = response.content
        for path in ["/projects", "/projects/CANARY", "/projects/CANARY/console"]:
            outputs[path] = client.get(path).content
        for dataset, variables in [
            ("consent", ["site", "age_band", "ethnicity", "language"]),
            *[(s, list(world.specs[s].payload)) for s in SOURCES],
        ]:
            for variable in variables:
                body = {"dataset": dataset, "group_by": [variable]}
                address = f"/api/v1/projects/{asking(dataset)}/queries"
                answer = client.post(address, json=body, headers=headers)
                # in so small a world a later grouping may be too close to an earlier one
                assert answer.status_code in (200, 409), answer.text
                assert answer.status_code == 200 or variable != variables[0], answer.text
                outputs[f"query {dataset}.{variable}"] = answer.content
            page = client.get(
                f"/projects/{asking(dataset)}/queries",
                params={"dataset": dataset, "group_by": variables[0]},
            )
            outputs[f"query page {dataset}"] = page.content
            for sql in [f"SELECT * FROM {dataset}", f"SELECT count(*) AS n FROM {dataset}"]:  # noqa: S608
                page = client.post(
                    "/projects/CANARY/console", data={"sql": sql, "csrf_token": csrf}
                )
                assert page.status_code == 200, page.text
                outputs[f"console {sql}"] = page.content
                answer = client.post(
                    "/api/v1/projects/CANARY/console", json={"sql": sql}, headers=headers
                )
                assert answer.status_code == 200, answer.text
                outputs[f"console api {sql}"] = answer.content
        chosen = {"variables": ["consent.site", "maternity", "birth_notifications"]}
        part = client.post("/api/v1/projects/CANARY/extracts", json=chosen, headers=headers)
        assert part.status_code == 201, part.text
        again = client.post(f"/api/v1/extracts/{part.json()['id']}/rerun", headers=headers)
        assert again.status_code == 201, again.text
        outputs["api extract, some variables"] = part.content
        outputs["api rerun"] = again.content
        for made in (part, again):
            for name in ["manifest.json", "zip"]:
                response = client.get(f"/api/v1/extracts/{made.json()['id']}/files/{name}")
                outputs[f"extract {made.json()['id']} {name}"] = response.content
        client.cookies.clear()
        sign_in(client, "dana")
        outputs["edit page"] = client.get("/projects/CANARY/edit").content
    with Session(instance.engine) as s:
        rita = s.exec(select(User).where(User.username == "rita")).one()
        firsts = [("consent", "site"), *[(d, next(iter(world.specs[d].payload))) for d in SOURCES]]
        for dataset, variable in firsts:
            wanted = queries.Query(dataset, (variable,))
            result = queries.run(
                s, instance.settings, instance.keys.pseudonym, rita, asking(dataset), wanted
            )
            outputs[f"cli query {dataset}"] = query_table.as_csv(result).encode()
    folder = extracts.directory(instance.settings, "CANARY", extract_id)
    for path in folder.iterdir():
        outputs[f"disk {path.name}"] = path.read_bytes()

    words = needles(world, birds)
    assert leaks({"probe.csv": f"x,{birds[0].family_name}".encode()}, words)  # it can see
    assert set(bird_ids) <= set(world.linked("maternity")["study_id"])  # they were linked
    assert len(pd.read_parquet(folder / "maternity.parquet")) >= CANARIES
    assert leaks(outputs, words) == []
