"""Children's study IDs: a child met in a child source gets a study ID of its own, tied to
its mother's participant row, and keeps it across sources and deliveries.

A child is recognised by the blind index of its NHS number (the vault's construction,
under the lookup key) or, on a row without a usable one, by its birth key: a keyed hash of
its mother, birthday and sex (the first ``GROUP_HEX`` characters), then a keyed hash of its
first given name (the rest; ``NO_NAME`` when the row has none or a placeholder such as
BABY). A child first met without its number and later with it keeps the same study ID:
the number is added to the row found by the birth key, and so is a name met later.

Same-sex twins without NHS numbers are told apart by their given names; birth order and
time of birth are no canonical field (only birth notifications send an order, as payload,
and they carry NHS numbers). Among the children of one mother, birthday and sex, a row:

| the row            | is the child who                                              |
|--------------------|---------------------------------------------------------------|
| has a given name   | has that name; else the one child met without a name; else new |
| has no given name  | was met first (twins told apart only by name stay ambiguous) |

A child with a known NHS number other than the row's is never a candidate, and a row
carrying the number of another mother's child is taken as a row without a number.
"""

import hashlib
import hmac

from sqlmodel import Session, select

from cohort import study_id
from cohort.keys import KeyRing
from cohort.models import ChildParticipant, Participant
from cohort.vault import blind_index

GROUP_HEX = 32
NO_NAME = "0" * 32
PLACEHOLDER_NAMES = frozenset({"BABY", "BOY", "GIRL", "INFANT", "TWIN", "UNKNOWN", "UNNAMED"})


def _keyed(keys: KeyRing, message: str) -> str:
    return hmac.new(keys.lookup, message.encode(), hashlib.sha256).hexdigest()


def first_name(given_name: str | None) -> str | None:
    """The first word of a standardised given name, unless it is a placeholder."""
    words = given_name.split() if isinstance(given_name, str) else []
    return words[0] if words and words[0] not in PLACEHOLDER_NAMES else None


def child_keys(
    keys: KeyRing,
    mother_id: int,
    nhs_number: str | None,
    date_of_birth: str | None,
    sex: str | None,
    given_name: str | None = None,
) -> tuple[str | None, str]:
    """(blind index of the child's NHS number or None, birth key)."""
    nhs_index = blind_index(keys, nhs_number) if nhs_number else None
    born = f"{mother_id}|{date_of_birth or ''}|{sex or ''}"
    name = first_name(given_name)
    named = NO_NAME if name is None else _keyed(keys, f"child-name|{born}|{name}")
    return nhs_index, _keyed(keys, f"child|{born}")[:GROUP_HEX] + named[: 64 - GROUP_HEX]


def _is_named(birth_key: str) -> bool:
    return birth_key[GROUP_HEX:] != NO_NAME


def _new_study_id(session: Session) -> str:
    """A study ID held by no mother and no child."""
    while True:
        candidate = study_id.allocate(session)
        held = session.exec(
            select(ChildParticipant.id).where(ChildParticipant.study_id == candidate)
        ).first()
        if held is None:
            return candidate


def _the_same_child(candidates: list[ChildParticipant], birth_key: str) -> ChildParticipant | None:
    """The row's child among its mother's children of its birthday and sex (the table)."""
    if not _is_named(birth_key):
        return candidates[0] if candidates else None
    named = [c for c in candidates if c.birth_key == birth_key]
    unnamed = [c for c in candidates if not _is_named(c.birth_key)]
    return named[0] if named else unnamed[0] if len(unnamed) == 1 else None


def _learn(
    session: Session, child: ChildParticipant, nhs_index: str | None, birth_key: str
) -> None:
    """What the row tells about a child met before: its number, its name."""
    if child.nhs_index is None and nhs_index is not None:
        child.nhs_index = nhs_index
    if not _is_named(child.birth_key) and _is_named(birth_key):
        child.birth_key = birth_key
    session.add(child)


def resolve(session: Session, mother_id: int, nhs_index: str | None, birth_key: str) -> str:
    """The child's study ID, allocated the first time it is met."""
    known = None
    if nhs_index is not None:
        known = session.exec(
            select(ChildParticipant).where(ChildParticipant.nhs_index == nhs_index)
        ).first()
        if known is not None and known.mother_id != mother_id:  # another mother's child's
            known = nhs_index = None
    if known is None:
        siblings = session.exec(
            select(ChildParticipant)
            .where(
                ChildParticipant.mother_id == mother_id,
                ChildParticipant.birth_key.startswith(birth_key[:GROUP_HEX]),  # type: ignore[attr-defined]
            )
            .order_by(ChildParticipant.id)
        ).all()
        candidates = [c for c in siblings if c.nhs_index is None or nhs_index is None]
        known = _the_same_child(candidates, birth_key)
    if known is not None:
        _learn(session, known, nhs_index, birth_key)
        return known.study_id
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
