"""Append-only, hash-chained audit trail.

Each event's hash is SHA-256 over the previous event's hash and the event's own
canonical JSON, so editing, deleting, inserting or reordering any row breaks the chain
at that row. Appends take the single ``AuditHead`` row first, which serialises writers on
both SQLite and PostgreSQL and lets the verifier notice rows cut off the end.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from cohort.models import AuditEvent, AuditHead, utcnow
from forms.i18n import N_

GENESIS = "0" * 64
# Why a link does not hold: marked, so the audit and access pages show the reason in the
# UI language (the verdict itself stays English, as the CLI and the log print it).
MISSING = N_("event missing (deleted)")
OUT_OF_ORDER = N_("event out of order (reordered or inserted)")
NOT_FOLLOWING = N_("does not follow the previous event")
ALTERED = N_("content altered since it was written")
CUT_OFF = N_("events missing from the end of the chain")
# Core table, not the ORM class: the head update is on every write path, and the ORM's
# bulk-update bookkeeping cost more than the statement itself.
_HEAD = AuditHead.__table__


def _canonical(event: AuditEvent) -> str:
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
    body = {
        "seq": event.seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": event.actor,
        "action": event.action,
        "participant": event.participant,
        "project": event.project,
        "source": event.source,
        "detail": event.detail,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + _canonical(event)).encode()).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    participant: str | None = None,
    project: str | None = None,
    source: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event inside the caller's transaction (it commits with the change)."""
    head = (
        session.connection()
        .execute(
            update(_HEAD)
            .where(_HEAD.c.id == 1)
            .values(seq=_HEAD.c.seq + 1)
            .returning(_HEAD.c.seq, _HEAD.c.last_hash)
        )
        .first()
    )
    if head is None:
        raise RuntimeError("audit head row missing: the database was not migrated")
    seq, prev = head
    event = AuditEvent(
        seq=seq,
        at=utcnow(),
        actor=actor,
        action=action,
        participant=participant,
        project=project,
        source=source,
        detail=detail or {},
        prev_hash=prev,
        hash="",
    )
    event.hash = link_hash(prev, event)
    session.add(event)
    session.connection().execute(update(_HEAD).where(_HEAD.c.id == 1).values(last_hash=event.hash))
    return event


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rows: int
    broken_seq: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.rows} events"
        return f"audit chain broken at event {self.broken_seq}: {self.reason}"


def verify(session: Session, batch: int = 5000) -> Verdict:
    """Walk the chain in sequence order and name the first link that does not hold."""
    prev, expected_seq, rows = GENESIS, 1, 0
    last_id = 0
    while True:
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.seq >= expected_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not events:
            break
        for ev in events:
            if ev.seq != expected_seq:
                return Verdict(False, rows, expected_seq, MISSING)
            if ev.id is not None and ev.id < last_id:
                return Verdict(False, rows, ev.seq, OUT_OF_ORDER)
            if ev.prev_hash != prev:
                return Verdict(False, rows, ev.seq, NOT_FOLLOWING)
            if link_hash(prev, ev) != ev.hash:
                return Verdict(False, rows, ev.seq, ALTERED)
            prev, last_id, expected_seq, rows = ev.hash, ev.id or last_id, ev.seq + 1, rows + 1
    head = session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.last_hash) if head else (0, GENESIS)
    if head_seq != rows or head_hash != prev:
        return Verdict(False, rows, rows + 1, CUT_OFF)
    return Verdict(True, rows)
