"""Linkage runs: every file in a source's inbox, taken through the pipeline once.

For each file (oldest name first), under the source's lock:

1. its SHA-256; a file already written to the research store is recorded as
   ``skipped_duplicate`` and moved to ``processed/<source>/``;
2. validated against the spec; a refused file is moved to ``quarantine/<source>/`` beside
   a ``.reason.txt`` and recorded as ``quarantined`` (other files and sources go on);
3. standardised and matched against the consenting cohort (decrypted in memory only),
   with the source's stored model, or one trained and stored on first use; in a child
   source, a child an earlier run resolved links by its own NHS number
   (``known_children``);
4. consent checked again for every matched participant at write time (``consent
   filtered`` counts the records dropped); grey-zone pairs queued for clerical review;
5. written to the research store in one transaction, keyed by study ID (a child's own for
   child sources) and the keyed hash of the partner's record id; then the file is moved
   to ``processed/<source>/`` and the run recorded ``succeeded`` and audited (counts only).
   No database transaction is open while DuckDB writes (``_link_and_write`` says in which
   order, and how a run killed part-way is settled by the next).

Any other failure records ``failed`` with a plain message (the exception's class, never
its text: it could quote a value from the file) and leaves the file in the inbox for the
next run. The run row is updated as it goes (stage and percent) for the runs page.
Partners should upload under a temporary name (a leading dot, or ``.partial`` / ``.tmp``)
and rename when done: such files are left alone.
"""

import hashlib
import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlmodel import Session, select

from cohort import audit, imd
from cohort.config import Settings
from cohort.db import session_scope
from cohort.errors import CohortError
from cohort.instance import Instance
from cohort.models import ClericalPair, LinkageRun, Withdrawal
from cohort.withdrawal_levels import LEVELS
from linkage_jobs import births, children, clerical, ground_truth, known_children, store
from linkage_jobs.cohort_identities import Cohort, consented, load_cohort
from linkage_jobs.coverage import covering_item
from linkage_jobs.keyed_hash import nhs_hashes
from linkage_jobs.lock import source_lock
from linkage_jobs.match import link_with_model
from linkage_jobs.model import LinkageModel, load_latest, save, train
from linkage_jobs.spec import SourceSpec
from linkage_jobs.standardise import standardise
from linkage_jobs.validate import FileRefused, ValidatedFile, quarantine, validate_file
from linkage_jobs.withdrawals import purge_participant

log = logging.getLogger(__name__)

ACTOR = "linkage"
LINKED = ("exact", "probabilistic")
METHODS = (*LINKED, "clerical")
KEPT_REJECTIONS = 1000  # reasons stored per run; rows_rejected has the full count
UNFINISHED = (".partial", ".tmp")
PURGING_LEVELS = tuple(level.code for level in LEVELS if not level.keeps_linked_data)
RUNNING = "running"
CHILD_KEY_FIELDS = ("nhs_number", "date_of_birth", "sex", "given_name")  # child_keys' order
INTERRUPTED = (
    "the run was interrupted before its rows were written (the process stopped); nothing "
    "was linked and the file is tried again on the next run"
)


@dataclass(frozen=True)
class Places:
    """Where a source's files and models live, under the instance's data dir."""

    inbox: Path
    quarantine: Path
    processed: Path
    models: Path
    store: Path

    @classmethod
    def of(cls, settings: Settings, spec: SourceSpec) -> "Places":
        data = settings.data_dir
        return cls(
            inbox=data / spec.inbox,
            quarantine=data / "quarantine" / spec.name,
            processed=data / "processed" / spec.name,
            models=data / "linkage" / "models",
            store=settings.research_store_path,
        )


def inbox_files(inbox: Path) -> list[Path]:
    """Files ready to link: not hidden, not still being uploaded; by name."""
    if not inbox.is_dir():
        return []
    return sorted(
        p
        for p in inbox.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(UNFINISHED)
    )


def run_source(
    instance: Instance, spec: SourceSpec, *, now: datetime | None = None, actor: str = ACTOR
) -> list[LinkageRun]:
    """Link every waiting file of ``spec``; ``SourceBusy`` if another process is at it."""
    places = Places.of(instance.settings, spec)
    with source_lock(instance.engine, spec.name):
        _settle_interrupted(instance, spec, places, actor)
        return [
            _run_file(instance, spec, places, path, now or datetime.now(UTC), actor)
            for path in inbox_files(places.inbox)
        ]


