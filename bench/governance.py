"""The governance dashboard over 1,000,000 consent and decline records at 13 sites, against
a real ``cohort serve`` on SQLite and PostgreSQL: each page's server time (Server-Timing
header, median and p99) for the default twelve months and for the whole five years, with
the health check measured side by side as the framework's floor.

The records are bulk-loaded as the specs seed theirs (``cohort.governance.approach_records``:
executemany on SQLite, COPY on PostgreSQL), not captured:
760,000 enrolments, 40,000 later updates of consent (which must not count again) and
200,000 declines, spread evenly over five years."""

import random
import re
import secrets
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bench.harness import Row, median, p99, pg_database, scale, scaled
from cohort.auth.users import create_user
from cohort.config import Settings
from cohort.db import make_engine, session_scope
from cohort.governance import approach_records, rollup
from cohort.instance import initialise
from tests.live_server import serve

SITES = 13
MIDWIVES_PER_SITE = 10
SCALE = scale("governance")  # 1: 1,000,000 consent and decline records
ENROLMENTS = scaled(760_000, SCALE)
UPDATES = scaled(40_000, SCALE)
DECLINES = scaled(200_000, SCALE)
YEARS = 5
RUNS = 20  # per page and period: enough for the p99 to be more than the slowest of a few
PASSWORD = secrets.token_urlsafe(16)
PAGES = (
    "/governance",
    "/governance/breakdowns",
    "/governance/representativeness",
    "/governance/withdrawals",
    "/governance/access",
)
LANGUAGES = ("en",) * 12 + ("ur", "pa", "pl", "ro", "sk", "ar", "bn")
AGE_BANDS = ("16_19", "20_24", "25_29", "25_29", "30_34", "30_34", "35_39", "40_50")
ETHNICITIES = (
    *("white_british",) * 8,
    *("pakistani",) * 6,
    "indian",
    "bangladeshi",
    "african",
    "caribbean",
    "other_white",
    "roma",
    "arab",
    "other_mixed",
    None,
)
SERVER_TIMING = re.compile(r"app;dur=([0-9.]+)")


def _staff(engine: Engine) -> dict[int, list[int]]:
    """13 sites and their midwives (direct inserts: nobody signs in as them)."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for s in range(SITES):
            conn.execute(
                text("INSERT INTO site (code, name, created_at) VALUES (:c, :n, :t)"),
                {"c": f"S{s:02d}", "n": f"Site {s:02d}", "t": now},
            )
        sites = [row[0] for row in conn.execute(text("SELECT id FROM site ORDER BY id"))]
        for site in sites:
            conn.execute(
                text(
                    'INSERT INTO "user" (username, full_name, role, site_id, password_hash, '
                    "active, failed_logins, session_version, created_at) VALUES "
                    "(:u, :f, 'midwife', :s, 'x', true, 0, 1, :t)"
                ),
                [
                    {"u": f"mw{site}-{m}", "f": f"Midwife {site}-{m}", "s": site, "t": now}
                    for m in range(MIDWIVES_PER_SITE)
                ],
            )
        found = conn.execute(text("SELECT id, site_id FROM \"user\" WHERE role = 'midwife'"))
        staff: dict[int, list[int]] = {}
        for user_id, site_id in found:
            staff.setdefault(site_id, []).append(user_id)
    return staff


def _moments(rng: random.Random, n: int, end: datetime) -> list[datetime]:
    """``n`` times over the five years to ``end``, in order: rows arrive as time passes."""
    span = YEARS * 365 * 86400
    return sorted(end - timedelta(seconds=rng.randrange(span)) for _ in range(n))


def _recorded(rng: random.Random, staff: dict[int, list[int]], site: int, at: datetime) -> dict:
    """Who recorded her approach, when and what she said: ``approach_records``' fields."""
    return dict(
        site_id=site,
        recorded_by=rng.choice(staff[site]),
        when=at,
        language=rng.choice(LANGUAGES),
        age_band=rng.choice(AGE_BANDS),
        ethnicity=rng.choice(ETHNICITIES),
    )


