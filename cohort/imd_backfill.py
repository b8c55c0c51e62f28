"""Deprivation deciles for the women already enrolled when a lookup is loaded: the one
place their postcodes are decrypted for it (identity zone), turned into deciles in memory
and dropped, so only the decile reaches the consent rows (every row of hers: enrolment
and updates alike carry her profile). A new lookup replaces every decile, one it no
longer lists included, and the consent-rate roll-up of the split is counted again."""

from collections import defaultdict

from sqlalchemy import update
from sqlmodel import Session, select

from cohort import imd, vault
from cohort.db import id_chunks
from cohort.governance import rollup
from cohort.keys import KeyRing
from cohort.models import Consent, Identity

SPLIT = "imd_decile"


def backfill(session: Session, keys: KeyRing) -> int:
    """Set every consent's decile from her postcode under the lookup in force, in the
    caller's transaction; the number of women whose postcode it lists."""
    rollup.hold(session)
    lookup = imd.deciles(session)
    women = session.exec(select(Identity.participant_id)).all()
    by_decile: dict[int | None, list[int]] = defaultdict(list)
    for participant_id, fields in vault.read_fields(session, keys, women, ["postcode"]).items():
        by_decile[lookup.get(imd.normal(fields["postcode"] or "") or "")].append(participant_id)
    for decile, participant_ids in by_decile.items():
        for chunk in id_chunks(participant_ids):
            session.exec(
                update(Consent).where(Consent.participant_id.in_(chunk)).values(imd_decile=decile)
            )
    rollup.recount_split(session, SPLIT)
    return sum(len(ids) for decile, ids in by_decile.items() if decile is not None)
