"""The demo instance: a small BaBi-like network with one login per role and a few hundred
synthetic consents and declines, seeded once, then a synthetic file from every partner
source linked to it; re-running changes nothing."""

import json
import os
import random
import secrets
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import Session, select

from cohort import capture, consent, imd, synth
from cohort.auth.users import create_user
from cohort.db import session_scope
from cohort.errors import CohortError
from cohort.instance import Instance
from cohort.models import LinkageRun, Site, User
from cohort.research import projects
from cohort.research.catalogue import datasets
from cohort.sites import add_site
from forms import registry
from linkage_jobs import runner, synth_deliveries
from linkage_jobs.spec import load_specs

ACTOR = "demo-seed"
SEED = 2026
MOTHERS = 300
CONSENT_RATE = 0.8
SITES = (
    ("BRD", "Bradford Teaching Hospitals"),
    ("LDS", "Leeds Teaching Hospitals"),
    ("WAK", "Mid Yorkshire Teaching"),
    ("TWH", "Barts Health (Tower Hamlets)"),
)
# username, full name, role, site code (None: network-wide), project codes
LOGINS = (
    ("admin", "Demo Administrator", "admin", None, ()),
    ("datamanager", "Demo Data Manager", "data_manager", None, ()),
    ("governance", "Demo Governance Lead", "governance", None, ()),
    ("governance.brd", "Demo Bradford Governance Lead", "governance", "BRD", ()),
    ("researcher", "Demo Researcher", "researcher", None, ("DEMO-001",)),
    *(
        (f"midwife.{code.lower()}", f"Demo Midwife {code}", "midwife", code, ())
        for code, _ in SITES
    ),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    site: str | None
    password: str


def _logins_file(inst: Instance) -> Path:
    return inst.settings.data_dir / "demo-logins.json"


def _load_logins(path: Path) -> list[DemoLogin]:
    return [DemoLogin(**row) for row in json.loads(path.read_text())]


def _save_logins(path: Path, logins: list[DemoLogin]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump([asdict(x) for x in logins], f, indent=1)


def _demo_project(today: date) -> projects.Approval:
    """An approved, current project with row-level access to every dataset, so the demo
    researcher can pull an extract and ask questions at once."""
    return projects.Approval(
        code="DEMO-001",
        title="Demo: early-years outcomes",
        lead="Demo Researcher",
        approval_reference="DEMO-REC-0001",
        approved_from=today - timedelta(days=365),
        approved_until=today + timedelta(days=2 * 365),
        variables=tuple(datasets()),
        row_level=True,
    )


def _seed_people(session: Session, today: date) -> list[DemoLogin]:
    for code, name in SITES:
        add_site(session, code, name, actor=ACTOR)
    projects.register(session, _demo_project(today), actor=ACTOR)
    logins = []
    for username, full_name, role, site, project_codes in LOGINS:
        password = secrets.token_urlsafe(12)
        create_user(
            session,
            username=username,
            full_name=full_name,
            role=role,
            password=password,
            site_code=site,
            project_codes=project_codes,
            actor=ACTOR,
        )
        logins.append(DemoLogin(username, role, site, password))
    return logins


def _answers(
    mother: synth.SynthMother,
    ethnicities: dict[str, str],
    consents: bool,
    rng: random.Random,
    today: date,
) -> dict[str, object]:
    """What her midwife would enter on the consent form (ethnicities: label -> code)."""
    talk = {
        "discussion_language": mother.language,
        "interpreter_used": "1" if mother.interpreter_used else "0",
        "leaflet_given": "1",
        "leaflet_language": mother.language,
        "ethnicity": ethnicities[mother.ethnicity],
    }
    if not consents:
        return {**talk, "outcome": "0", "age_band": consent.age_band(mother.date_of_birth, today)}
    ticked = ["link_mother_health", "link_baby_health"]
    ticked += ["link_council"] if rng.random() < 0.9 else []
    ticked += ["contact"] if rng.random() < 0.75 else []
    return {
        **talk,
        "outcome": "1",
        "nhs_number": mother.nhs_number,
        "given_name": mother.given_name,
        "family_name": mother.family_name,
        "date_of_birth": mother.date_of_birth.isoformat(),
        "postcode": mother.postcode,
        "consent_items": ticked,
    }


def _load_imd_lookup(session: Session, inst: Instance) -> None:
    """The synthetic deprivation lookup, loaded as an operator loads the real one, before
    the consents, so each takes her postcode's decile at capture."""
    path = inst.settings.data_dir / "synthetic-imd.csv"
    with path.open("w", encoding="utf-8") as f:
        synth.write_imd_lookup(f)
    imd.load(session, path, actor=ACTOR)


def _seed_answers(session: Session, inst: Instance, today: date) -> None:
    """Through the same path as the consent form: instrument, validation, vault."""
    rng = random.Random(SEED)
    sites = {s.code: s for s in session.exec(select(Site)).all()}
    midwives = {u.site_id: u for u in session.exec(select(User).where(User.role == "midwife"))}
    spec = registry.current(session, capture.FORM)
    ethnicities = {choice.label: choice.code for choice in spec.field("ethnicity").choices}
    for number, mother in enumerate(synth.mothers(SEED, MOTHERS, today=today), start=1):
        site = sites[rng.choice(list(sites))]
        answers = _answers(mother, ethnicities, rng.random() < CONSENT_RATE, rng, today)
        capture.record_answers(
            session,
            inst.keys,
            spec,
            answers,
            user=midwives[site.id],
            token=f"demo-seed-{number:06d}",
            today=today,
        )


def link_deliveries(inst: Instance) -> list[LinkageRun]:
    """Synthetic partner files for every shipped source, from the seeded cohort, linked
    once, so the demo's runs page and research store show linked data."""
    specs = load_specs()
    synth_deliveries.deliver(inst, specs, seed=SEED)
    return [run for spec in specs.values() for run in runner.run_source(inst, spec, actor=ACTOR)]


def seed(inst: Instance, today: date | None = None, *, link: bool = True) -> list[DemoLogin]:
    """Seed the demo network once (one transaction) and return its logins; then, the first
    time only, deliver synthetic partner files and link them (``link``)."""
    path = _logins_file(inst)
    with session_scope(inst.engine) as session:
        if session.exec(select(Site)).first() is not None:
            if not path.exists():
                raise CohortError(
                    f"{path.name} is missing but the instance is seeded: run 'make clean' "
                    "to start the demo afresh"
                )
            return _load_logins(path)
        today = today or date.today()
        logins = _seed_people(session, today)
        _load_imd_lookup(session, inst)
        _seed_answers(session, inst, today)
        _save_logins(path, logins)  # before the commit: a seeded instance always has it
    if link:
        link_deliveries(inst)
    return logins