def _settle_interrupted(instance: Instance, spec: SourceSpec, places: Places, actor: str) -> None:
    """Runs of this source a killed process left ``running`` (none is alive: we hold the
    source's lock), finished as the research store says they ended."""
    with Session(instance.engine) as session:
        left = session.exec(
            select(LinkageRun).where(LinkageRun.source == spec.name, LinkageRun.outcome == RUNNING)
        ).all()
    for run in left:
        if store.delivered_by(places.store, run.file_sha256) == run.id:
            _finish(instance, run, "succeeded", actor)
        else:
            _finish(instance, run, "failed", actor, rows_written=0, error=INTERRUPTED)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _set(session: Session, run_id: int, **fields: object) -> LinkageRun:
    run = session.get(LinkageRun, run_id)
    for name, value in fields.items():
        setattr(run, name, value)
    session.add(run)
    return run


def _update(instance: Instance, run_id: int, **fields: object) -> LinkageRun:
    with session_scope(instance.engine) as session:
        return _set(session, run_id, **fields)


def _start(instance: Instance, spec: SourceSpec, path: Path, now: datetime) -> LinkageRun:
    with session_scope(instance.engine) as session:
        run = LinkageRun(
            source=spec.name,
            file_name=path.name[:255],
            file_sha256=sha256_of(path),
            started_at=now,
            stage="started",
        )
        session.add(run)
        session.flush()
        return run


def _finish(instance: Instance, run: LinkageRun, outcome: str, actor: str, **fields) -> LinkageRun:
    with session_scope(instance.engine) as session:
        row = session.get(LinkageRun, run.id)
        for name, value in {**fields, "outcome": outcome}.items():
            setattr(row, name, value)
        row.finished_at = datetime.now(UTC)
        row.stage, row.percent = "finished", 100
        session.add(row)
        clerical.settle(session, row.id, published=outcome == "succeeded")
        if outcome == "failed":
            births.settle_failed(session, row.file_sha256)
        audit.record(
            session,
            actor=actor,
            action="linkage.run",
            detail={
                "run": row.id,
                "source": row.source,
                "outcome": outcome,
                "rows_read": row.rows_read,
                "rows_rejected": row.rows_rejected,
                "matched": row.matched,
                "consent_filtered": row.consent_filtered,
                "clerical_queued": row.clerical_queued,
                "rows_written": row.rows_written,
            },
        )
        return row


def _move(path: Path, folder: Path) -> Path:
    """Into ``folder``, never over an earlier file of the same name."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = folder / f"{path.stem}.{stamp}{path.suffix}"
    return Path(shutil.move(path, target))


def _failure(exc: Exception) -> str:
    if isinstance(exc, CohortError):
        return exc.message
    return (
        f"the run stopped on an internal error ({exc.__class__.__name__}); the file stays "
        "in the inbox and is tried again on the next run"
    )


def _run_file(
    instance: Instance,
    spec: SourceSpec,
    places: Places,
    path: Path,
    now: datetime,
    actor: str,
) -> LinkageRun:
    run = _start(instance, spec, path, now)
    try:
        if store.is_delivered(places.store, run.file_sha256):
            _move(path, places.processed)
            return _finish(instance, run, "skipped_duplicate", actor)
        _update(instance, run.id, stage="validating", percent=10)
        try:
            validated = validate_file(path, spec)
        except FileRefused as exc:
            quarantine(path, exc.reason, places.quarantine)
            return _finish(instance, run, "quarantined", actor, error=exc.reason)
        counts = _link_and_write(instance, spec, places, run, validated, now)
        _move(path, places.processed)
        return _finish(instance, run, "succeeded", actor, **counts)
    except Exception as exc:
        log.error("linkage run %s of %s failed: %s", run.id, spec.name, type(exc).__name__)
        return _finish(instance, run, "failed", actor, error=_failure(exc))


def _rejections(validated: ValidatedFile) -> dict[str, object]:
    """Counts and reasons (row numbers and column rules, never values or record ids)."""
    kept = [{"row": r.row, "reason": r.reason} for r in validated.rejected[:KEPT_REJECTIONS]]
    return {
        "rows_read": validated.rows_read,
        "rows_rejected": len(validated.rejected),
        "rejections": kept,
    }


def record_keys(keys_lookup: bytes, spec: SourceSpec, record_ids: pd.Series) -> pd.Series:
    """Keyed hashes of the partner's record ids (the same HMAC as NHS numbers get)."""
    return nhs_hashes(spec.name + "|" + record_ids.astype(str), keys_lookup)


