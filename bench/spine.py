"""Platform spine: enrolling into the identity vault, finding a participant by NHS number,
and verifying the audit chain, on SQLite and PostgreSQL (both durable: fsync on).

Baselines run in the same process, side by side: enrolment against the same transaction
without the vault (participant row + audit event only); NHS-number lookup through the
blind index against a lookup by study ID (a plain indexed column)."""

import itertools
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bench.harness import Row, backends, median, p99, scale, scaled, timed
from cohort import audit, study_id, synth, vault
from cohort.db import session_scope
from cohort.keys import KeyRing, init_keys, load_keys
from cohort.models import Participant, Site

SCALE = scale("spine")
ENROL_RUNS = scaled(200, SCALE)
LOOKUP_POPULATION = scaled(10_000, SCALE)
LOOKUP_RUNS = min(scaled(500, SCALE), LOOKUP_POPULATION)


def _identity(m: synth.SynthMother) -> vault.IdentityFields:
    return vault.IdentityFields(
        nhs_number=m.nhs_number,
        given_name=m.given_name,
        family_name=m.family_name,
        date_of_birth=m.date_of_birth,
        postcode=m.postcode,
        address=m.address,
    )


def _site(engine: Engine) -> int:
    with session_scope(engine) as s:
        site = Site(code="BEN", name="Bench")
        s.add(site)
        s.flush()
        return site.id


def _populate(engine: Engine, keys: KeyRing, site_id: int, people: list) -> None:
    for start in range(0, len(people), 500):
        batch = people[start : start + 500]
        with session_scope(engine) as s:
            for m in batch:
                vault.enrol(s, keys, site_id, _identity(m), actor="bench")


def _bench_backend(name: str, engine: Engine, keys: KeyRing) -> list[Row]:
    site_id = _site(engine)
    people = iter(synth.mothers(7, ENROL_RUNS + 1 + LOOKUP_POPULATION))

    def enrol_one() -> None:
        with session_scope(engine) as s:
            vault.enrol(s, keys, site_id, _identity(next(people)), actor="bench")

    def bare_one() -> None:
        with session_scope(engine) as s:
            p = Participant(study_id=study_id.allocate(s), site_id=site_id)
            s.add(p)
            s.flush()
            audit.record(s, actor="bench", action="participant.enrol", participant=p.study_id)

    enrol, bare = [], []
    for _ in range(ENROL_RUNS):  # interleaved, so drift hits both alike
        enrol += timed(enrol_one, 1)
        bare += timed(bare_one, 1)

    population = list(itertools.islice(people, LOOKUP_POPULATION))
    _populate(engine, keys, site_id, population)
    probes = itertools.cycle(population[:: LOOKUP_POPULATION // LOOKUP_RUNS])
    with Session(engine) as s:
        study_ids = itertools.cycle(s.exec(select(Participant.study_id).limit(LOOKUP_RUNS)).all())

        def by_nhs() -> None:
            assert vault.find_participant(s, keys, next(probes).nhs_number) is not None

        def by_study_id() -> None:
            sid = next(study_ids)
            assert s.exec(select(Participant).where(Participant.study_id == sid)).first()

        nhs, sid = [], []
        for _ in range(LOOKUP_RUNS):
            nhs += timed(by_nhs, 1)
            sid += timed(by_study_id, 1)
        events = s.exec(text("SELECT count(*) FROM auditevent")).one()[0]
        verify = timed(lambda: audit.verify(s), 3)

    ms = 1000
    return [
        Row(
            f"{name}: enrol (vault + audit), one transaction each",
            "ms",
            median(enrol) * ms,
            p99(enrol) * ms,
            "participant row + audit, no vault",
            median(enrol) / median(bare),
        ),
        Row(
            f"{name}: find by NHS number (blind index), {LOOKUP_POPULATION:,} enrolled",
            "ms",
            median(nhs) * ms,
            p99(nhs) * ms,
            "find by study ID",
            median(nhs) / median(sid),
        ),
        Row(f"{name}: audit verify, {events:,} events", "events/s", events / median(verify)),
    ]


def run(tmp: Path) -> list[Row]:
    init_keys(tmp / "keys")
    keys = load_keys(tmp / "keys")
    rows: list[Row] = []
    with backends(tmp) as engines:
        for name, engine in engines.items():
            rows += _bench_backend(name, engine, keys)
    return rows
