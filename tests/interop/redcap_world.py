"""An initialised instance for the REDCap and FHIR specs: two sites, a midwife at each, a
data manager, a governance lead and a researcher, each with a REDCap-form API token, and
synthetic women who consented through the capture path."""

from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

from cohort import capture, synth
from cohort.auth import tokens, users
from cohort.db import make_engine, migrate, session_scope
from cohort.instance import Instance
from cohort.models import User
from forms import registry
from tests.conftest import _fresh_pg_url
from tests.web.conftest import PASSWORD, ensure_site, make_instance

SITE, OTHER_SITE = "RAE", "LDS"
ROLES = {
    "mw": ("midwife", SITE),
    "mw.lds": ("midwife", OTHER_SITE),
    "dm": ("data_manager", None),
    "gov": ("governance", None),
    "rs": ("researcher", None),
}
_tokens = count(1)


@dataclass
class RedcapWorld:
    instance: Instance
    data_dir: Path
    db_url: str
    tokens: dict[str, str] = field(default_factory=dict)  # username -> REDCap token
    study_ids: dict[str, list[str]] = field(default_factory=dict)  # site -> study IDs


def migrated_url(request, root: Path) -> str:
    """For a module-scoped fixture parametrised "sqlite" / "postgresql": a migrated, empty
    database (the ``db_url`` fixture, at module scope)."""
    if request.param == "postgresql":
        return _fresh_pg_url(request.getfixturevalue("pg_cluster"))
    db_url = f"sqlite:///{root / 'cohort.db'}"
    engine = make_engine(db_url)
    migrate(engine)
    engine.dispose()
    return db_url


def consent_answers(mother: synth.SynthMother, items: list[str] | None = None) -> dict:
    return {
        "discussion_language": mother.language,
        "interpreter_used": "1" if mother.interpreter_used else "0",
        "leaflet_given": "1",
        "leaflet_language": mother.language,
        "outcome": "1",
        "nhs_number": mother.nhs_number,
        "given_name": mother.given_name,
        "family_name": mother.family_name,
        "date_of_birth": mother.date_of_birth.isoformat(),
        "postcode": mother.postcode,
        "consent_items": items or ["link_mother_health", "link_baby_health", "contact"],
    }


ITEMS = ["link_mother_health", "link_baby_health", "link_council", "contact"]


def flat_row(answers: dict, record_id: str = "") -> dict[str, str]:
    """Answers as a REDCap flat record: a checkbox as one column per option."""
    flat = {k: v for k, v in answers.items() if k != "consent_items"}
    ticked = answers.get("consent_items", [])
    if "consent_items" in answers:
        flat |= {f"consent_items___{i}": "1" if i in ticked else "0" for i in ITEMS}
    return {"study_id": record_id, **flat}


def enrol(instance: Instance, user: User, mothers: list[synth.SynthMother]) -> list[str]:
    with session_scope(instance.engine) as db:
        spec = registry.current(db, capture.FORM)
        return [
            capture.record_answers(
                db,
                instance.keys,
                spec,
                consent_answers(mother),
                user=user,
                token=f"seed-token-{next(_tokens):08d}",
            ).result["study_id"]
            for mother in mothers
        ]


def make_redcap_world(data_dir: Path, db_url: str, at_site: int, elsewhere: int) -> RedcapWorld:
    instance = make_instance(data_dir, db_url)
    world = RedcapWorld(instance, data_dir, db_url)
    made = {}
    with session_scope(instance.engine) as db:
        ensure_site(db, SITE)
        ensure_site(db, OTHER_SITE, "Leeds General Infirmary")
        for username, (role, site) in ROLES.items():
            user = users.create_user(
                db,
                username=username,
                full_name=username.title(),
                role=role,
                password=PASSWORD,
                site_code=site,
                actor="test",
            )
            world.tokens[username] = tokens.issue_token(
                db, user, "REDCap client", actor="test", redcap=True
            )
            made[username] = user
    mothers = synth.mothers(seed=7, n=at_site + elsewhere)
    world.study_ids[SITE] = enrol(instance, made["mw"], mothers[:at_site])
    world.study_ids[OTHER_SITE] = enrol(instance, made["mw.lds"], mothers[at_site:])
    return world
