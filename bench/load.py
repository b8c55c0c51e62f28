"""Many midwives at once against a real ``cohort serve``: the load generator that the
reliability tests (tests/reliability/) and the load benchmark share.

Each simulated midwife signs in through the login page, keeps her own session cookie and
CSRF token, and works at her own site: she records consents (through the web form, as a
browser without JavaScript posts it, and through ``/api/v1/consents``), declines, and
withdrawals of women she enrolled earlier. Every request is written down with what it
sent (its idempotency key or submission token, the NHS number), its status, its latency
and whether the server acknowledged it, so a test can hold the database to account for
every acknowledgement afterwards.

The load is bounded in count and in time and targets loopback only; a server that stops
answering (killed in a crash test) makes requests fail fast, and they are recorded as
unacknowledged rather than raised."""

import asyncio
import contextlib
import itertools
import os
import re
import secrets
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx

from bench.harness import Row, median, p99, pg_database, scale, scaled
from cohort import synth
from cohort.auth.users import create_user
from cohort.config import Settings
from cohort.db import session_scope
from cohort.instance import initialise, open_instance
from cohort.sites import add_site
from tests.live_server import serve

SITE_CODES = ("BRD", "LDS", "WAK", "TWH")
CONSENT_ITEMS = ["link_mother_health", "link_baby_health", "link_council", "contact"]
WITHDRAWAL_LEVEL = "no_contact"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SUBMISSION = re.compile(r'name="submission_token" value="([^"]+)"')
# What each kind of request is, and the status that acknowledges it.
ACKNOWLEDGED = {
    "consent_form": 303,
    "consent_api": 201,
    "decline": 201,
    "withdrawal": 201,
    "health": 200,
}
# One midwife's round of work, repeated: mostly consents, as at a clinic.
ROUND = ("consent_api", "decline", "withdrawal", "consent_form", "consent_api")
HEALTH_ROUND = ("health",)
REFUSAL_CHARS = 600
PAUSE_AFTER_FAILURE_S = 0.05  # a dead server refuses at once: do not spin
# uvicorn closes a connection left idle for its timeout_keep_alive (5 s; cohort serve keeps
# the default), and httpx by default reuses one idle for up to 5 s too. A request sent on
# a connection idle for just under 5 s then met the server's close and got no answer (a
# reset, 30-45 ms in): one midwife of 64, idle while the others signed in one by one.
# Letting go of a connection well before the server would means no request is lost to
# that race, while nothing is re-sent, so every failure still counts.
KEEP_ALIVE_S = 1.0


@dataclass(frozen=True)
class Midwife:
    username: str
    site: str
    password: str


@dataclass
class Sent:
    """One request and what became of it."""

    kind: str
    midwife: str
    key: str  # the Idempotency-Key header or the form's submission token
    started: float  # perf_counter at send
    latency_s: float
    status: int | None  # None: no answer (connection refused or dropped)
    nhs_number: str | None = None
    study_id: str | None = None  # the consent's answer, or whom a withdrawal names
    decline_id: int | None = None
    refusal: str | None = None  # the start of the body of a 4xx or 5xx answer

    @property
    def acknowledged(self) -> bool:
        return self.status == ACKNOWLEDGED[self.kind]


@dataclass
class Load:
    sent: list[Sent] = field(default_factory=list)
    wall_s: float = 0.0
    stopping: bool = False  # set from another thread: each midwife stops after her request

    def acknowledged(self, *kinds: str) -> list[Sent]:
        return [s for s in self.sent if s.acknowledged and (not kinds or s.kind in kinds)]

    def server_errors(self) -> list[Sent]:
        return [s for s in self.sent if s.status is not None and s.status >= 500]

    def per_second(self, *kinds: str) -> float:
        return len(self.acknowledged(*kinds)) / self.wall_s if self.wall_s else 0.0

    def latencies_s(self, *kinds: str) -> list[float]:
        return [s.latency_s for s in self.acknowledged(*kinds)]


def prepare(data_dir: Path, database_url: str | None, midwives: int) -> list[Midwife]:
    """A new instance with four sites and ``midwives`` midwives spread across them."""
    settings = Settings(data_dir=data_dir, database_url=database_url)
    initialise(settings)
    inst = open_instance(settings)
    password = secrets.token_urlsafe(18)  # one for the whole team: a throwaway instance
    team = [
        Midwife(f"load.midwife{n}", SITE_CODES[n % len(SITE_CODES)], password)
        for n in range(midwives)
    ]
    try:
        with session_scope(inst.engine) as s:
            for code in SITE_CODES:
                add_site(s, code, f"Load test site {code}", actor="load")
            for m in team:
                create_user(
                    s,
                    username=m.username,
                    full_name=f"Load Midwife {m.username}",
                    role="midwife",
                    password=m.password,
                    site_code=m.site,
                    actor="load",
                )
    finally:
        inst.engine.dispose()
    return team


