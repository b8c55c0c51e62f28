"""argon2id hashing, the length rule, and rehashing when parameters change."""

import pytest
from argon2 import PasswordHasher

from cohort.auth import passwords
from cohort.errors import CohortError


def test_hash_is_argon2id_and_verifies_only_the_right_password():
    stored = passwords.hash_password("a long enough password")
    assert stored.startswith("$argon2id$")
    assert passwords.verify(stored, "a long enough password")
    assert not passwords.verify(stored, "a long enough passwore")


def test_a_malformed_stored_hash_never_verifies():
    assert not passwords.verify("not-a-hash", "a long enough password")


@pytest.mark.parametrize(
    ("password", "ok"),
    [("", False), ("elevenchars", False), ("twelve chars", True), ("x" * 257, False)],
)
def test_length_rule(password, ok):
    if ok:
        passwords.check_strength(password)
    else:
        with pytest.raises(CohortError) as exc:
            passwords.check_strength(password)
        assert exc.value.field == "password"


def test_hash_made_with_other_parameters_needs_rehash():
    old = PasswordHasher(time_cost=1, memory_cost=8192).hash("a long enough password")
    assert passwords.needs_rehash(old)
    assert not passwords.needs_rehash(passwords.hash_password("a long enough password"))
