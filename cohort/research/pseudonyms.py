"""Project pseudonyms: a keyed hash of the study ID under a key of the project's own, so
the same participant is a different person in every project's extracts and two projects
cannot join theirs. Project keys are derived from the extract pseudonym key each time
(HMAC, a one-way step), never stored."""

import hashlib
import hmac

PREFIX = "P"
LENGTH = 20  # hex digits: 80 bits, no collision in any cohort's lifetime


def project_key(pseudonym_key: bytes, project_code: str) -> bytes:
    return hmac.new(pseudonym_key, f"project|{project_code}".encode(), hashlib.sha256).digest()


def pseudonym(key: bytes, study_id: str) -> str:
    return PREFIX + hmac.new(key, study_id.encode(), hashlib.sha256).hexdigest()[:LENGTH]