def consent_answers(m: synth.SynthMother) -> dict:
    return {
        "nhs_number": m.nhs_number,
        "given_name": m.given_name,
        "family_name": m.family_name,
        "date_of_birth": m.date_of_birth.isoformat(),
        "postcode": m.postcode,
        "discussion_language": m.language,
        "outcome": "1",
        "consent_items": CONSENT_ITEMS,
    }


def decline_answers(m: synth.SynthMother) -> dict:
    return {"discussion_language": m.language, "outcome": "0", "age_band": "25_29"}


def women(seed: int, n: int) -> Iterator[synth.SynthMother]:
    """Synthetic women, each NHS number once; seeds far from the demo's."""
    return synth.iter_mothers(seed, n, today=date.today())


async def sign_in(client: httpx.AsyncClient, midwife: Midwife) -> str:
    """Sign in through the login page; the session's CSRF token."""
    page = (await client.get("/login")).text
    signed_in = await client.post(
        "/login",
        data={
            "username": midwife.username,
            "password": midwife.password,
            "csrf_token": CSRF.search(page).group(1),
        },
    )
    if signed_in.status_code != 303:
        raise RuntimeError(f"sign-in of {midwife.username} refused: {signed_in.status_code}")
    return CSRF.search((await client.get("/")).text).group(1)


class Shift:
    """One midwife's session: her client, CSRF token, and the women she enrolled."""

    def __init__(self, client: httpx.AsyncClient, midwife: Midwife, csrf: str) -> None:
        self.client = client
        self.midwife = midwife
        self.csrf = csrf
        self.enrolled: list[str] = []

    async def _timed(self, sent: Sent, request) -> tuple[Sent, httpx.Response | None]:
        try:
            response = await request
        except httpx.TransportError:
            sent.latency_s = time.perf_counter() - sent.started
            await asyncio.sleep(PAUSE_AFTER_FAILURE_S)
            return sent, None
        sent.latency_s = time.perf_counter() - sent.started
        sent.status = response.status_code
        if response.status_code >= 400:
            sent.refusal = response.text[:REFUSAL_CHARS]
        return sent, response

    def _new(self, kind: str, key: str, **kw) -> Sent:
        return Sent(kind, self.midwife.username, key, time.perf_counter(), 0.0, None, **kw)

    def _api_headers(self, key: str) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf, "Idempotency-Key": key}

    async def consent_api(self, woman: synth.SynthMother) -> Sent:
        key = uuid.uuid4().hex
        sent, response = await self._timed(
            self._new("consent_api", key, nhs_number=woman.nhs_number),
            self.client.post(
                "/api/v1/consents", json=consent_answers(woman), headers=self._api_headers(key)
            ),
        )
        if sent.acknowledged:
            sent.study_id = response.json()["study_id"]
            self.enrolled.append(sent.study_id)
        return sent

    async def consent_form(self, woman: synth.SynthMother) -> Sent:
        """Open the form (its one-time submission token), then post it."""
        started = time.perf_counter()
        try:
            page = await self.client.get("/consents/new", follow_redirects=True)
        except httpx.TransportError:
            page = None
        if page is None or page.status_code != 200:
            sent = self._new("consent_form", "", nhs_number=woman.nhs_number)
            sent.started, sent.latency_s = started, time.perf_counter() - started
            sent.status = page.status_code if page is not None else None
            await asyncio.sleep(PAUSE_AFTER_FAILURE_S)
            return sent
        token = SUBMISSION.search(page.text).group(1)
        data = {
            **consent_answers(woman),
            "csrf_token": self.csrf,
            "submission_token": token,
            "action": "save",
        }
        sent, _ = await self._timed(
            self._new("consent_form", token, nhs_number=woman.nhs_number),
            self.client.post("/consents/new", data=data),
        )
        return sent

    async def decline(self, woman: synth.SynthMother) -> Sent:
        key = uuid.uuid4().hex
        sent, response = await self._timed(
            self._new("decline", key),
            self.client.post(
                "/api/v1/declines", json=decline_answers(woman), headers=self._api_headers(key)
            ),
        )
        if sent.acknowledged:
            sent.decline_id = response.json()["decline_id"]
        return sent

    async def withdrawal(self, woman: synth.SynthMother) -> Sent:
        """Withdraw the earliest woman she enrolled and has not withdrawn yet."""
        if not self.enrolled:
            return await self.consent_api(woman)
        study_id = self.enrolled.pop(0)
        key = uuid.uuid4().hex
        sent, _ = await self._timed(
            self._new("withdrawal", key, study_id=study_id),
            self.client.post(
                f"/api/v1/participants/{study_id}/withdrawals",
                json={"level": WITHDRAWAL_LEVEL},
                headers=self._api_headers(key),
            ),
        )
        return sent

    async def health(self, _: synth.SynthMother) -> Sent:
        sent, _ = await self._timed(self._new("health", ""), self.client.get("/api/v1/health"))
        return sent


