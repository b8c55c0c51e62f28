"""The clerical review queue: grey-zone pairs a data manager accepts or rejects.

A pair is kept in the consent database by study ID and the keyed hash of the partner's
record id; the record's payload waits in the research store's private pending table. The
reviewer needs to see both people's identifiers side by side, and those belong to the
identity zone, so the comparison is stored as a vault ciphertext (AES-256-GCM, bound to
the candidate's participant row and the pair), decrypted only to show it, and every
showing is audited. Storing it, rather than re-deriving it from the partner file at review
time, means review does not depend on a file that has since been moved, archived or
deleted, nor re-reads a whole file to show one row.

Accepting writes the payload to the research store under the study ID (the child's own,
for child sources), if her consent still covers the source; rejecting forgets it. A pair
whose record arrives again in a later delivery is superseded by the new run's outcome.
A run stages its pairs and publishes them when it finishes, so a run that never wrote
its rows leaves nothing to review.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlmodel import Session, select

from cohort import audit, vault
from cohort.errors import Conflict, NotFound
from cohort.keys import KeyRing
from cohort.models import ClericalPair, LinkageRun, Participant
from cohort.scope import consent_scope
from forms.i18n import N_
from linkage_jobs import children, store
from linkage_jobs.coverage import covering_item
from linkage_jobs.spec import SourceSpec

DECISIONS = ("accepted", "rejected")
SUPERSEDED = "superseded"
PENDING = "pending"
STAGED = "staged"  # queued by a run not yet finished: no reviewer sees it
SHOWN = (
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "nhs_number",
    "mother_nhs_number",
    "postcode",
    "address",
)
NO_LONGER_CONSENTED = N_(
    "Her consent no longer covers this source: the pair was rejected and nothing was linked."
)


def _field(pair_run_id: int, record_key: str) -> str:
    return f"clerical.{pair_run_id}.{record_key}"


def _side(row: pd.Series | dict) -> dict[str, str | None]:
    return {name: (None if pd.isna(row.get(name)) else str(row.get(name))) for name in SHOWN}


def seal_comparison(
    keys: KeyRing,
    participant_id: int,
    run_id: int,
    record_key: str,
    partner: pd.Series,
    cohort: pd.Series,
) -> str:
    body = json.dumps({"partner": _side(partner), "cohort": _side(cohort)})
    return vault.encrypt(keys, participant_id, _field(run_id, record_key), body)


@dataclass(frozen=True)
class Comparison:
    """One line of the side-by-side view: field, partner's value, cohort's value."""

    field: str
    partner: str | None
    cohort: str | None

    @property
    def agrees(self) -> bool:
        return self.partner is not None and self.partner == self.cohort


def open_comparison(session: Session, keys: KeyRing, pair: ClericalPair) -> list[Comparison] | None:
    """Decrypt a pair's side-by-side identifiers (the caller audits the showing); None
    when the vault cannot open them (its key is gone or the row was altered)."""
    participant_id = _participant_id(session, pair.study_id)
    field = _field(pair.run_id, pair.record_key)
    try:
        sides = json.loads(vault.decrypt(keys, participant_id, field, pair.comparison))
    except vault.VaultError:
        return None
    return [
        Comparison(name, sides["partner"].get(name), sides["cohort"].get(name))
        for name in SHOWN
        if sides["partner"].get(name) is not None or sides["cohort"].get(name) is not None
    ]


def _participant_id(session: Session, study_id: str) -> int:
    found = session.exec(select(Participant.id).where(Participant.study_id == study_id)).first()
    if found is None:
        raise NotFound(f"participant {study_id} is not in the cohort")
    return found


def supersede(session: Session, source: str, record_keys: list[str]) -> int:
    """Pending pairs of records delivered again: the new delivery decides them. (The
    source's pending pairs are few; a file's keys can be a million, too many for IN.)"""
    delivered = set(record_keys)
    pending = session.exec(
        select(ClericalPair).where(
            ClericalPair.source == source, ClericalPair.decision == "pending"
        )
    ).all()
    again = [pair for pair in pending if pair.record_key in delivered]
    for pair in again:
        pair.decision = SUPERSEDED
        session.add(pair)
    return len(again)


def settle(session: Session, run_id: int, *, published: bool) -> int:
    """A finishing run's staged pairs: up for review if its rows were written, else
    dropped (its file is linked again, and queues them again)."""
    staged = session.exec(
        select(ClericalPair).where(ClericalPair.run_id == run_id, ClericalPair.decision == STAGED)
    ).all()
    for pair in staged:
        pair.decision = PENDING if published else SUPERSEDED
        session.add(pair)
    return len(staged)


def pending_pairs(session: Session) -> list[ClericalPair]:
    return list(
        session.exec(
            select(ClericalPair).where(ClericalPair.decision == "pending").order_by(ClericalPair.id)
        ).all()
    )


def decide(
    session: Session,
    store_path: Path,
    spec: SourceSpec,
    pair_id: int,
    decision: str,
    *,
    actor: str,
) -> ClericalPair:
    """Accept or reject a pending pair, audited; accepting links its payload now. A pair
    whose mother's consent no longer covers the source is rejected instead."""
    if decision not in DECISIONS:
        raise Conflict(f"choose accept or reject, not {decision!r}", field="decision")
    pair = session.get(ClericalPair, pair_id)
    if pair is None or pair.source != spec.name:
        raise NotFound(f"there is no clerical pair {pair_id} for {spec.name}")
    if pair.decision != "pending":
        raise Conflict(f"this pair was already {pair.decision}", field="decision")
    mother_id = _participant_id(session, pair.study_id)
    linked_to = pair.study_id
    if decision == "accepted" and not consent_scope(session, mother_id).allows(covering_item(spec)):
        decision = "rejected"  # the caller tells the reviewer: NO_LONGER_CONSENTED
    if decision == "accepted":
        if spec.subject == "child":
            linked_to = children.resolve(
                session, mother_id, pair.child_nhs_index, pair.child_birth_key or ""
            )
        run = session.get(LinkageRun, pair.run_id)
        store.accept_pending(
            store_path,
            spec,
            pair_id=pair.id,
            study_id=linked_to,
            probability=pair.probability,
            run_id=run.id,
            linked_at=datetime.now(UTC),
        )
    else:
        store.drop_pending(store_path, spec, [pair.id])
    pair.decision = decision
    pair.decided_by = actor
    pair.decided_at = datetime.now(UTC)
    session.add(pair)
    audit.record(
        session,
        actor=actor,
        action="linkage.clerical_decision",
        participant=linked_to,
        detail={"source": spec.name, "pair": pair.id, "decision": decision},
    )
    return pair