def _records(staff: dict[int, list[int]], end: datetime):
    """(participants, consents, declines) as rows ``approach_records.write`` takes, each in
    the order it would have been recorded; deterministic."""
    rng = random.Random(6)  # noqa: S311  (synthetic records, reproducible)
    sites = list(staff)
    participants, consents = [], []
    for i, at in enumerate(_moments(rng, ENROLMENTS, end), start=1):
        site = rng.choice(sites)
        participants.append({"id": i, "study_id": f"BN{i:08d}", "site_id": site, "created_at": at})
        consents.append(approach_records.consent(i, **_recorded(rng, staff, site, at)))
    for _ in range(UPDATES):
        first = consents[rng.randrange(ENROLMENTS)]
        later = min(first["recorded_at"] + timedelta(days=rng.randrange(1, 200)), end)
        consents.append({**first, "recorded_at": later})
    consents.sort(key=lambda c: c["recorded_at"])
    declines = [
        approach_records.decline(**_recorded(rng, staff, rng.choice(sites), at))
        for at in _moments(rng, DECLINES, end)
    ]
    return participants, consents, declines


def _load(engine: Engine, participants, consents, declines) -> None:
    """One bulk transaction, then fresh planner statistics."""
    with engine.begin() as conn:
        for table, rows in (
            ("participant", participants),
            ("consent", consents),
            ("decline", declines),
        ):
            approach_records.write(conn, table, rows)
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
            return
        last = len(participants)
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence('participant', 'id'), :n)"), {"n": last}
        )
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")


def _prepare(data: Path, database_url: str | None) -> tuple[float, float]:
    """Initialise the instance, load the records and roll them up as ``cohort governance
    rollup`` does after an upgrade; rows loaded per second and the roll-up's seconds."""
    settings = Settings(data_dir=data, database_url=database_url)
    initialise(settings)
    engine = make_engine(settings.db_url)
    try:
        with session_scope(engine) as s:
            create_user(
                s,
                username="gov",
                full_name="Governance Lead",
                role="governance",
                password=PASSWORD,
                actor="bench",
            )
        staff = _staff(engine)
        records = _records(staff, datetime.now(UTC))
        start = time.perf_counter()
        _load(engine, *records)
        rate = sum(len(r) for r in records) / (time.perf_counter() - start)
        start = time.perf_counter()
        with session_scope(engine) as s:
            rollup.roll_up(s)
        rolled = time.perf_counter() - start
    finally:
        engine.dispose()
    return rate, rolled


def _server_ms(response: httpx.Response) -> float:
    response.raise_for_status()
    return float(SERVER_TIMING.search(response.headers["server-timing"]).group(1))


def _signed_in(client: httpx.Client) -> None:
    page = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = client.post("/login", data={"username": "gov", "password": PASSWORD, "csrf_token": csrf})
    if done.status_code != 303:
        raise RuntimeError(f"sign-in refused: {done.status_code}")


def _pages(url: str, name: str) -> list[Row]:
    today = date.today()
    periods = {
        "12 months": {},
        "5 years": {"from": (today - timedelta(days=YEARS * 365)).isoformat()},
    }
    rows = []
    with httpx.Client(base_url=url, timeout=120) as client:
        _signed_in(client)
        for label, params in periods.items():
            for path in PAGES:
                page, health = [], []
                _server_ms(client.get(path, params=params))  # warm-up
                for _ in range(RUNS):
                    page.append(_server_ms(client.get(path, params=params)))
                    health.append(_server_ms(client.get("/api/v1/health")))
                rows.append(
                    Row(
                        f"{name}: {path}, {label}, server time",
                        "ms",
                        median(page),
                        p99(page),
                        "health check",
                        median(page) / median(health),
                    )
                )
    return rows


def run(tmp: Path) -> list[Row]:
    rows: list[Row] = []
    total = ENROLMENTS + UPDATES + DECLINES
    with pg_database() as pg_url:
        for name, url in (("SQLite", None), ("PostgreSQL", pg_url)):
            data = tmp / name
            rate, rolled = _prepare(data, url)
            rows.append(
                Row(f"{name}: bulk load of {total:,} consent and decline rows", "rows/s", rate)
            )
            rows.append(Row(f"{name}: first roll-up of the {total:,} rows", "s", rolled))
            with serve(data, database_url=url) as base:
                rows += _pages(base, name)
    return rows