def _link_and_write(
    instance: Instance,
    spec: SourceSpec,
    places: Places,
    run: LinkageRun,
    validated: ValidatedFile,
    now: datetime,
) -> dict[str, object]:
    """Match, then write in three steps, so no database transaction waits on DuckDB:

    1. one short database transaction: children's study IDs, this run's clerical pairs
       *staged* (no reviewer sees them yet), the run's counts, and for a source with
       ``[births]`` the whole file's births counts (``linkage_jobs.births``: replaced if
       the file was counted before, dropped by ``_finish`` if the run fails);
    2. the research store's one DuckDB transaction: rows, pending payloads and the
       ``deliveries`` row, the run's commit point;
    3. ``_finish``: the run recorded and its staged pairs published for review, in one
       database transaction.

    Killed before 2 commits, nothing reached the store and the file is still in the
    inbox; killed between 2 and 3, the store holds the whole file. Either way the run is
    left ``running``, and the next run of the source settles it from the store
    (``_settle_interrupted``) before anything else: succeeded and its pairs published if
    its delivery is there, failed and its pairs dropped if not. Children's study IDs kept
    from step 1 are only identifiers to be found again, never output."""
    counts = _rejections(validated)
    # Every valid row, member or not, for the representativeness page: counts only.
    births_counted = None
    if spec.births:
        with Session(instance.engine) as session:
            lookup = imd.deciles(session)
        births_counted = births.count(validated.records, spec, lookup)
    _update(instance, run.id, stage="matching", percent=30, **counts)
    records = standardise(validated.records).reset_index(drop=True)
    cohort = load_cohort(instance.engine, instance.keys, spec)
    stored = load_latest(places.models, spec.name)
    linked = link_with_model(
        cohort.frame, records, model=stored, nhs_key=instance.keys.lookup, source_name=spec.name
    )
    model, matches = linked.model, linked.matches
    if stored is None and model is not None:  # a first run stores the model it trained
        save(model, places.models)
    if spec.subject == "child":  # a child met before links by its own number
        with Session(instance.engine) as session:
            known = known_children.mothers_by_child_number(session, instance.keys, records, cohort)
        matches = known_children.preferred(known, matches)
    by_method = {m: int((matches["method"] == m).sum()) for m in METHODS}
    counts |= {
        "quality": ground_truth.measured(instance.settings, spec.name, run.file_sha256, matches),
        "matched": by_method,
        "match_rate": (by_method["exact"] + by_method["probabilistic"]) / len(records)
        if len(records)
        else None,
        "model_version": model.version if model else None,
    }
    _update(instance, run.id, stage="writing", percent=70, **counts)
    records["record_key"] = record_keys(instance.keys.lookup, spec, records["record_id"])
    matches = matches.merge(records, on="record_id", how="left", validate="one_to_one")
    # Consent again, at write time, for everyone matched: it may have changed meanwhile.
    matched = {sid: cohort.participant_ids[sid] for sid in set(matches["study_id"])}
    allowed = consented(instance.engine, covering_item(spec), matched)
    counts["consent_filtered"] = int((~matches["study_id"].isin(allowed)).sum())
    matches = matches[matches["study_id"].isin(allowed)]
    with session_scope(instance.engine) as session:
        clerical.supersede(session, spec.name, list(records["record_key"]))
        linked = _linked_rows(
            session, instance, spec, cohort, matches[matches["method"].isin(LINKED)]
        )
        pending = _queue(
            session, instance, spec, run, cohort, matches[matches["method"] == "clerical"]
        )
        counts |= {"rows_written": len(linked), "clerical_queued": len(pending)}
        _set(session, run.id, **counts)
        if births_counted is not None:
            births.replace(session, spec, run.file_sha256, births_counted)
    written = store.write_run(
        places.store,
        spec,
        run_id=run.id,
        sha256=run.file_sha256,
        linked=linked,
        pending=pending,
        linked_at=now,
    )
    counts["rows_written"] = written or 0
    _purge_late_withdrawals(instance, cohort, linked)
    return counts


