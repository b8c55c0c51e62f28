"""The identity zone: identifiers stored only as AES-256-GCM ciphertexts.

Each value becomes ``v1.<key id>.<base64 nonce+ciphertext>``. The associated data binds
it to its participant and field, so a ciphertext copied to another row or column fails
its integrity check instead of decrypting as someone else's identity. Participants are
found by NHS number through a blind index (HMAC-SHA256 under the separate lookup key),
never by decrypting the table. Only the consent service and the linkage standardiser may
import this module.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cohort import audit, nhs_number, study_id
from cohort.db import id_chunks
from cohort.errors import CohortError, Conflict, NotFound
from cohort.keys import KeyRing
from cohort.models import Identity, Participant

VERSION = "v1"
NONCE_BYTES = 12
REQUIRED_FIELDS = ("nhs_number", "given_name", "family_name", "date_of_birth", "postcode")
OPTIONAL_FIELDS = ("address",)
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS

NO_IDENTITY = "participant row {id} has no identity in the vault"
DUPLICATE = (
    "a participant with this NHS number is already enrolled: find her record instead "
    "of enrolling her again"
)


class VaultError(CohortError):
    """A stored ciphertext that cannot be opened: altered, moved, or its key is missing."""

    status_code = 500


@dataclass(frozen=True)
class IdentityFields:
    nhs_number: str
    given_name: str
    family_name: str
    date_of_birth: date
    postcode: str
    address: str | None = None


def blind_index(keys: KeyRing, nhs_number_raw: str) -> str:
    """HMAC-SHA256 of the normalised NHS number: equal numbers, equal index, no plaintext."""
    digits = nhs_number.normalise(nhs_number_raw)
    return hmac.new(keys.lookup, digits.encode(), hashlib.sha256).hexdigest()


def _aad(participant_id: int, field: str) -> bytes:
    return f"cohort.identity.{VERSION}|{participant_id}|{field}".encode()


def encrypt(
    keys: KeyRing, participant_id: int, field: str, value: str, *, key_id: str | None = None
) -> str:
    """Encrypt under ``key_id`` (default: the current vault key), bound to row and field."""
    key_id = key_id or keys.current_vault_id
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(keys.vault[key_id]).encrypt(nonce, value.encode(), _aad(participant_id, field))
    return f"{VERSION}.{key_id}.{base64.b64encode(nonce + sealed).decode()}"


def decrypt(keys: KeyRing, participant_id: int, field: str, token: str) -> str:
    where = f"the {field} of participant row {participant_id}"
    version, _, rest = token.partition(".")
    key_id, _, body = rest.partition(".")
    if version != VERSION or not key_id or not body:
        raise VaultError(f"{where} is not a vault ciphertext: it was altered outside the vault")
    if key_id not in keys.vault:
        raise VaultError(
            f"{where} is encrypted under vault key {key_id}, which is not in the key ring: "
            "restore that key from the key backup"
        )
    try:
        raw = base64.b64decode(body, validate=True)
        plain = AESGCM(keys.vault[key_id]).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(participant_id, field)
        )
    except (InvalidTag, ValueError):  # bad base64, short nonce, failed tag
        raise VaultError(
            f"{where} failed its integrity check: it was altered or moved from another row or field"
        ) from None
    return plain.decode()


def _open(keys: KeyRing, participant_id: int, field: str, token: str | None) -> str | None:
    return None if token is None else decrypt(keys, participant_id, field, token)


def _plain_values(fields: IdentityFields) -> dict[str, str | None]:
    return {
        "nhs_number": nhs_number.normalise(fields.nhs_number),
        "given_name": fields.given_name,
        "family_name": fields.family_name,
        "date_of_birth": fields.date_of_birth.isoformat(),
        "postcode": fields.postcode,
        "address": fields.address,
    }


def _check_required(values: dict[str, str | None]) -> None:
    for name in REQUIRED_FIELDS:
        if not (values[name] or "").strip():
            raise CohortError(f"{name.replace('_', ' ')} is required", field=name)


def _refuse_duplicate(session: Session, index: str) -> None:
    if session.exec(select(Identity.id).where(Identity.nhs_index == index)).first():
        raise Conflict(DUPLICATE, field="nhs_number")


def store_identity(
    session: Session, keys: KeyRing, participant_id: int, fields: IdentityFields
) -> Identity:
    """Encrypt and add one participant's identifiers; refuse an NHS number already held."""
    values = _plain_values(fields)
    _check_required(values)
    index = blind_index(keys, values["nhs_number"])
    _refuse_duplicate(session, index)
    key_id = keys.current_vault_id
    sealed = {
        name: None if value is None else encrypt(keys, participant_id, name, value)
        for name, value in values.items()
    }
    identity = Identity(participant_id=participant_id, nhs_index=index, key_id=key_id, **sealed)
    session.add(identity)
    try:
        session.flush()
    except IntegrityError as exc:
        if "nhs_index" in str(exc.orig):  # enrolled by someone else at the same moment
            raise Conflict(DUPLICATE, field="nhs_number") from None
        raise
    return identity


