"""The cohort side of a linkage: the identities of the participants whose consent covers a
source now, decrypted from the vault in memory only, in the canonical columns.

Which consent item covers a source: ``linkage_jobs.coverage``.

Children are not in the vault: a child source links through the mother's NHS number
(``mother_nhs_number`` on the child's row) and the mother's other identifiers, so the
cohort frame is the consenting mothers for child sources too. The frame lives only inside
the job; nothing derived from it but study IDs leaves.
"""

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cohort import vault
from cohort.keys import KeyRing
from cohort.models import Identity, Participant
from cohort.research.consented import members
from linkage_jobs.coverage import covering_item
from linkage_jobs.spec import IDENTIFIER_FIELDS, SourceSpec

MOTHERS_SEX = "F"  # the vault keeps no sex: every participant is a mother


@dataclass(frozen=True)
class Cohort:
    frame: pd.DataFrame  # study_id + canonical identifier fields
    participant_ids: dict[str, int]  # study_id -> participant row id


def _all_participants(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return dict(session.exec(select(Participant.study_id, Participant.id)).all())


def consented(engine: Engine, item: str, among: dict[str, int] | None = None) -> dict[str, int]:
    """study_id -> participant id of those (``among``, default everyone) whose current
    consent, withdrawals applied, gives ``item`` now: the consent zone's one bulk pass
    (``cohort.research.consented.members``), which reads consents and withdrawals once and
    is kept until any of them changes, instead of asking participant by participant."""
    with Session(engine) as session:
        everyone = members(session)
    allowed = {m.study_id: m.participant_id for m in everyone if m.current_items().get(item)}
    if among is None:
        return allowed
    return {sid: pid for sid, pid in among.items() if allowed.get(sid) == pid}


def _row(keys: KeyRing, study_id: str, identity: Identity) -> dict[str, str | None]:
    pid = identity.participant_id
    plain = {
        name: None
        if getattr(identity, name) is None
        else vault.decrypt(keys, pid, name, getattr(identity, name))
        for name in vault.FIELDS
    }
    return {"study_id": study_id, **plain, "sex": MOTHERS_SEX, "mother_nhs_number": None}


def identities(engine: Engine, keys: KeyRing, participants: dict[str, int]) -> Cohort:
    """These participants' identities (study_id -> participant id), decrypted in memory."""
    by_pid = {pid: sid for sid, pid in participants.items()}
    with Session(engine) as session:
        sealed = session.exec(select(Identity)).all()
    rows = [
        _row(keys, by_pid[identity.participant_id], identity)
        for identity in sealed
        if identity.participant_id in by_pid
    ]
    frame = pd.DataFrame(rows, columns=["study_id", *IDENTIFIER_FIELDS], dtype=object)
    return Cohort(frame, {sid: participants[sid] for sid in frame["study_id"]})


def load_cohort(engine: Engine, keys: KeyRing, spec: SourceSpec) -> Cohort:
    """The identities of the participants whose consent covers ``spec`` now."""
    return identities(engine, keys, consented(engine, covering_item(spec)))


def everyone(engine: Engine, keys: KeyRing) -> Cohort:
    """Every participant's identity, whatever her consent: synthetic partner files only."""
    return identities(engine, keys, _all_participants(engine))
