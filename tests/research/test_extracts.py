"""Extracts: who is in each file, what columns it has, pseudonyms per project, coarsened
dates, neutralised CSV, byte-identical re-runs, audited downloads, and the flag a later
full withdrawal raises."""

import hashlib
import io
import json
import os
import time
import zipfile
from datetime import timedelta

import pandas as pd
import pytest
from sqlmodel import select

from cohort.errors import CohortError, Forbidden, NotFound
from cohort.models import AuditEvent, ExtractMember
from cohort.research import extracts, projects, pseudonyms, register
from tests.research.world import LINKED_AT, SNAPSHOT


def make(research, code="PRJ-A", user=None, snapshot=SNAPSHOT):
    with research.session() as s:
        made = extracts.make_extract(
            s,
            research.settings,
            research.keys.pseudonym,
            user or research.researcher,
            code,
            snapshot_at=snapshot,
        )
        s.expunge(made)
    return made, extracts.directory(research.settings, code, made.id)


def maternity_row(participant, **payload):
    return {"study_id": participant.study_id, "Booking_Date": "2025-03-14", "Parity": 1, **payload}


@pytest.fixture
def family(research):
    """Four mothers: full consent, no council link, no baby-health link, withdrawn fully."""
    mothers = [
        research.participant(),
        research.participant({"link_council": False}),
        research.participant({"link_baby_health": False}),
        research.participant(withdrawal="full"),
    ]
    research.link("maternity", [maternity_row(m) for m in mothers])
    research.link(
        "birth_notifications",
        [
            {"study_id": research.child(m), "Birth_Weight_g": 3000 + i}
            for i, m in enumerate(mothers)
        ],
    )
    return mothers


def test_each_file_holds_only_those_consented_for_its_dataset(research, family):
    research.project()
    _, folder = make(research)
    consent = pd.read_parquet(folder / "consent.parquet")
    maternity = pd.read_parquet(folder / "maternity.parquet")
    births = pd.read_parquet(folder / "birth_notifications.parquet")
    assert len(consent) == 3 and len(maternity) == 3  # the fully withdrawn mother is out
    assert sorted(births["Birth_Weight_g"]) == [3000, 3001]  # no baby-health link: out
    assert set(births["mother_pseudonym"]) <= set(consent["pseudonym"])


def test_no_further_data_keeps_what_was_linked_before(research):
    mother = research.participant(withdrawal="no_data")
    research.link("maternity", [maternity_row(mother)])
    research.project()
    _, folder = make(research)
    assert len(pd.read_parquet(folder / "maternity.parquet")) == 1
    consent = pd.read_parquet(folder / "consent.parquet")
    assert not consent["link_mother_health"].any()  # her items now, as the scope says


def test_only_approved_variables_and_a_pseudonym_leave(research, family):
    research.project(variables=("maternity.Parity",))
    made, folder = make(research)
    assert [f["name"] for f in made.files] == [
        "maternity.parquet",
        "maternity.csv",
        "codebook.csv",
        "codebook.md",
    ]
    frame = pd.read_parquet(folder / "maternity.parquet")
    assert list(frame.columns) == ["pseudonym", "Parity"]
    assert not frame["pseudonym"].isin([m.study_id for m in family]).any()


@pytest.mark.parametrize(
    ("granularity", "booking", "enrolment"),
    [("day", "2025-03-14", "2025-03"), ("month", "2025-03", "2025-03"), ("year", "2025", "2025")],
)
def test_dates_are_coarsened_to_the_approved_granularity(research, granularity, booking, enrolment):
    mother = research.participant()
    research.link("maternity", [maternity_row(mother)])
    research.project(date_granularity=granularity)
    _, folder = make(research)
    assert str(pd.read_parquet(folder / "maternity.parquet")["Booking_Date"][0]) == booking
    assert pd.read_parquet(folder / "consent.parquet")["enrolment_month"][0] == enrolment


def test_two_projects_never_share_a_pseudonym(research, family):
    research.project("PRJ-A")
    research.project("PRJ-B")
    _, a = make(research, "PRJ-A")
    _, b = make(research, "PRJ-B")
    first = set(pd.read_parquet(a / "consent.parquet")["pseudonym"])
    second = set(pd.read_parquet(b / "consent.parquet")["pseudonym"])
    assert len(first) == len(second) == 3 and not first & second


def test_a_researcher_cannot_reach_another_projects_extract(research, family):
    research.project("PRJ-A", members=("rita",))
    research.project("PRJ-B", members=("rob",))
    made, _ = make(research, "PRJ-A")
    with research.session() as s, pytest.raises(Forbidden):
        extracts.download(s, research.settings, research.other_researcher, made.id, "zip")
    with research.session() as s, pytest.raises(Forbidden):
        make(research, "PRJ-A", user=research.other_researcher)


def test_aggregates_only_projects_get_no_extract(research, family):
    research.project(row_level=False)
    with pytest.raises(Forbidden, match="aggregate queries only"):
        make(research)


