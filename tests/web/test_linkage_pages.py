"""The linkage pages as a data manager uses them: each source's latest run with its counts,
progress (refreshing only while a run is going), a run's rejected rows, quarantined files
with their reasons, and the clerical review queue (side by side, accept or reject, CSRF
protected and audited; identifiers for data managers only)."""

import re
from datetime import UTC, datetime

import pandas as pd
import pytest
from markupsafe import escape
from sqlmodel import Session, select

from cohort import capture
from cohort.db import session_scope
from cohort.models import AuditEvent, ClericalPair, LinkageRun, Participant, Site, User
from forms import registry
from linkage_jobs import clerical, store
from linkage_jobs.runner import Places
from linkage_jobs.spec import load_specs
from tests.consent_world import CONSENT
from tests.hostile_input import PAYLOAD, PAYLOADS, shown_as_text
from tests.web.conftest import sign_in

AT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)


@pytest.fixture
def data_manager(client, make_user) -> str:
    make_user("dana", "data_manager")
    return sign_in(client, "dana")


def add_run(instance, **fields) -> LinkageRun:
    values = {
        "source": "maternity",
        "file_name": "maternity_2026-11.csv",
        "file_sha256": "ab" * 32,
        "started_at": AT,
        "outcome": "succeeded",
        "rows_read": 150,
        "rows_rejected": 2,
        "rejections": [
            {"row": 4, "reason": "DOB: not a date in the format(s) %d/%m/%Y"},
            {"row": 9, "reason": "the record id (Maternity_Record_ID) is empty"},
        ],
        "matched": {"exact": 80, "probabilistic": 7, "clerical": 1},
        "match_rate": 0.58,
        "rows_written": 87,
        **fields,
    }
    with session_scope(instance.engine) as s:
        run = LinkageRun(**values)
        s.add(run)
        s.flush()
        return run


