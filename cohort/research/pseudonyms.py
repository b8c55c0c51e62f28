"""Project pseudonyms: a keyed hash of the study ID under a key of the project's own, so
the same participant is a different person in every project's extracts and two projects
cannot join theirs. Project keys are derived from the extract pseudonym key each time
(HMAC, a one-way step), never stored.

The hash is HMAC-SHA256 (RFC 2104), written twice: ``pseudonym`` in Python, the
reference, and ``sql`` as a DuckDB expression over a whole column at once, for extracts
of a hundred thousand people; the tests hold the two to the same answers.
"""

import hashlib
import hmac

PREFIX = "P"
LENGTH = 20  # hex digits: 80 bits, no collision in any cohort's lifetime
BLOCK = 64  # SHA-256's block size: the HMAC pads
INNER, OUTER = "pseudonym_inner", "pseudonym_outer"


def project_key(pseudonym_key: bytes, project_code: str) -> bytes:
    return hmac.new(pseudonym_key, f"project|{project_code}".encode(), hashlib.sha256).digest()


def pseudonym(key: bytes, study_id: str) -> str:
    return PREFIX + hmac.new(key, study_id.encode(), hashlib.sha256).hexdigest()[:LENGTH]


def pads(key: bytes) -> dict[str, bytes]:
    """The HMAC's inner and outer padded keys, as ``sql`` reads them (DuckDB variables)."""
    padded = key.ljust(BLOCK, b"\0")
    return {
        INNER: bytes(b ^ 0x36 for b in padded),
        OUTER: bytes(b ^ 0x5C for b in padded),
    }


def sql(column: str) -> str:
    """``pseudonym`` of a VARCHAR column, once ``pads`` are set as DuckDB variables."""
    inner = f"unhex(sha256(getvariable('{INNER}') || encode({column})))"
    return f"'{PREFIX}' || left(sha256(getvariable('{OUTER}') || {inner}), {LENGTH})"