def test_csv_cells_cannot_run_as_formulas(research):
    research.link(
        "maternity", [maternity_row(research.participant(), Delivery_Mode="=HYPERLINK(1)")]
    )
    research.project()
    _, folder = make(research)
    assert "'=HYPERLINK(1)" in (folder / "maternity.csv").read_text()
    assert pd.read_parquet(folder / "maternity.parquet")["Delivery_Mode"][0] == "=HYPERLINK(1)"


def test_the_same_snapshot_gives_byte_identical_files(research, family):
    research.project()
    first, a = make(research)
    later = SNAPSHOT + timedelta(days=1)
    research.link(
        "maternity", [maternity_row(research.participant(enrolled_at=later))], linked_at=later
    )
    second, b = make(research)
    assert first.id != second.id
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert [(a / n).read_bytes() for n in names] == [(b / n).read_bytes() for n in names]


def test_the_manifest_lists_every_file_with_its_hash_and_rows(research, family):
    research.project()
    _, folder = make(research)
    body = json.loads((folder / "manifest.json").read_text())
    assert body["project"] == "PRJ-A" and body["snapshot_at"] == SNAPSHOT.isoformat()
    for entry in body["files"]:
        data = (folder / entry["name"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)
    rows = {e["name"]: e["rows"] for e in body["files"]}
    assert rows["maternity.parquet"] == rows["maternity.csv"] == 3
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no leftovers


def test_downloads_are_audited_and_the_zip_holds_every_file(research, family):
    research.project()
    made, _ = make(research)
    with research.session() as s:
        _name, body = extracts.download(s, research.settings, research.researcher, made.id, "zip")
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert len(archive.namelist()) == len(made.files) + 1
    with research.session() as s:
        with pytest.raises(NotFound):
            extracts.download(s, research.settings, research.researcher, made.id, "../keys")
        events = s.exec(
            select(AuditEvent)
            .where(AuditEvent.action.startswith("research."))
            .order_by(AuditEvent.seq)
        ).all()
    assert [e.action for e in events] == ["research.extract", "research.download"]


def test_a_later_full_withdrawal_flags_the_extract(research, family):
    research.project()
    made, _ = make(research)
    with research.session() as s:
        held = s.exec(
            select(ExtractMember.participant_id).where(ExtractMember.extract_id == made.id)
        ).all()
    assert sorted(held) == sorted(m.id for m in family[:3])
    research.withdraw(family[1], "no_data")
    with research.session() as s:
        assert [item.withdrawn for item in extracts.listed(s)] == [0]
    research.withdraw(family[0], "full")
    with research.session() as s:
        assert [item.withdrawn for item in extracts.listed(s)] == [1]
        extracts.delete(s, research.settings, research.researcher, made.id)
    with research.session() as s:
        assert extracts.listed(s) == []


def test_rows_linked_after_the_snapshot_stay_out(research):
    mother = research.participant()
    research.link("maternity", [maternity_row(mother)], linked_at=LINKED_AT)
    research.project()
    _, folder = make(research, snapshot=LINKED_AT - timedelta(seconds=1))
    assert len(pd.read_parquet(folder / "maternity.parquet")) == 0


def test_governance_register_lists_extracts_downloads_and_flags(research, family):
    research.project()
    made, _ = make(research)
    with research.session() as s:
        extracts.download(s, research.settings, research.researcher, made.id, "consent.csv")
        extracts.download(s, research.settings, research.researcher, made.id, "zip")
    research.withdraw(family[0], "full")
    with research.session() as s:
        (entry,) = register.extract_register(s)
    assert (entry.project, entry.requested_by, entry.participants) == ("PRJ-A", "rita", 3)
    assert (entry.downloads, entry.downloaded_by, entry.withdrawn_since) == (2, ("rita",), 1)


def test_the_sql_pseudonym_is_the_python_one(research):
    import duckdb

    key = pseudonyms.project_key(research.keys.pseudonym, "PRJ-A")
    ids = ["BB-0001-0000", "BB-9999-ZZZZ", "BC-0001-C001"]
    con = duckdb.connect()
    for name, value in pseudonyms.pads(key).items():
        con.execute(f"SET VARIABLE {name} = ?", [value])
    query = f"SELECT {pseudonyms.sql('s')} FROM unnest(?) t(s)"  # noqa: S608
    rows = con.execute(query, [ids]).fetchall()
    assert [r[0] for r in rows] == [pseudonyms.pseudonym(key, s) for s in ids]


def test_an_extract_may_take_only_some_of_the_approved_variables(research, family):
    research.project()
    with research.session() as s:
        made = extracts.make_extract(
            s,
            research.settings,
            research.keys.pseudonym,
            research.researcher,
            "PRJ-A",
            variables=["maternity.Parity", "consent.age_band"],
            snapshot_at=SNAPSHOT,
        )
        s.expunge(made)
    folder = extracts.directory(research.settings, "PRJ-A", made.id)
    assert [f["name"] for f in made.files if f["name"].endswith(".parquet")] == [
        "consent.parquet",
        "maternity.parquet",
    ]
    assert list(pd.read_parquet(folder / "maternity.parquet").columns) == ["pseudonym", "Parity"]
    assert made.definition["variables"] == {"consent": ["age_band"], "maternity": ["Parity"]}
    assert json.loads((folder / "manifest.json").read_text())["definition"] == made.definition


@pytest.mark.parametrize(
    ("chosen", "words"),
    [
        (["gp_registrations"], "not approved for dataset 'gp_registrations'"),
        (["maternity.Booking_Date"], "maternity.Booking_Date is not an approved variable"),
        (["maternity.NHS_No"], "maternity.NHS_No is not an approved variable"),
        ([], "choose at least one approved variable"),
    ],
)
def test_a_variable_outside_the_approval_is_refused_by_name(research, family, chosen, words):
    research.project(variables=("consent", "maternity.Parity"))
    with research.session() as s, pytest.raises(CohortError, match=words) as refused:
        extracts.make_extract(
            s,
            research.settings,
            research.keys.pseudonym,
            research.researcher,
            "PRJ-A",
            variables=chosen,
        )
    assert refused.value.field == "variables"
    with research.session() as s:
        assert extracts.listed(s) == []
    assert not extracts.extracts_dir(research.settings, "PRJ-A").exists() or not any(
        extracts.extracts_dir(research.settings, "PRJ-A").iterdir()
    )


def test_rerunning_a_saved_definition_reproduces_its_files(research, family):
    research.project()
    with research.session() as s:
        first = extracts.make_extract(
            s,
            research.settings,
            research.keys.pseudonym,
            research.researcher,
            "PRJ-A",
            variables=["birth_notifications", "consent.site"],
            snapshot_at=SNAPSHOT,
        )
        s.expunge(first)
    with research.session() as s:  # read back from the database, as a later request would
        again = extracts.rerun(
            s, research.settings, research.keys.pseudonym, research.researcher, first.id
        )
        ids = first.id, again.id
        assert again.definition == first.definition and again.files == first.files
    a, b = (extracts.directory(research.settings, "PRJ-A", i) for i in ids)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert [(a / n).read_bytes() for n in names] == [(b / n).read_bytes() for n in names]


def test_narrowing_the_approval_keeps_old_extracts_and_shapes_new_ones(research, family):
    research.project(date_granularity="day")
    first, a = make(research)
    before = {p.name: p.read_bytes() for p in a.iterdir()}
    with research.session() as s:
        change = projects.Change(variables=("maternity.Parity",), date_granularity="year")
        projects.edit(s, "PRJ-A", change, actor="dana")
    second, b = make(research)
    assert {p.name: p.read_bytes() for p in a.iterdir()} == before
    assert [f["name"] for f in second.files if f["name"].endswith(".parquet")] == [
        "maternity.parquet"
    ]
    assert list(pd.read_parquet(b / "maternity.parquet").columns) == ["pseudonym", "Parity"]
    assert second.definition == {"variables": {"maternity": ["Parity"]}, "date_granularity": "year"}
    with research.session() as s, pytest.raises(CohortError, match="dates to the year"):
        extracts.rerun(s, research.settings, research.keys.pseudonym, research.researcher, first.id)


@pytest.mark.parametrize("extract_id", [0, -1, 2**31, 9066075224406])
def test_an_extract_id_beyond_the_column_is_simply_not_found(research, extract_id):
    research.project()
    with research.session() as s, pytest.raises(NotFound, match=f"no extract {extract_id}"):
        extracts.download(s, research.settings, research.researcher, extract_id, "zip")


def test_the_next_extract_sweeps_folders_left_by_a_killed_one_but_not_a_fresh_one(research):
    """A killed extract cannot remove its hidden folder; one untouched for a day is dead,
    one touched since may be another process's extract still being written."""
    place = extracts.extracts_dir(research.settings, research.project())
    dead, writing, other = place / ".writing-0dead", place / ".writing-1live", place / "notes"
    for folder in (dead, writing, other):
        folder.mkdir(parents=True)
        (folder / "maternity.csv").write_text("half")
    two_days_ago = time.time() - 2 * 24 * 3600
    for folder in (dead, other):
        os.utime(folder, (two_days_ago, two_days_ago))

    _, made = make(research)
    assert not dead.exists()
    assert writing.exists() and other.exists() and (made / "manifest.json").is_file()


def test_a_folder_left_under_an_id_that_was_never_committed_is_replaced(research):
    """Killed between its rename and its commit, an extract leaves a numbered folder whose
    id the database gives out again: the next extract takes the place, not an error."""
    orphan = extracts.extracts_dir(research.settings, research.project()) / "1"
    orphan.mkdir(parents=True)
    (orphan / "half-written.parquet").write_text("half")

    made, folder = make(research)
    assert made.id == 1 and folder == orphan
    assert (folder / "manifest.json").is_file() and not (folder / "half-written.parquet").exists()
