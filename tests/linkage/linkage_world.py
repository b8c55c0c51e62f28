"""An initialised instance with a consented cohort enrolled through the consent form's own
path, and helpers to deliver partner files to it and read what linkage made of them."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import count
from pathlib import Path

import pandas as pd
from sqlmodel import Session, select

from cohort import capture, synth
from cohort.config import Settings
from cohort.consent_items import CONSENT_ITEMS
from cohort.db import session_scope
from cohort.instance import Instance, initialise, open_instance
from cohort.models import ChildParticipant, Participant, Site, User
from cohort.withdrawal import record_withdrawal
from forms import registry
from linkage_jobs import ground_truth, runner, store
from linkage_jobs.partner_files import write_partner_file
from linkage_jobs.runner import Places, record_keys
from linkage_jobs.spec import SourceSpec, load_specs
from linkage_jobs.synth_partners import partner_records
from linkage_jobs.withdrawals import purge_if_withdrawn
from tests.consent_world import CONSENT

TODAY = date(2026, 11, 22)
MOTHERS = 120
SEED = 7
_tokens = count(1)


@dataclass
class LinkageWorld:
    instance: Instance
    midwife: User
    specs: dict[str, SourceSpec]
    mothers: dict[str, synth.SynthMother]  # study_id -> who she is

    @property
    def store_path(self) -> Path:
        return self.instance.settings.research_store_path

    def places(self, source: str) -> Places:
        return Places.of(self.instance.settings, self.specs[source])

    def enrol(self, mother: synth.SynthMother, items=CONSENT_ITEMS) -> str:
        answers = {
            **CONSENT,
            "nhs_number": mother.nhs_number,
            "given_name": mother.given_name,
            "family_name": mother.family_name,
            "date_of_birth": mother.date_of_birth.isoformat(),
            "postcode": mother.postcode,
            "consent_items": list(items),
        }
        with session_scope(self.instance.engine) as s:
            form = registry.current(s, capture.FORM)
            done = capture.record_answers(
                s,
                self.instance.keys,
                form,
                answers,
                user=self.midwife,
                token=f"linkage-{next(_tokens):08d}",
                today=TODAY,
            )
        study_id = done.result["study_id"]
        self.mothers[study_id] = mother
        return study_id

    def withdraw(self, study_id: str, level: str) -> None:
        """As the withdrawal page does: record it, then purge if it does not keep data."""
        with session_scope(self.instance.engine) as s:
            manager = s.exec(select(User).where(User.username == "dm")).first()
            if manager is None:
                manager = User(
                    username="dm", full_name="Dm", role="data_manager", password_hash="x"
                )
                s.add(manager)
                s.flush()
            record_withdrawal(
                s,
                study_id=study_id,
                level_code=level,
                user=manager,
                token=f"withdraw-{study_id}-{level}",
            )
            purge_if_withdrawn(s, self.store_path, study_id, actor="dm")

    def cohort(self, study_ids=None) -> pd.DataFrame:
        """Canonical identities of these mothers (default all), as partners would hold them."""
        ids = list(study_ids or self.mothers)
        return pd.DataFrame(
            {
                "study_id": ids,
                "nhs_number": [self.mothers[i].nhs_number for i in ids],
                "given_name": [self.mothers[i].given_name for i in ids],
                "family_name": [self.mothers[i].family_name for i in ids],
                "date_of_birth": [self.mothers[i].date_of_birth.isoformat() for i in ids],
                "sex": "F",
                "postcode": [self.mothers[i].postcode for i in ids],
                "address": [self.mothers[i].address for i in ids],
                "mother_nhs_number": None,
            }
        )

    def deliver(
        self,
        source: str,
        *,
        rows: int = 150,
        seed: int = SEED,
        name: str | None = None,
        study_ids=None,
        member_share: float = 0.6,
    ) -> tuple[Path, pd.DataFrame]:
        """A synthetic partner file in the source's inbox, and its truth. Record ids carry
        the seed, so files of different seeds are different records."""
        spec = self.specs[source]
        records, truth = partner_records(
            self.cohort(study_ids),
            rows=rows,
            member_share=member_share,
            seed=seed,
            subject=spec.subject,
        )
        records["record_id"] = f"{seed}-" + records["record_id"]
        truth["record_id"] = f"{seed}-" + truth["record_id"]
        path = self.places(source).inbox / (name or f"{source}_{seed}.{spec.format}")
        write_partner_file(spec, records, path, seed)
        ground_truth.write(self.instance.settings, source, runner.sha256_of(path), truth)
        return path, truth

    def linked(self, source: str) -> pd.DataFrame:
        if f"main.{source}" not in store.table_names(self.store_path):
            return pd.DataFrame(columns=["study_id", "record_key"])
        return store.read_table(self.store_path, source)

    def mother_of(self) -> dict[str, str]:
        """Every study ID (mothers' and children's) -> the mother's study ID."""
        with Session(self.instance.engine) as s:
            mothers = dict(s.exec(select(Participant.id, Participant.study_id)).all())
            kids = s.exec(select(ChildParticipant.study_id, ChildParticipant.mother_id)).all()
        return {**{sid: sid for sid in mothers.values()}, **{c: mothers[m] for c, m in kids}}

    def truth_keys(self, source: str, truth: pd.DataFrame) -> pd.DataFrame:
        keys = record_keys(self.instance.keys.lookup, self.specs[source], truth["record_id"])
        return truth.assign(record_key=keys.to_numpy())


def make_world(db_url: str, data_dir: Path, mothers: int = MOTHERS) -> LinkageWorld:
    settings = Settings(data_dir=data_dir, database_url=db_url)
    initialise(settings)
    instance = open_instance(settings)
    with session_scope(instance.engine) as s:
        site = Site(code="BRD", name="Bradford")
        s.add(site)
        s.flush()
        midwife = User(
            username="mw", full_name="Mw", role="midwife", site_id=site.id, password_hash="x"
        )
        s.add(midwife)
        s.flush()
    world = LinkageWorld(instance, midwife, load_specs(), {})
    for mother in synth.mothers(SEED, mothers, today=TODAY):
        world.enrol(mother)
    return world


def world_fixture(db_url: str, tmp_path: Path, mothers: int = MOTHERS) -> Iterator[LinkageWorld]:
    """The body of a test module's fixture: a fresh world, its engine disposed after."""
    world = make_world(db_url, tmp_path / "var", mothers)
    yield world
    world.instance.engine.dispose()
