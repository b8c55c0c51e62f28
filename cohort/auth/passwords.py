"""Password hashing with argon2id.

The hasher's parameters live here only; a stored hash made with other parameters is
replaced at its owner's next sign-in (see ``needs_rehash``).
"""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cohort.errors import CohortError

MIN_LENGTH = 12
MAX_LENGTH = 256  # hashing a megabyte-long "password" is a denial of service

_hasher = PasswordHasher()


def check_strength(password: str, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise CohortError(
            f"the password must be at least {MIN_LENGTH} characters long; "
            "a few unrelated words make a strong one",
            field=field,
        )
    if len(password) > MAX_LENGTH:
        raise CohortError(f"the password must be at most {MAX_LENGTH} characters", field=field)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password[:MAX_LENGTH])
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("no user has this password; it only spends time")


def spend_verify_time(password: str) -> None:
    """Verify against a dummy hash so an unknown username costs what a known one does."""
    verify(_dummy_hash(), password)
