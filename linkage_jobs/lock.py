"""One run per source at a time, across processes.

Every backend keeps a ``LinkageLock`` row per running source, naming its holder
(``host:pid``), so the runs page and a refused second process can say who holds it. A
process that died holding it leaves the row behind: on the same host a holder whose pid is
gone is taken over. PostgreSQL also takes ``pg_try_advisory_lock``, which the server frees
when the holder's connection dies, so there a row without its advisory lock is stale
whichever host wrote it.
"""

import hashlib
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cohort.db import session_scope
from cohort.errors import Conflict
from cohort.models import LinkageLock

# The scheduler's leadership (``leadership.py``): not a source name, which starts with a
# letter or digit, so no source can ever hold it.
LEADER = "~scheduler"


class SourceBusy(Conflict):
    """Another process is running this source: nothing was done."""


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _advisory_key(source: str) -> int:
    return int.from_bytes(
        hashlib.sha256(f"linkage:{source}".encode()).digest()[:8], "big", signed=True
    )


def _holder_is_dead(holder: str) -> bool:
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _busy(source: str, lock: LinkageLock) -> SourceBusy:
    started = lock.acquired_at.strftime("%Y-%m-%d %H:%M UTC")
    return SourceBusy(
        f"{source} is already being linked (by {lock.holder}, since {started}): "
        "nothing was done; wait for that run to finish"
    )


def _take_row(engine: Engine, source: str, *, stale_ok: bool) -> None:
    """Insert the lock row; a stale row (dead holder, or ``stale_ok``) is replaced."""
    with session_scope(engine) as session:
        held = session.get(LinkageLock, source)
        if held is not None:
            if not (stale_ok or _holder_is_dead(held.holder)):
                raise _busy(source, held)
            session.delete(held)
            session.flush()
        session.add(LinkageLock(source=source, holder=holder_name()))
        try:
            session.flush()
        except IntegrityError:  # another process took it between our read and insert
            session.rollback()
            with Session(engine) as again:
                raise _busy(source, again.get(LinkageLock, source)) from None


def _drop_row(engine: Engine, source: str) -> None:
    with session_scope(engine) as session:
        held = session.get(LinkageLock, source)
        if held is not None and held.holder == holder_name():
            session.delete(held)


@contextmanager
def _advisory(engine: Engine, source: str) -> Iterator[Connection | None]:
    if engine.dialect.name != "postgresql":
        yield None
        return
    with engine.connect() as conn:
        key = _advisory_key(source)
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        conn.commit()
        if not got:
            with Session(engine) as session:
                held = session.get(LinkageLock, source)
            raise (
                _busy(source, held)
                if held
                else SourceBusy(
                    f"{source} is already being linked by another process: nothing was done"
                )
            )
        try:
            yield conn
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


@contextmanager
def source_lock(engine: Engine, source: str) -> Iterator[None]:
    """Hold ``source`` for the duration, or raise ``SourceBusy`` at once."""
    with _advisory(engine, source) as advisory:
        _take_row(engine, source, stale_ok=advisory is not None)
        try:
            yield
        finally:
            _drop_row(engine, source)


def holders(session: Session) -> dict[str, LinkageLock]:
    """The sources running now, for the runs page."""
    locks = session.exec(select(LinkageLock).where(LinkageLock.source != LEADER)).all()
    return {lock.source: lock for lock in locks}
