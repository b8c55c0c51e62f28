"""Where a consent save's time goes (``python -m bench save-profile``): the figures that say
what to do next about the load benchmark's saves per second.

One process, saves one after another through the real app (FastAPI's test client, an API
token), on SQLite and on a durable PostgreSQL:

- SQL statements per save, and the time the database connection is held per save: with
  SQLite's one pooled connection, saves per second can never pass 1 / that time;
- the share of the save spent in the audit append, the vault (AES-GCM and the blind
  index), argon2, template rendering, and the commit (fsync), each timed where it runs.

Then, against ``cohort serve`` with two processes and 64 midwives saving at once on
PostgreSQL, pg_stat_activity sampled every few milliseconds: the share of busy
connections that are waiting for a lock (the audit head row every save updates)."""

import asyncio
import functools
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jinja2
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession

from bench.harness import Row, median, pg_database, scale, scaled
from bench.load import START_S, Load, consent_answers, drive, prepare, women
from cohort import audit, vault
from cohort.auth import passwords
from cohort.auth.tokens import issue_token
from cohort.auth.users import get_user
from cohort.config import Settings
from cohort.db import session_scope
from cohort.instance import open_instance
from cohort.web.app import create_app
from tests.live_server import serve

SCALE = scale("save-profile")
SAVES = scaled(150, SCALE)
MS = 1000
# The parts of a save to time: a label, and the function (module or class attribute),
# wrapped for the run so that its time is counted on whichever thread runs the request.
PARTS = {
    "audit: recording an event (its append runs in the commit)": (audit, "record"),
    "vault: encrypt identifiers (AES-GCM)": (vault, "encrypt"),
    "vault: blind index (HMAC)": (vault, "blind_index"),
    "argon2 password check (at sign-in only)": (passwords, "verify"),
    "template rendering (an API save renders none)": (jinja2.Template, "render"),
    "commit (SQLite fsync / PostgreSQL round trip)": (OrmSession, "commit"),
}
CONCURRENT_MIDWIVES = 64
LOAD_SECONDS = 10 * SCALE
SAMPLE_EVERY_S = 0.005


@contextmanager
def _statements(engine: Engine) -> Iterator[Counter]:
    """Count statements (by their first word) and the time each connection is held."""
    seen: Counter = Counter()
    out: dict[int, float] = {}

    def executing(conn, cursor, statement, *_):
        seen[statement.split(None, 1)[0].upper()] += 1
        conn.info["bench_started"] = time.perf_counter()

    def executed(conn, *_):
        seen["sql_s"] += time.perf_counter() - conn.info.pop("bench_started")

    def checkout(dbapi_conn, record, proxy):
        out[id(record)] = time.perf_counter()

    def checkin(dbapi_conn, record):
        started = out.pop(id(record), None)
        if started is not None:
            seen["held_s"] += time.perf_counter() - started

    event.listen(engine, "before_cursor_execute", executing)
    event.listen(engine, "after_cursor_execute", executed)
    event.listen(engine.pool, "checkout", checkout)
    event.listen(engine.pool, "checkin", checkin)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", executing)
        event.remove(engine, "after_cursor_execute", executed)
        event.remove(engine.pool, "checkout", checkout)
        event.remove(engine.pool, "checkin", checkin)


@contextmanager
def _timed_parts() -> Iterator[Counter]:
    spent: Counter = Counter()
    originals = {label: getattr(owner, name) for label, (owner, name) in PARTS.items()}

    def timed(label: str, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kw):
            started = time.perf_counter()
            try:
                return fn(*args, **kw)
            finally:
                spent[label] += time.perf_counter() - started

        return wrapper

    for label, (owner, name) in PARTS.items():
        setattr(owner, name, timed(label, originals[label]))
    try:
        yield spent
    finally:
        for label, (owner, name) in PARTS.items():
            setattr(owner, name, originals[label])