def reencrypt(keys: KeyRing, identity: Identity, key_id: str) -> None:
    """Re-encrypt every field of a row under ``key_id`` (key rotation); values unchanged."""
    for name in FIELDS:
        token = getattr(identity, name)
        if token is not None:
            plain = decrypt(keys, identity.participant_id, name, token)
            setattr(
                identity, name, encrypt(keys, identity.participant_id, name, plain, key_id=key_id)
            )
    identity.key_id = key_id


def find_participant(session: Session, keys: KeyRing, nhs_number_raw: str) -> Participant | None:
    index = blind_index(keys, nhs_number_raw)
    return session.exec(
        select(Participant)
        .join(Identity, Identity.participant_id == Participant.id)
        .where(Identity.nhs_index == index)
    ).first()


def read_identity(session: Session, keys: KeyRing, participant_id: int) -> IdentityFields:
    """Decrypt one participant's identifiers. Callers showing them use ``view_identity``."""
    identity = session.exec(
        select(Identity).where(Identity.participant_id == participant_id)
    ).first()
    if identity is None:
        raise NotFound(NO_IDENTITY.format(id=participant_id))
    plain = {name: _open(keys, participant_id, name, getattr(identity, name)) for name in FIELDS}
    return IdentityFields(**{**plain, "date_of_birth": date.fromisoformat(plain["date_of_birth"])})


def read_fields(
    session: Session, keys: KeyRing, participant_ids: Iterable[int], names: Collection[str]
) -> dict[int, dict[str, str | None]]:
    """Decrypt only the fields ``names`` of many participants, by participant row (one
    without an identity is left out). For bulk exports: an export naming women by NHS
    number needs one decryption each, not ``read_identity``'s six and a query each."""
    wanted = [name for name in FIELDS if name in names]
    columns = [getattr(Identity, name) for name in wanted]
    found: dict[int, dict[str, str | None]] = {}
    for chunk in id_chunks(participant_ids):
        query = select(Identity.participant_id, *columns).where(Identity.participant_id.in_(chunk))
        for pid, *sealed in session.exec(query):
            found[pid] = {
                name: _open(keys, pid, name, token)
                for name, token in zip(wanted, sealed, strict=True)
            }
    return found


def view_identity(
    session: Session,
    keys: KeyRing,
    participant: Participant,
    actor: str,
    source: str | None = None,
) -> IdentityFields:
    """Read a participant's identifiers and record who saw them, in the same transaction."""
    fields = read_identity(session, keys, participant.id)
    audit.record(
        session,
        actor=actor,
        action="identity.view",
        participant=participant.study_id,
        source=source,
    )
    return fields


def enrol(
    session: Session, keys: KeyRing, site_id: int, fields: IdentityFields, actor: str
) -> Participant:
    """Create a participant with a fresh study ID and her encrypted identity, never twice.

    The audit event names the study ID and site only: identifiers never enter the trail.
    ``store_identity`` refuses an NHS number already held before anything is committed."""
    _check_required(_plain_values(fields))
    participant = Participant(study_id=study_id.allocate(session), site_id=site_id)
    session.add(participant)
    session.flush()
    store_identity(session, keys, participant.id, fields)
    audit.record(
        session,
        actor=actor,
        action="participant.enrol",
        participant=participant.study_id,
        detail={"site_id": site_id},
    )
    return participant
