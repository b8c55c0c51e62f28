"""Audit chain: appends link by hash; the verifier names the first broken link for each of
the four ways a row can be tampered with (altered, deleted, inserted, reordered)."""

import itertools

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from cohort import audit
from cohort.db import session_scope
from cohort.models import AuditEvent


def _write_chain(engine, n: int = 5) -> None:
    for i in range(n):
        with session_scope(engine) as s:
            audit.record(s, actor="tester", action="test.event", detail={"i": i}, source="1.2.3.4")


def _verify(engine) -> audit.Verdict:
    with Session(engine) as s:
        return audit.verify(s)


def test_empty_chain_verifies(engine):
    assert _verify(engine) == audit.Verdict(True, 0)


def test_appended_events_link_to_each_other(engine):
    _write_chain(engine)
    with Session(engine) as s:
        events = s.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert _verify(engine).ok


def test_audit_event_is_rolled_back_with_its_change(engine):
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        audit.record(s, actor="tester", action="doomed")
        raise RuntimeError("the business write failed")
    _write_chain(engine, 1)
    assert _verify(engine) == audit.Verdict(True, 1)


def test_an_event_recorded_in_a_savepoint_that_rolls_back_is_dropped_with_it(engine):
    with session_scope(engine) as s:
        audit.record(s, actor="tester", action="kept.before")
        with pytest.raises(RuntimeError), s.begin_nested():
            audit.record(s, actor="tester", action="doomed")
            raise RuntimeError("this row of an import is refused")
        with s.begin_nested():
            audit.record(s, actor="tester", action="kept.after")
    with Session(engine) as s:
        actions = s.exec(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert actions == ["kept.before", "kept.after"]
    assert _verify(engine) == audit.Verdict(True, 2)


def test_an_open_transaction_that_recorded_an_event_does_not_hold_up_another_append(engine):
    """The head row is taken when a transaction commits, not when it records an event, so
    a request still at work does not make every other writer wait for it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises write transactions from their BEGIN anyway")
    with session_scope(engine) as busy:
        audit.record(busy, actor="tester", action="slow.request")
        busy.exec(select(AuditEvent)).all()  # its transaction is open and at work
        with session_scope(engine) as other:
            other.exec(text("SET LOCAL lock_timeout = '5s'"))
            audit.record(other, actor="tester", action="quick.request")
    with Session(engine) as s:
        actions = s.exec(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert actions == ["quick.request", "slow.request"]
    assert _verify(engine).ok


TAMPERING = [
    ("altered", "UPDATE auditevent SET actor = 'mallory' WHERE seq = 3", 3, "altered"),
    ("deleted", "DELETE FROM auditevent WHERE seq = 3", 3, "missing"),
    (
        "inserted",
        "UPDATE auditevent SET seq = seq + 100 WHERE seq >= 3; "
        "UPDATE auditevent SET seq = seq - 99 WHERE seq >= 100; "
        "INSERT INTO auditevent (seq, at, actor, action, detail, prev_hash, hash) "
        "SELECT 3, at, 'mallory', 'forged', '{}', hash, hash FROM auditevent WHERE seq = 2",
        3,
        "",
    ),
    (
        "reordered",
        "UPDATE auditevent SET seq = 100 WHERE seq = 3; "
        "UPDATE auditevent SET seq = 3 WHERE seq = 4; "
        "UPDATE auditevent SET seq = 4 WHERE seq = 100",
        3,
        "",
    ),
    ("truncated", "DELETE FROM auditevent WHERE seq = 5", 5, "end of the chain"),
]


MARKED_REASONS = {
    audit.MISSING,
    audit.OUT_OF_ORDER,
    audit.NOT_FOLLOWING,
    audit.ALTERED,
    audit.CUT_OFF,
}


@pytest.mark.parametrize(
    ("how", "sql", "broken_seq", "reason"), TAMPERING, ids=[t[0] for t in TAMPERING]
)
def test_verifier_names_first_tampered_event(engine, how, sql, broken_seq, reason):
    _write_chain(engine)
    with engine.begin() as conn:
        for stmt in sql.split("; "):
            conn.execute(text(stmt))
    verdict = _verify(engine)
    assert not verdict.ok
    assert verdict.broken_seq == broken_seq, str(verdict)
    assert reason in verdict.reason
    assert verdict.reason in MARKED_REASONS  # so a page can show it in the UI language
    assert f"event {broken_seq}" in str(verdict)


def test_concurrent_appends_keep_one_unbroken_chain(engine):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: _write_chain(engine, 10), range(8)))
    assert _verify(engine) == audit.Verdict(True, 80)
