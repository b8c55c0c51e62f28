"""A synthetic research world written in bulk, the one seeding path the research tests
(a handful of chosen participants) and the research benchmark (a hundred thousand) share:
consented mothers with their latest consent and any withdrawal, their children, and
linked rows written to the research store by the store's own writer, as a linkage run
writes them. Study IDs are made up here; no identifier is involved."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import insert
from sqlmodel import Session

from cohort.models import ChildParticipant, Consent, Participant, Withdrawal
from linkage_jobs import store
from linkage_jobs.spec import load_specs

CONSENT_FORM = ("babi_consent", "1.0")


@dataclass(frozen=True)
class Mother:
    study_id: str
    enrolled_at: datetime
    items: dict[str, bool] = field(default_factory=dict)
    age_band: str | None = "25_29"
    ethnicity: str | None = "pakistani"
    language: str = "en"
    withdrawal: str | None = None  # a withdrawal level's code


def enrol(session: Session, site_id: int, recorded_by: int, mothers: Sequence[Mother]) -> list[int]:
    """Add the mothers, each with one consent (and her withdrawal); their row ids in order."""
    conn = session.connection()
    p = Participant.__table__
    ids = [
        row[0]
        for row in conn.execute(
            insert(p).returning(p.c.id, sort_by_parameter_order=True),
            [
                {"study_id": m.study_id, "site_id": site_id, "created_at": m.enrolled_at}
                for m in mothers
            ],
        )
    ]
    form_name, form_version = CONSENT_FORM
    conn.execute(
        insert(Consent.__table__),
        [
            {
                "participant_id": pid,
                "site_id": site_id,
                "recorded_by": recorded_by,
                "form_name": form_name,
                "form_version": form_version,
                "language": m.language,
                "age_band": m.age_band,
                "ethnicity": m.ethnicity,
                "items": m.items,
                "recorded_at": m.enrolled_at,
            }
            for pid, m in zip(ids, mothers, strict=True)
        ],
    )
    withdrawn = [
        {"participant_id": pid, "level": m.withdrawal, "recorded_by": recorded_by}
        for pid, m in zip(ids, mothers, strict=True)
        if m.withdrawal
    ]
    if withdrawn:
        conn.execute(insert(Withdrawal.__table__), withdrawn)
    return ids


def add_children(session: Session, children: Sequence[tuple[str, int]]) -> None:
    """(child study ID, mother's participant row id) for each child."""
    session.connection().execute(
        insert(ChildParticipant.__table__),
        [{"study_id": s, "mother_id": m, "birth_key": s} for s, m in children],
    )


def link(store_path: Path, source: str, rows: pd.DataFrame, *, linked_at: datetime) -> int:
    """Write rows (study_id and payload columns) into the store as one linkage run of a
    delivered file would; each call is a new delivery."""
    spec = load_specs()[source]
    frame = rows.assign(
        record_key=[f"{source}-{linked_at.timestamp()}-{i}" for i in range(len(rows))],
        method="exact",
        match_probability=1.0,
    )
    written = store.write_run(
        store_path,
        spec,
        run_id=1,
        sha256=f"{source}{linked_at.timestamp()}{len(rows)}".ljust(64, "0"),
        linked=frame,
        pending=pd.DataFrame(columns=["pair_id", "study_id", "record_key"]),
        linked_at=linked_at,
    )
    return written or 0
