"""Append-only, hash-chained audit trail.

Each event's hash is SHA-256 over the previous event's hash and the event's own
canonical JSON, so editing, deleting, inserting or reordering any row breaks the chain
at that row. Appends take the single ``AuditHead`` row, which serialises writers on both
SQLite and PostgreSQL and lets the verifier notice rows cut off the end.

An event is appended when its transaction commits, not when it is recorded: the head row
is then locked for the last statements and the commit only, instead of for the rest of
the request, so concurrent saves do not queue behind each other's work. An event recorded
in a savepoint that is rolled back is dropped with it.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
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


PENDING = "cohort.audit.pending"  # in Session.info: [(transaction, event)], in order


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
    """Record one event in the caller's transaction: it is appended to the chain (its
    ``seq``, ``at`` and hashes set) when that transaction commits, and never if it does
    not."""
    event = AuditEvent(
        actor=actor,
        action=action,
        participant=participant,
        project=project,
        source=source,
        detail=detail or {},
    )
    current = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(PENDING, []).append((current, event))
    return event


def _within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@sa_event.listens_for(OrmSession, "after_soft_rollback")
def _drop_rolled_back(session: OrmSession, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(PENDING)
    if pending:
        kept = [(t, e) for t, e in pending if not _within(t, previous_transaction)]
        session.info[PENDING] = kept


@sa_event.listens_for(OrmSession, "before_commit")
def _append(session: OrmSession) -> None:
    """Chain the transaction's events: one head update for all of them, then their rows
    (flushed by the commit) and the new last hash. A savepoint's release is a commit too,
    to SQLAlchemy: its events wait for the transaction's own."""
    if session.in_nested_transaction():
        return
    events = [event for _, event in session.info.pop(PENDING, [])]
    if not events:
        return
    conn = session.connection()
    head = conn.execute(
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(seq=_HEAD.c.seq + len(events))
        .returning(_HEAD.c.seq, _HEAD.c.last_hash)
    ).first()
    if head is None:
        raise RuntimeError("audit head row missing: the database was not migrated")
    last_seq, prev = head
    at = utcnow()
    for seq, event in enumerate(events, start=last_seq - len(events) + 1):
        event.seq, event.at, event.prev_hash = seq, at, prev
        event.hash = prev = link_hash(prev, event)
    session.add_all(events)
    conn.execute(update(_HEAD).where(_HEAD.c.id == 1).values(last_hash=prev))


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
