"""A small network for the consent specs: two sites, a midwife at each, a data manager and
a researcher, keys, and the shipped instrument published; answers as a midwife gives them."""

from dataclasses import dataclass
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from cohort import capture
from cohort.db import session_scope
from cohort.keys import KeyRing, init_keys, load_keys
from cohort.models import Site, User
from forms import registry
from forms.spec import FormSpec

NHS_NUMBER = "9434765919"
OTHER_NHS_NUMBER = "4857773456"
CONSENT = {
    "discussion_language": "ur",
    "interpreter_used": "1",
    "leaflet_given": "1",
    "leaflet_language": "ur",
    "outcome": "1",
    "nhs_number": "943 476 5919",
    "given_name": "Aisha",
    "family_name": "Khan",
    "date_of_birth": "1995-04-02",
    "postcode": "bd5 0na",
    "consent_items": ["link_mother_health", "link_baby_health", "contact"],
}
DECLINE = {
    "discussion_language": "pl",
    "interpreter_used": "0",
    "leaflet_given": "0",
    "outcome": "0",
    "age_band": "25_29",
    "ethnicity": "other_white",
}
_tokens = count(1)


@dataclass(frozen=True)
class World:
    engine: Engine
    keys: KeyRing
    spec: FormSpec
    site: Site
    other_site: Site
    midwife: User
    other_midwife: User
    data_manager: User
    researcher: User


def token() -> str:
    """A fresh submission token, as a form would carry."""
    return f"test-token-{next(_tokens):08d}"


def _user(session: Session, username: str, role: str, site: Site | None) -> User:
    user = User(
        username=username,
        full_name=username.title(),
        role=role,
        site_id=site.id if site else None,
        password_hash="not used",
    )
    session.add(user)
    session.flush()
    return user


def make_world(engine: Engine, key_dir: Path) -> World:
    init_keys(key_dir)
    with session_scope(engine) as s:
        registry.ensure_default(s)
        site, other = Site(code="BRD", name="Bradford"), Site(code="LDS", name="Leeds")
        s.add_all([site, other])
        s.flush()
        return World(
            engine=engine,
            keys=load_keys(key_dir),
            spec=registry.current(s, "babi_consent"),
            site=site,
            other_site=other,
            midwife=_user(s, "mw", "midwife", site),
            other_midwife=_user(s, "mw.lds", "midwife", other),
            data_manager=_user(s, "dm", "data_manager", None),
            researcher=_user(s, "rs", "researcher", None),
        )


def count_rows(engine: Engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


@pytest.fixture
def world(engine, tmp_path):
    return make_world(engine, tmp_path / "keys")


@pytest.fixture
def enrolled(world) -> str:
    """The study ID of a woman who has just consented through the capture path."""
    with session_scope(world.engine) as s:
        done = capture.record_answers(
            s, world.keys, world.spec, CONSENT, user=world.midwife, token=token()
        )
    return done.result["study_id"]