@contextlib.asynccontextmanager
async def signed_in(base_url: str, midwives: Sequence[Midwife]) -> AsyncIterator[list[Shift]]:
    """Every midwife signed in, one client (cookie jar) each, for one or more loads."""
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=base_url,
                    timeout=60,
                    limits=httpx.Limits(keepalive_expiry=KEEP_ALIVE_S),
                )
            )
            for _ in midwives
        ]
        yield [
            Shift(client, m, await sign_in(client, m))
            for client, m in zip(clients, midwives, strict=True)
        ]


async def work(
    shifts: Sequence[Shift],
    *,
    requests: int,
    seconds: float,
    seed: int = 101,
    rota: Sequence[str] = ROUND,
    load: Load | None = None,
) -> Load:
    """Every midwife works through ``rota`` in turn until she has sent her share of
    ``requests`` or ``seconds`` have passed. Pass ``load`` to watch it fill while it runs."""
    load = load if load is not None else Load()
    people = women(seed, requests)  # shared: each woman is seen once
    share = requests // len(shifts)

    async def shift(day: Shift, deadline: float) -> None:
        for kind in itertools.islice(itertools.cycle(rota), share):
            if load.stopping or time.perf_counter() > deadline:
                return
            load.sent.append(await getattr(day, kind)(next(people)))

    start = time.perf_counter()
    await asyncio.gather(*(shift(day, start + seconds) for day in shifts))
    load.wall_s = time.perf_counter() - start
    return load


async def drive(base_url: str, midwives: Sequence[Midwife], **kw) -> Load:
    """Sign the midwives in (argon2: not part of the load), then ``work``."""
    async with signed_in(base_url, midwives) as shifts:
        return await work(shifts, **kw)


def run_load(base_url: str, midwives: Sequence[Midwife], **kw) -> Load:
    return asyncio.run(drive(base_url, midwives, **kw))


# The load benchmark (``python -m bench load``) --------------------------------------------

# A server start imports the whole app in each worker: on a busy 2-core machine that has
# taken longer than the live server's default minute.
START_S = 180
SCALE = scale("load")
BENCH_SECONDS = 10 * SCALE  # each measurement: a sustained burst, bounded in time and count
BENCH_REQUESTS = scaled(20_000, SCALE)
TEAMS = (16, 64)
WORKER_COUNTS = (1, 2)
SAVE = ("consent_api",)
MS = 1000


def _outcome(load: Load) -> str:
    """What the midwives were told, when not every request was acknowledged."""
    answers = Counter("no answer" if s.status is None else str(s.status) for s in load.sent)
    return "" if set(answers) <= {"200", "201"} else f"; answers: {dict(answers)}"


def _median_ms(samples: list[float]) -> float:
    return median(samples) * MS if samples else float("nan")


def _rows(name: str, saves: Load, health: Load) -> list[Row]:
    """A run where requests went unanswered is reported as such, not dropped."""
    health_rate = health.per_second("health") or float("nan")
    latencies, floor = saves.latencies_s(), health.latencies_s()
    return [
        Row(
            f"{name}: acknowledged consents per second ({len(saves.acknowledged())} in "
            f"{saves.wall_s:.0f} s{_outcome(saves)})",
            "saves/s",
            saves.per_second("consent_api"),
            None,
            "health check, same generator",
            saves.per_second("consent_api") / health_rate,
        ),
        Row(
            f"{name}: latency of a consent save, client side",
            "ms",
            _median_ms(latencies),
            p99(latencies) * MS if latencies else float("nan"),
            "health check, same generator",
            _median_ms(latencies) / _median_ms(floor),
        ),
    ]


async def _measure(url: str, team: list[Midwife], workers: int, db: str) -> list[Row]:
    rows = []
    async with signed_in(url, team) as shifts:
        # Each run its own women: an NHS number saved by an earlier run would be a 409.
        for n, seed in zip(TEAMS, itertools.count(500 + 10 * workers), strict=False):
            burst = {"requests": BENCH_REQUESTS, "seconds": BENCH_SECONDS}
            health = await work(shifts[:n], rota=HEALTH_ROUND, seed=seed, **burst)
            saves = await work(shifts[:n], rota=SAVE, seed=seed * 7919, **burst)
            name = f"{db}, {workers} worker{'s' * (workers > 1)}, {n} midwives"
            rows += _rows(name, saves, health)
    return rows


def run(tmp: Path) -> list[Row]:
    """Sign-ins are not timed; the machine's load average is reported, as it is shared."""
    rows = [Row("machine load average (1 min) at the start", "", os.getloadavg()[0])]
    with pg_database() as pg_url:
        for db, url in (("SQLite", None), ("PostgreSQL", pg_url)):
            data = tmp / db
            team = prepare(data, url, max(TEAMS))
            for workers in WORKER_COUNTS:
                with serve(data, url, workers=workers, timeout_s=START_S) as base:
                    rows += asyncio.run(_measure(base, team, workers, db))
    return [*rows, Row("machine load average (1 min) at the end", "", os.getloadavg()[0])]
