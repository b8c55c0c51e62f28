"""One run per source at a time: a second runner is refused at once with who holds it, on
SQLite and PostgreSQL; a lock left by a dead process does not block for ever."""

import threading
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from cohort.db import session_scope
from cohort.models import LinkageLock
from linkage_jobs.lock import SourceBusy, holder_name, holders, source_lock


def test_a_second_runner_of_the_same_source_is_refused_while_the_first_holds_it(engine):
    holding, release = threading.Event(), threading.Event()
    refused: list[str] = []

    def first() -> None:
        with source_lock(engine, "maternity"):
            holding.set()
            release.wait(10)

    def second() -> None:
        try:
            with source_lock(engine, "maternity"):
                pass
        except SourceBusy as exc:
            refused.append(exc.message)

    runner = threading.Thread(target=first)
    runner.start()
    assert holding.wait(10)
    other = threading.Thread(target=second)
    other.start()
    other.join(10)
    release.set()
    runner.join(10)
    assert len(refused) == 1
    assert "maternity is already being linked" in refused[0]
    assert "nothing was done" in refused[0]


def test_other_sources_run_alongside(engine):
    with (
        source_lock(engine, "maternity"),
        source_lock(engine, "school_census"),
        Session(engine) as s,
    ):
        assert set(holders(s)) == {"maternity", "school_census"}
    with Session(engine) as s:
        assert holders(s) == {}


def test_the_lock_is_released_when_the_run_fails(engine):
    with pytest.raises(RuntimeError), source_lock(engine, "maternity"):
        raise RuntimeError("boom")
    with source_lock(engine, "maternity"):
        pass


def test_a_lock_left_by_a_dead_process_is_taken_over(engine):
    host = holder_name().rpartition(":")[0]
    with session_scope(engine) as s:
        s.add(
            LinkageLock(
                source="maternity", holder=f"{host}:999999999", acquired_at=datetime.now(UTC)
            )
        )
    with source_lock(engine, "maternity"), Session(engine) as s:
        assert s.get(LinkageLock, "maternity").holder == holder_name()


def test_a_holder_on_another_host_is_respected_unless_postgresql_knows_it_is_gone(engine):
    with session_scope(engine) as s:
        s.add(LinkageLock(source="maternity", holder="elsewhere:1", acquired_at=datetime.now(UTC)))
    if engine.dialect.name == "postgresql":
        # No advisory lock is held, so the row is stale: PostgreSQL knows the holder is gone.
        with source_lock(engine, "maternity"):
            pass
    else:
        with pytest.raises(SourceBusy, match="elsewhere:1"), source_lock(engine, "maternity"):
            pass
