"""Study IDs: random, never derived from identifiers, easy to read aloud and type.

Format ``BB-7K3M-9QXD``: a prefix and eight characters from Crockford's base32 alphabet
(no I, L, O or U, so nothing looks like 1, 0 or a word). The first seven are random
(32**7, about 34 billion IDs); the eighth is a check character.

Check character: the eight values c1..c8 satisfy ``sum(a**(8-i) * ci) == 0`` in GF(32),
where ``a`` is a generator of the field. Every weight is distinct and non-zero, so one
wrong character, or two neighbouring characters swapped (even across the dash), always
breaks the sum: a typo can never land on another valid ID.
"""

import re
import secrets
from collections.abc import Callable

from sqlmodel import Session, select

from cohort.models import Participant

PREFIX = "BB"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_CHARS = 7
GROUP = 4
GF32_MODULUS = 0b100101  # x^5 + x^2 + 1, primitive: x generates all 31 non-zero elements
GENERATOR = 0b00010  # x
MAX_ATTEMPTS = 10

PATTERN = re.compile(rf"{PREFIX}-[{ALPHABET}]{{{GROUP}}}-[{ALPHABET}]{{{GROUP}}}")


def _gf_mul(a: int, b: int) -> int:
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0b100000:
            a ^= GF32_MODULUS
    return product


def _weighted_sum(values: list[int]) -> int:
    """Horner's rule: ``sum(a**(n-1-i) * v[i])`` for the n values, in GF(32)."""
    total = 0
    for v in values:
        total = _gf_mul(total, GENERATOR) ^ v
    return total


def _check_character(body: str) -> str:
    """The character that makes the eight-character code's weighted sum zero."""
    return ALPHABET[_gf_mul(_weighted_sum([ALPHABET.index(ch) for ch in body]), GENERATOR)]


def _format(code: str) -> str:
    return f"{PREFIX}-{code[:GROUP]}-{code[GROUP:]}"


def new_study_id() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))
    return _format(body + _check_character(body))


def is_valid_study_id(s: str) -> bool:
    if not PATTERN.fullmatch(s):
        return False
    code = s[len(PREFIX) + 1 :].replace("-", "")
    return _weighted_sum([ALPHABET.index(ch) for ch in code]) == 0


def allocate(session: Session, generate: Callable[[], str] = new_study_id) -> str:
    """A fresh study ID not yet held by any participant (the unique index backs this up)."""
    for _ in range(MAX_ATTEMPTS):
        candidate = generate()
        taken = session.exec(
            select(Participant.id).where(Participant.study_id == candidate)
        ).first()
        if taken is None:
            return candidate
    raise RuntimeError(f"no free study ID after {MAX_ATTEMPTS} attempts")
