"""Children's study IDs: a child met in a child source gets a study ID of its own, tied to
its mother's participant row, and keeps it across sources and deliveries.

A child is recognised by the blind index of its NHS number (the vault's construction,
under the lookup key) or, on a row without a usable one, by a keyed hash of its mother,
birthday and sex. A child first met without its number and later with it keeps the same
study ID: the number is added to the row found by the birth key. Twins of the same sex
delivered without NHS numbers cannot be told apart and share one ID until their numbers
arrive; that is the price of never storing a child's identifiers.
"""

import hashlib
import hmac

from sqlmodel import Session, select

from cohort import study_id
from cohort.keys import KeyRing
from cohort.models import ChildParticipant, Participant
from cohort.vault import blind_index


def child_keys(
    keys: KeyRing,
    mother_id: int,
    nhs_number: str | None,
    date_of_birth: str | None,
    sex: str | None,
) -> tuple[str | None, str]:
    """(blind index of the child's NHS number or None, birth key)."""
    nhs_index = blind_index(keys, nhs_number) if nhs_number else None
    message = f"child|{mother_id}|{date_of_birth or ''}|{sex or ''}".encode()
    return nhs_index, hmac.new(keys.lookup, message, hashlib.sha256).hexdigest()


def _new_study_id(session: Session) -> str:
    """A study ID held by no mother and no child."""
    while True:
        candidate = study_id.allocate(session)
        held = session.exec(
            select(ChildParticipant.id).where(ChildParticipant.study_id == candidate)
        ).first()
        if held is None:
            return candidate


def resolve(session: Session, mother_id: int, nhs_index: str | None, birth_key: str) -> str:
    """The child's study ID, allocated the first time it is met."""
    if nhs_index is not None:
        known = session.exec(
            select(ChildParticipant).where(ChildParticipant.nhs_index == nhs_index)
        ).first()
        if known is not None:
            return known.study_id
    by_birth = session.exec(
        select(ChildParticipant).where(
            ChildParticipant.mother_id == mother_id, ChildParticipant.birth_key == birth_key
        )
    ).all()
    for child in by_birth:
        if child.nhs_index is None or nhs_index is None:
            if child.nhs_index is None and nhs_index is not None:
                child.nhs_index = nhs_index
                session.add(child)
            return child.study_id
    child = ChildParticipant(
        study_id=_new_study_id(session),
        mother_id=mother_id,
        nhs_index=nhs_index,
        birth_key=birth_key,
    )
    session.add(child)
    session.flush()
    return child.study_id


def family_study_ids(session: Session, mother_id: int) -> list[str]:
    """The mother's study ID and her children's: everything a full withdrawal purges."""
    mother = session.get(Participant, mother_id)
    children = session.exec(
        select(ChildParticipant.study_id).where(ChildParticipant.mother_id == mother_id)
    ).all()
    return [mother.study_id, *children] if mother else list(children)
