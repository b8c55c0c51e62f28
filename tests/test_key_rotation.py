"""Vault key rotation: every row ends under the new key with every value unchanged, and
a rotation that stops part-way can be run again to finish. SQLite and PostgreSQL."""

import base64
import dataclasses
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from cohort import audit, vault
from cohort.config import Settings
from cohort.db import session_scope
from cohort.errors import CohortError
from cohort.key_rotation import rotate
from cohort.keys import KeyProblem, init_keys, load_keys
from cohort.models import AuditEvent, Identity, KeyRotation, Site

NHS_NUMBERS = ["9434765919", "4010232137", "4857773457", "9990000018", "9990000026"]
PEOPLE = [
    vault.IdentityFields(
        nhs_number=nhs,
        given_name=f"Given{i}",
        family_name=f"Family{i}",
        date_of_birth=date(1990, 1, 1 + i),
        postcode=f"BD{i} 1AA",
        address=None if i % 2 else f"{i} Manor Row",
    )
    for i, nhs in enumerate(NHS_NUMBERS)
]


class Interrupted(Exception):
    """Stands in for a crash or a killed process between two batches."""


@pytest.fixture
def settings(tmp_path: Path, monkeypatch) -> Settings:
    monkeypatch.delenv("COHORT_VAULT_KEYS", raising=False)
    init_keys(tmp_path / "keys")
    return Settings(data_dir=tmp_path, key_dir=tmp_path / "keys")


@pytest.fixture
def enrolled(engine, settings) -> dict[int, vault.IdentityFields]:
    """Participant row id -> identity as read back before any rotation."""
    keys = load_keys(settings.keys_path)
    with session_scope(engine) as session:
        site = Site(code="BRI", name="Bradford Royal Infirmary")
        session.add(site)
        session.flush()
        ids = [vault.enrol(session, keys, site.id, p, actor="midwife1").id for p in PEOPLE]
    return {pid: _read_all(engine, settings)[pid] for pid in ids}


def _read_all(engine, settings) -> dict[int, vault.IdentityFields]:
    keys = load_keys(settings.keys_path)
    with Session(engine) as session:
        pids = session.exec(select(Identity.participant_id)).all()
        return {pid: vault.read_identity(session, keys, pid) for pid in pids}


def _row_key_ids(engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(Identity.key_id).order_by(Identity.id)).all())


def _vault_key_files(settings) -> set[str]:
    return {p.stem for p in (settings.keys_path / "vault").glob("*.key")}


def _interrupt_after_first_batch(rows_done: int) -> None:
    raise Interrupted


def test_rotation_moves_every_row_to_a_new_key_and_changes_no_value(engine, settings, enrolled):
    old_key = load_keys(settings.keys_path).current_vault_id
    report = rotate(engine, settings, batch_size=2)
    keys = load_keys(settings.keys_path)
    assert keys.current_vault_id == report.new_key_id != old_key
    assert (report.rows_reencrypted, report.rows_total, report.resumed) == (5, 5, False)
    assert report.old_key_ids == (old_key,)
    assert _row_key_ids(engine) == [report.new_key_id] * 5
    assert _read_all(engine, settings) == enrolled
    assert _vault_key_files(settings) == {old_key, report.new_key_id}  # old key kept
    with Session(engine) as session:
        ciphertexts = session.exec(select(Identity.given_name)).all()
    assert all(c.startswith(f"v1.{report.new_key_id}.") for c in ciphertexts)


def test_an_interrupted_rotation_resumes_and_finishes_on_the_next_run(engine, settings, enrolled):
    old_key = load_keys(settings.keys_path).current_vault_id
    with pytest.raises(Interrupted):
        rotate(engine, settings, batch_size=2, after_batch=_interrupt_after_first_batch)

    # Mid-rotation: two rows under the new key, three under the old, all still readable.
    with Session(engine) as session:
        pending = session.exec(select(KeyRotation)).one()
    assert pending.finished_at is None and pending.rows_done == 2
    assert sorted(_row_key_ids(engine)) == sorted([pending.new_key_id] * 2 + [old_key] * 3)
    assert _read_all(engine, settings) == enrolled

    report = rotate(engine, settings, batch_size=2)
    assert report.resumed and report.new_key_id == pending.new_key_id
    assert (report.rows_reencrypted, report.rows_total) == (3, 5)
    assert _vault_key_files(settings) == {old_key, pending.new_key_id}  # no third key
    assert _row_key_ids(engine) == [pending.new_key_id] * 5
    assert _read_all(engine, settings) == enrolled
    with Session(engine) as session:
        rotations = session.exec(select(KeyRotation)).all()
    assert len(rotations) == 1 and rotations[0].finished_at is not None