def flat(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def test_the_runs_page_shows_each_source_and_its_latest_run(client, data_manager, instance):
    add_run(instance)
    page = client.get("/linkage")
    assert page.status_code == 200
    text = flat(page.text)
    for spec in load_specs().values():
        assert str(escape(spec.title)) in text
    assert "Succeeded" in text and "58.0%" in text and "80 / 7 / 1" in text
    assert 'href="/linkage"' in text  # in the header menu
    assert 'http-equiv="refresh"' not in text


def test_a_running_run_shows_its_progress_and_the_page_refreshes(client, data_manager, instance):
    run = add_run(instance, outcome="running", stage="matching", percent=30)
    text = flat(client.get("/linkage").text)
    assert 'http-equiv="refresh"' in text
    assert f'<progress id="progress-{run.id}" max="100" value="30">' in text
    assert 'http-equiv="refresh"' in client.get(f"/linkage/run?id={run.id}").text


def test_a_run_shows_its_rejected_rows_with_reasons(client, data_manager, instance):
    run = add_run(instance)
    text = flat(client.get(f"/linkage/run?id={run.id}").text)
    assert "ab" * 32 in text
    assert "DOB: not a date in the format(s) %d/%m/%Y" in text
    assert "the record id (Maternity_Record_ID) is empty" in text


def test_a_run_over_a_synthetic_file_shows_its_precision_and_recall(client, data_manager, instance):
    quality = {"precision": 0.9988, "recall": 0.9712, "f1": 0.9848}
    run = add_run(instance, quality={**quality, "true_pos": 87, "false_pos": 1, "false_neg": 3})
    text = flat(client.get(f"/linkage/run?id={run.id}").text)
    assert "Against the synthetic ground truth" in text
    assert "precision 99.88%, recall 97.12%, F1 98.48%: 1 wrong links, 3 missed" in text
    plain = flat(client.get(f"/linkage/run?id={add_run(instance).id}").text)
    assert "ground truth" not in plain


def test_an_unknown_run_is_not_found(client, data_manager):
    assert client.get("/linkage/run?id=999").status_code == 404


def test_quarantined_files_are_listed_with_the_reason(client, data_manager, instance):
    folder = Places.of(instance.settings, load_specs()["maternity"]).quarantine
    folder.mkdir(parents=True)
    (folder / "maternity_bad.csv").write_text("x")
    (folder / "maternity_bad.csv.reason.txt").write_text("the file is empty\n")
    text = flat(client.get("/linkage").text)
    assert "maternity_bad.csv" in text and "the file is empty" in text


def test_a_hostile_file_name_and_reason_are_shown_as_text(client, data_manager, instance):
    folder = Places.of(instance.settings, load_specs()["maternity"]).quarantine
    folder.mkdir(parents=True)
    (folder / f"{PAYLOADS[1]}.csv").write_text("x")
    (folder / f"{PAYLOADS[1]}.csv.reason.txt").write_text(f"{PAYLOAD}\n")
    assert shown_as_text(client.get("/linkage").text)


PARTNER = {"given_name": "AYSHA", "family_name": "KHAN", "date_of_birth": "1995-04-02"}
COHORT = {"given_name": "AISHA", "family_name": "KHAN", "date_of_birth": "1995-04-02"}


def _pending_pair(instance, partner=PARTNER, cohort=COHORT) -> ClericalPair:
    """A consented mother, a run, and a grey-zone pair whose payload waits in the store."""
    spec = load_specs()["maternity"]
    with session_scope(instance.engine) as s:
        site = Site(code="BRD", name="Bradford")
        s.add(site)
        s.flush()
        midwife = User(
            username="mw", full_name="Mw", role="midwife", site_id=site.id, password_hash="x"
        )
        s.add(midwife)
        s.flush()
        done = capture.record_answers(
            s,
            instance.keys,
            registry.current(s, capture.FORM),
            CONSENT,
            user=midwife,
            token="linkage-pages-0001",
        )
    study_id = done.result["study_id"]
    run = add_run(instance)
    with session_scope(instance.engine) as s:
        pid = s.exec(select(Participant.id).where(Participant.study_id == study_id)).one()
        pair = ClericalPair(
            run_id=run.id,
            source="maternity",
            record_key="f" * 64,
            study_id=study_id,
            probability=0.72,
            comparison=clerical.seal_comparison(
                instance.keys, pid, run.id, "f" * 64, pd.Series(partner), pd.Series(cohort)
            ),
        )
        s.add(pair)
        s.flush()
    payload = {column: None for column in spec.payload} | {"Parity": 1}
    pending = pd.DataFrame(
        [{"pair_id": pair.id, "study_id": study_id, "record_key": "f" * 64, **payload}]
    )
    store.write_run(
        instance.settings.research_store_path,
        spec,
        run_id=run.id,
        sha256=run.file_sha256,
        linked=pd.DataFrame(columns=["study_id", "record_key", "method", "match_probability"]),
        pending=pending,
        linked_at=AT,
    )
    return pair


def test_review_shows_the_pair_side_by_side_and_audits_the_showing(client, data_manager, instance):
    pair = _pending_pair(instance)
    text = flat(client.get("/linkage/review").text)
    assert "AYSHA" in text and "AISHA" in text and "72%" in text
    assert f'name="pair_id" value="{pair.id}"' in text
    with Session(instance.engine) as s:
        views = s.exec(select(AuditEvent).where(AuditEvent.action == "linkage.clerical_view")).all()
    assert [v.detail["pairs"] for v in views] == [[pair.id]]


def test_review_shows_hostile_identifiers_as_text(client, data_manager, instance):
    hostile = dict.fromkeys(("given_name", "family_name", "address"), PAYLOAD)
    _pending_pair(instance, partner=PARTNER | hostile, cohort=COHORT | hostile)
    assert shown_as_text(client.get("/linkage/review").text)


def test_a_pair_the_vault_cannot_open_is_listed_without_its_identifiers(
    client, data_manager, instance
):
    pair = _pending_pair(instance)
    with session_scope(instance.engine) as s:
        sealed = s.get(ClericalPair, pair.id)
        sealed.comparison = sealed.comparison[:-8] + "AAAAAAAA"  # altered since it was sealed
    page = client.get("/linkage/review")
    assert page.status_code == 200
    text = flat(page.text)
    assert "cannot be opened" in text and "AYSHA" not in text
    assert f'name="pair_id" value="{pair.id}"' in text


def test_accepting_a_pair_links_its_record(client, data_manager, instance):
    pair = _pending_pair(instance)
    answer = client.post(
        "/linkage/review",
        data={"csrf_token": data_manager, "pair_id": pair.id, "decision": "accepted"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "was accepted" in client.get(answer.headers["location"]).text
    linked = store.read_table(instance.settings.research_store_path, "maternity")
    assert list(linked["study_id"]) == [pair.study_id] and list(linked["method"]) == ["clerical"]
    with Session(instance.engine) as s:
        decided = s.get(ClericalPair, pair.id)
        assert (decided.decision, decided.decided_by) == ("accepted", "dana")
        assert s.exec(
            select(AuditEvent).where(AuditEvent.action == "linkage.clerical_decision")
        ).one().detail == {"source": "maternity", "pair": pair.id, "decision": "accepted"}
    assert "No pair is waiting" in client.get("/linkage/review").text


def test_rejecting_a_pair_links_nothing(client, data_manager, instance):
    pair = _pending_pair(instance)
    client.post(
        "/linkage/review",
        data={"csrf_token": data_manager, "pair_id": pair.id, "decision": "rejected"},
    )
    path = instance.settings.research_store_path
    assert store.read_table(path, "maternity").empty
    assert store.read_table(path, "linkage.pending_maternity").empty


def test_a_pair_cannot_be_decided_twice(client, data_manager, instance):
    pair = _pending_pair(instance)
    data = {"csrf_token": data_manager, "pair_id": pair.id, "decision": "accepted"}
    client.post("/linkage/review", data=data)
    again = client.post("/linkage/review", data=data)
    assert again.status_code == 409 and "already accepted" in again.text


def test_an_administrator_sees_runs_but_not_identifiers(client, make_user, instance):
    make_user("ada", "admin")
    sign_in(client, "ada")
    assert client.get("/linkage").status_code == 200
    assert client.get("/linkage/review").status_code == 403


def test_a_midwife_cannot_see_linkage(client, make_user):
    make_user("mia", "midwife")
    sign_in(client, "mia")
    assert client.get("/linkage").status_code == 403


def _linked_row(instance, study_id: str) -> None:
    spec = load_specs()["maternity"]
    row = {column: None for column in spec.payload} | {"Parity": 2}
    linked = pd.DataFrame(
        [
            {
                "study_id": study_id,
                "record_key": "e" * 64,
                "method": "exact",
                "match_probability": 1.0,
                **row,
            }
        ]
    )
    no_pending = pd.DataFrame(columns=["pair_id", "study_id", "record_key"])
    store.write_run(
        instance.settings.research_store_path,
        spec,
        run_id=1,
        sha256="cd" * 32,
        linked=linked,
        pending=no_pending,
        linked_at=AT,
    )


def _withdraw_on_the_page(client, csrf: str, study_id: str, level: str) -> None:
    page = client.get(f"/participants/{study_id}/withdrawal")
    token = re.search(r'name="submission_token" value="([^"]+)"', page.text).group(1)
    sent = client.post(
        f"/participants/{study_id}/withdrawal",
        data={"csrf_token": csrf, "submission_token": token, "level": level},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text


@pytest.mark.parametrize(("level", "kept"), [("no_data", 1), ("full", 0)])
def test_a_withdrawal_recorded_on_the_page_purges_linked_data_only_when_full(
    client, data_manager, instance, level, kept
):
    pair = _pending_pair(instance)
    _linked_row(instance, pair.study_id)
    _withdraw_on_the_page(client, data_manager, pair.study_id, level)
    path = instance.settings.research_store_path
    assert len(store.read_table(path, "maternity")) == kept
    assert len(store.read_table(path, "linkage.pending_maternity")) == kept
    with Session(instance.engine) as s:
        purges = s.exec(select(AuditEvent).where(AuditEvent.action == "linkage.purge")).all()
        assert len(purges) == 1 - kept
        assert s.get(ClericalPair, pair.id).decision == ("pending" if kept else "rejected")
