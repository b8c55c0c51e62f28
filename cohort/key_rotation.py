"""Vault key rotation: re-encrypt every identity row under a new key, safely resumable.

A rotation is a ``KeyRotation`` row. Starting one writes a new vault key (it becomes
current for new writes) and records the row; then rows still under other keys are
re-encrypted in committed batches. Old keys stay in the key directory, so every row
decrypts at every moment. If the run stops part-way, running it again resumes the
unfinished rotation rather than starting another. The audit trail gets the start and
the finish with counts and key ids, never key material.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cohort import audit, vault
from cohort.config import Settings
from cohort.db import session_scope
from cohort.errors import CohortError
from cohort.keys import KeyProblem, KeyRing, load_keys, new_vault_key
from cohort.models import Identity, KeyRotation, utcnow

BATCH_SIZE = 500
ENV_VAULT_KEYS = "COHORT_VAULT_KEYS"


@dataclass(frozen=True)
class RotationReport:
    new_key_id: str
    old_key_ids: tuple[str, ...]
    rows_reencrypted: int
    rows_total: int
    resumed: bool

    def __str__(self) -> str:
        verb = "resumed and finished" if self.resumed else "finished"
        old = ", ".join(self.old_key_ids) or "no other key"
        return (
            f"key rotation {verb}: {self.rows_reencrypted} identity rows re-encrypted in this "
            f"run ({self.rows_total} in all) from {old} to {self.new_key_id}; restart running "
            "services so they write with the new key"
        )


def _unfinished(session: Session) -> KeyRotation | None:
    return session.exec(
        select(KeyRotation).where(KeyRotation.finished_at.is_(None)).order_by(KeyRotation.id)
    ).first()


def _other_key_ids(session: Session, new_key_id: str) -> tuple[str, ...]:
    rows = session.exec(
        select(Identity.key_id).where(Identity.key_id != new_key_id).distinct()
    ).all()
    return tuple(sorted(rows))


def _start(engine: Engine, settings: Settings, actor: str) -> tuple[int, str, bool]:
    """Resume the unfinished rotation, or make a new key and record a new rotation."""
    with session_scope(engine) as session:
        running = _unfinished(session)
        if running is not None:
            return running.id, running.new_key_id, True
    new_key_id = new_vault_key(settings.keys_path)
    with session_scope(engine) as session:
        rotation = KeyRotation(new_key_id=new_key_id)
        session.add(rotation)
        pending = session.exec(
            select(func.count()).select_from(Identity).where(Identity.key_id != new_key_id)
        ).one()
        audit.record(
            session,
            actor=actor,
            action="keys.rotate.start",
            detail={
                "new_key_id": new_key_id,
                "old_key_ids": list(_other_key_ids(session, new_key_id)),
                "rows_to_reencrypt": pending,
            },
        )
        session.flush()
        return rotation.id, new_key_id, False


def _keys_for(settings: Settings, new_key_id: str) -> KeyRing:
    keys = load_keys(settings.keys_path)
    if new_key_id not in keys.vault:
        raise KeyProblem(
            f"vault key {new_key_id} of the unfinished rotation is missing from the key "
            "directory: restore it from the key backup, then run the rotation again"
        )
    return keys


def rotate(
    engine: Engine,
    settings: Settings,
    batch_size: int = BATCH_SIZE,
    after_batch: Callable[[int], None] | None = None,
    *,
    actor: str = "system",
) -> RotationReport:
    """Rotate (or finish rotating) the vault key; ``after_batch(rows so far)`` runs per commit."""
    if os.environ.get(ENV_VAULT_KEYS):
        raise CohortError(
            f"vault keys come from {ENV_VAULT_KEYS}, which this command cannot write: "
            "rotate them from a key directory instead"
        )
    rotation_id, new_key_id, resumed = _start(engine, settings, actor)
    keys = _keys_for(settings, new_key_id)
    with session_scope(engine) as session:
        old_key_ids = _other_key_ids(session, new_key_id)
    done = 0
    while True:
        with session_scope(engine) as session:
            rotation = session.get(KeyRotation, rotation_id)
            rows = session.exec(
                select(Identity)
                .where(Identity.key_id != new_key_id)
                .order_by(Identity.id)
                .limit(batch_size)
                .with_for_update()
            ).all()
            if not rows:
                rotation.finished_at = utcnow()
                audit.record(
                    session,
                    actor=actor,
                    action="keys.rotate.finish",
                    detail={
                        "new_key_id": new_key_id,
                        "old_key_ids": list(old_key_ids),
                        "rows_reencrypted": done,
                        "rows_total": rotation.rows_done,
                        "resumed": resumed,
                    },
                )
                break
            for row in rows:
                vault.reencrypt(keys, row, new_key_id)
            rotation.rows_done += len(rows)
        done += len(rows)
        if after_batch is not None:
            after_batch(done)
    return RotationReport(new_key_id, old_key_ids, done, rotation.rows_done, resumed)