def test_rows_written_under_the_old_key_during_rotation_are_not_left_behind(
    engine, settings, enrolled
):
    stale_keys = load_keys(settings.keys_path)  # a service that has not restarted yet
    late = dataclasses.replace(PEOPLE[0], nhs_number="9990000034", given_name="Late")

    def enrol_with_stale_key(rows_done: int) -> None:
        if rows_done == 2:
            with session_scope(engine) as session:
                site_id = session.exec(select(Site.id)).first()
                vault.enrol(session, stale_keys, site_id, late, actor="midwife1")

    report = rotate(engine, settings, batch_size=2, after_batch=enrol_with_stale_key)
    assert report.rows_total == 6
    assert _row_key_ids(engine) == [report.new_key_id] * 6
    assert late in _read_all(engine, settings).values()


def test_successive_rotations_each_make_a_new_key(engine, settings, enrolled):
    first = rotate(engine, settings)
    second = rotate(engine, settings)
    assert second.new_key_id != first.new_key_id
    assert second.old_key_ids == (first.new_key_id,)
    assert _row_key_ids(engine) == [second.new_key_id] * 5
    assert _read_all(engine, settings) == enrolled


def test_rotation_is_audited_at_start_and_finish_without_key_material(engine, settings, enrolled):
    old_key = load_keys(settings.keys_path).current_vault_id
    with pytest.raises(Interrupted):
        rotate(
            engine, settings, batch_size=3, after_batch=_interrupt_after_first_batch, actor="ops"
        )
    report = rotate(engine, settings, batch_size=3, actor="ops")
    with Session(engine) as session:
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action.like("keys.rotate.%"))
            .order_by(AuditEvent.seq)
        ).all()
        assert audit.verify(session).ok
    assert [(e.action, e.actor) for e in events] == [
        ("keys.rotate.start", "ops"),
        ("keys.rotate.finish", "ops"),
    ]
    assert events[0].detail == {
        "new_key_id": report.new_key_id,
        "old_key_ids": [old_key],
        "rows_to_reencrypt": 5,
    }
    assert events[1].detail == {
        "new_key_id": report.new_key_id,
        "old_key_ids": [old_key],
        "rows_reencrypted": 2,
        "rows_total": 5,
        "resumed": True,
    }
    keys = load_keys(settings.keys_path)
    for key in keys.vault.values():
        assert base64.b64encode(key).decode() not in str([e.detail for e in events])


def test_rotation_is_refused_when_vault_keys_come_from_the_environment(
    engine, settings, enrolled, monkeypatch
):
    key_ids = _vault_key_files(settings)
    monkeypatch.setenv("COHORT_VAULT_KEYS", "k1:" + base64.b64encode(b"\0" * 32).decode())
    with pytest.raises(CohortError, match="COHORT_VAULT_KEYS"):
        rotate(engine, settings)
    assert _vault_key_files(settings) == key_ids
    with Session(engine) as session:
        assert session.exec(select(KeyRotation)).first() is None


def test_an_unfinished_rotation_whose_key_is_lost_says_what_to_restore(engine, settings, enrolled):
    with pytest.raises(Interrupted):
        rotate(engine, settings, batch_size=2, after_batch=_interrupt_after_first_batch)
    with Session(engine) as session:
        new_key_id = session.exec(select(KeyRotation.new_key_id)).one()
    key_dir = settings.keys_path / "vault"
    (key_dir / f"{new_key_id}.key").unlink()
    (key_dir / "current").write_text(next(iter(_vault_key_files(settings))) + "\n")
    with pytest.raises(KeyProblem, match=f"{new_key_id} .*restore it from the key backup"):
        rotate(engine, settings)