def _in_process(data: Path, url: str | None, db: str) -> list[Row]:
    prepare(data, url, midwives=1)
    inst = open_instance(Settings(data_dir=data, database_url=url))
    with session_scope(inst.engine) as s:
        token = issue_token(s, get_user(s, "load.midwife0"), "profile", actor="bench")
    people = women(701, SAVES + 1)
    times: list[float] = []
    with TestClient(create_app(inst, schedule=False)) as client:

        def save() -> None:
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
            started = time.perf_counter()
            response = client.post(
                "/api/v1/consents", json=consent_answers(next(people)), headers=headers
            )
            times.append(time.perf_counter() - started)
            response.raise_for_status()

        save()  # warm-up
        times.clear()
        with _statements(inst.engine) as seen, _timed_parts() as spent:
            for _ in range(SAVES):
                save()
    inst.engine.dispose()
    total = sum(times)
    held, in_sql = seen.pop("held_s"), seen.pop("sql_s")
    kinds = ", ".join(f"{kind} {n / SAVES:g}" for kind, n in seen.most_common())
    rows = [
        Row(f"{db}: one save, in process", "ms", median(times) * MS),
        Row(
            f"{db}: SQL statements per save ({kinds})",
            "statements",
            sum(seen.values()) / SAVES,
        ),
        Row(
            f"{db}: database connection held per save (ceiling on saves/s with one connection: "
            f"{SAVES / held:.0f})",
            "ms",
            held / SAVES * MS,
        ),
    ]
    rows.append(Row(f"{db}: inside SQL statements, share of the save", "%", 100 * in_sql / total))
    rows += [
        Row(f"{db}: {label}, share of the save", "%", 100 * spent[label] / total) for label in PARTS
    ]
    return rows


def _lock_waits(pg_url: str, data: Path) -> list[Row]:
    """Sample pg_stat_activity while 64 midwives save against two server processes."""
    team = prepare(data, pg_url, CONCURRENT_MIDWIVES)
    name = make_url(pg_url).database
    watcher = create_engine(pg_url)
    samples: Counter = Counter()
    done = threading.Event()

    def watch() -> None:
        with watcher.connect() as conn:
            while not done.is_set():
                for state, wait_type, wait in conn.execute(
                    text(
                        "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid() AND backend_type = "
                        "'client backend'"
                    ),
                    {"db": name},
                ):
                    samples["busy" if state == "active" else "idle"] += 1
                    if state == "active" and wait_type:
                        samples[f"{wait_type}:{wait}"] += 1
                conn.commit()
                time.sleep(SAMPLE_EVERY_S)

    with serve(data, pg_url, workers=2, timeout_s=START_S) as base:
        sampler = threading.Thread(target=watch)
        load: Load = Load()

        async def go() -> None:
            await drive(
                base,
                team,
                requests=100_000,
                seconds=LOAD_SECONDS,
                rota=("consent_api",),
                seed=703,
                load=load,
            )

        sampler.start()
        try:
            asyncio.run(go())
        finally:
            done.set()
            sampler.join()
    watcher.dispose()
    busy = samples.pop("busy", 0) or 1
    samples.pop("idle", None)
    rows = [
        Row(
            f"PostgreSQL, 2 workers, {CONCURRENT_MIDWIVES} midwives: acknowledged saves/s "
            "while sampled",
            "saves/s",
            load.per_second("consent_api"),
        )
    ]
    rows += [
        Row(f"PostgreSQL under that load: busy connections waiting on {what}", "%", 100 * n / busy)
        for what, n in samples.most_common(6)
    ]
    return rows


def _new_database(pg_url: str, name: str) -> str:
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(pg_url).set(database=name).render_as_string(hide_password=False)


def run(tmp: Path) -> list[Row]:
    rows = _in_process(tmp / "sqlite", None, "SQLite")
    with pg_database() as pg_url:
        rows += _in_process(tmp / "pg", _new_database(pg_url, "profile_saves"), "PostgreSQL")
        rows += _lock_waits(_new_database(pg_url, "profile_load"), tmp / "pg-load")
    return rows