def _child_study_ids(
    session: Session, instance: Instance, cohort: Cohort, rows: pd.DataFrame
) -> list[str]:
    return [
        children.resolve(session, mother_id, *children.child_keys(instance.keys, mother_id, *who))
        for mother_id, who in zip(
            rows["study_id"].map(cohort.participant_ids),
            rows[list(CHILD_KEY_FIELDS)].itertuples(index=False, name=None),
            strict=True,
        )
    ]


def _linked_rows(
    session: Session, instance: Instance, spec: SourceSpec, cohort: Cohort, rows: pd.DataFrame
) -> pd.DataFrame:
    """study_id (the child's own for child sources), record_key, method, probability and
    payload: nothing else leaves for the research store."""
    study_ids = (
        _child_study_ids(session, instance, cohort, rows)
        if spec.subject == "child"
        else list(rows["study_id"])
    )
    out = rows[["record_key", "method", "match_probability", *spec.payload]].copy()
    out.insert(0, "study_id", study_ids)
    return out.reset_index(drop=True)


def _queue(
    session: Session,
    instance: Instance,
    spec: SourceSpec,
    run: LinkageRun,
    cohort: Cohort,
    rows: pd.DataFrame,
) -> pd.DataFrame:
    """Clerical pairs in the consent database; their payloads, by pair id, for the store."""
    people = cohort.frame.set_index("study_id")
    pair_ids = []
    for _, row in rows.iterrows():
        mother_id = cohort.participant_ids[row["study_id"]]
        nhs_index, birth_key = (
            children.child_keys(instance.keys, mother_id, *row[list(CHILD_KEY_FIELDS)])
            if spec.subject == "child"
            else (None, None)
        )
        pair = ClericalPair(
            run_id=run.id,
            source=spec.name,
            record_key=row["record_key"],
            study_id=row["study_id"],
            probability=float(row["match_probability"]),
            comparison=clerical.seal_comparison(
                instance.keys,
                mother_id,
                run.id,
                row["record_key"],
                row,
                people.loc[row["study_id"]],
            ),
            child_nhs_index=nhs_index,
            child_birth_key=birth_key,
            decision=clerical.STAGED,
        )
        session.add(pair)
        session.flush()
        pair_ids.append(pair.id)
    pending = rows[["study_id", "record_key", *spec.payload]].copy()
    pending.insert(0, "pair_id", pair_ids)
    return pending.reset_index(drop=True)


def _purge_late_withdrawals(instance: Instance, cohort: Cohort, linked: pd.DataFrame) -> None:
    """A full withdrawal recorded while this run was writing: purge her rows now too."""
    if linked.empty:
        return
    with session_scope(instance.engine) as session:
        withdrawn = set(
            session.exec(
                select(Withdrawal.participant_id).where(
                    Withdrawal.level.in_(PURGING_LEVELS)  # type: ignore[attr-defined]
                )
            ).all()
        )
        for pid in withdrawn & set(cohort.participant_ids.values()):
            purge_participant(session, instance.settings.research_store_path, pid, actor=ACTOR)


def train_source(instance: Instance, spec: SourceSpec, *, actor: str = ACTOR) -> LinkageModel:
    """Retrain the source's model on its newest file (inbox first, else processed)."""
    places = Places.of(instance.settings, spec)
    files = inbox_files(places.inbox) or inbox_files(places.processed)
    if not files:
        raise CohortError(
            f"no {spec.name} file to train on: put one in {spec.inbox} and try again",
            field="source",
        )
    newest = max(files, key=lambda p: p.stat().st_mtime)
    records = standardise(validate_file(newest, spec).records)
    cohort = load_cohort(instance.engine, instance.keys, spec)
    if cohort.frame.empty:
        raise CohortError(f"no participant's consent covers {spec.name} yet: nothing to train on")
    model = train(cohort.frame, records, spec.name)
    save(model, places.models)
    with session_scope(instance.engine) as session:
        audit.record(
            session,
            actor=actor,
            action="linkage.train",
            detail={"source": spec.name, "model": model.version, "rows": model.training_rows},
        )
    return model
