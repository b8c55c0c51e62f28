"""The keys in use open the stored identities: checked before the service starts.

A vault or lookup key replaced by another valid key loads without complaint. A server
started on it would write new identities that the right key cannot open, and a wrong
lookup key would miss the duplicates of everyone already enrolled. The stored identities
show it: the newest under each vault key in use must decrypt, and its NHS number give its
blind index again. With no identity stored yet there is nothing to check.

This is not part of ``cohort.instance``: it needs the vault, and the research zone, which
opens instances too, must never import the vault."""

from sqlmodel import Session, select

from cohort import vault
from cohort.instance import Instance
from cohort.keys import KeyProblem, key_source
from cohort.models import Identity

RESTORE = "restore the keys this database was written with"


def _samples(session: Session) -> list[Identity]:
    """The newest identity under each vault key that any identity is under."""
    key_ids = session.exec(select(Identity.key_id).distinct()).all()
    newest = select(Identity).order_by(Identity.id.desc()).limit(1)
    return [session.exec(newest.where(Identity.key_id == key_id)).one() for key_id in key_ids]


def _refusal(inst: Instance, key: str, what: str) -> KeyProblem:
    where = key_source(inst.settings.keys_path, key)
    return KeyProblem(f"the keys in {where} do not open the stored identities: {what}; {RESTORE}")


def check_keys(inst: Instance) -> None:
    """Refuse with KeyProblem unless the keys open one stored identity under each vault key
    in use and reproduce its blind index. The message names a key id and a row, never key
    material."""
    with Session(inst.engine) as session:
        samples = _samples(session)
    for identity in samples:
        row = identity.participant_id
        try:
            number = vault.decrypt(inst.keys, row, "nhs_number", identity.nhs_number)
        except vault.VaultError:
            raise _refusal(
                inst, "vault", f"vault key {identity.key_id} does not decrypt participant row {row}"
            ) from None
        if vault.blind_index(inst.keys, number) != identity.nhs_index:
            raise _refusal(
                inst,
                "lookup",
                f"the lookup key does not give participant row {row} its blind index, so "
                "duplicates of those enrolled would be missed",
            )
