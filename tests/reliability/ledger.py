"""Holding the database to account after a load: every acknowledged submission is there
exactly once, nothing is half-written, and the audit chain verifies.

The invariants are plain SQL, one query per rule, each returning the rows that break it,
so a failure names the rows and anyone can run the same query on a live database."""

from collections import Counter

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bench.load import Load, Sent
from cohort import audit
from cohort.keys import KeyRing
from cohort.models import (
    AuditEvent,
    Consent,
    Decline,
    Identity,
    Participant,
    Submission,
    Withdrawal,
)
from cohort.vault import blind_index

# Each query lists what breaks its rule; an empty result is a database in one piece.
INVARIANTS = {
    "participant without her identity in the vault": """
        SELECT p.study_id FROM participant p
        LEFT JOIN identity i ON i.participant_id = p.id WHERE i.id IS NULL""",
    "participant without a consent": """
        SELECT p.study_id FROM participant p
        LEFT JOIN consent c ON c.participant_id = p.id WHERE c.id IS NULL""",
    "identity without a participant": """
        SELECT i.id FROM identity i
        LEFT JOIN participant p ON p.id = i.participant_id WHERE p.id IS NULL""",
    "participant whose enrolment was not audited": """
        SELECT p.study_id FROM participant p
        LEFT JOIN auditevent a ON a.participant = p.study_id AND a.action = 'consent.record'
        WHERE a.id IS NULL""",
    "consent token whose participant is missing": """
        SELECT s.token FROM submission s
        WHERE s.action = 'consent' AND NOT EXISTS (
            SELECT 1 FROM participant p
            WHERE CAST(s.result AS TEXT) LIKE '%' || p.study_id || '%')""",
    "consent recorded under no submission token": """
        SELECT p.study_id FROM participant p
        WHERE NOT EXISTS (SELECT 1 FROM submission s
                          WHERE s.action = 'consent'
                          AND CAST(s.result AS TEXT) LIKE '%' || p.study_id || '%')""",
    "withdrawal of nobody": """
        SELECT w.id FROM withdrawal w
        LEFT JOIN participant p ON p.id = w.participant_id WHERE p.id IS NULL""",
}


def broken_invariants(engine: Engine) -> dict[str, list]:
    with engine.connect() as conn:
        found = {rule: conn.execute(text(sql)).all() for rule, sql in INVARIANTS.items()}
    return {rule: rows for rule, rows in found.items() if rows}


def chain(engine: Engine) -> audit.Verdict:
    with Session(engine) as s:
        return audit.verify(s)


def unaccounted(engine: Engine, keys: KeyRing, sent: list[Sent]) -> list[str]:
    """Each acknowledged request that the database does not hold exactly once, in words."""
    with Session(engine) as s:
        tokens = dict(s.exec(select(Submission.token, Submission.result)).all())
        study_ids = dict(s.exec(select(Participant.study_id, Participant.id)).all())
        vault = dict(s.exec(select(Identity.nhs_index, Identity.participant_id)).all())
        consents = Counter(s.exec(select(Consent.participant_id)).all())
        withdrawals = Counter(s.exec(select(Withdrawal.participant_id)).all())
        declines = set(s.exec(select(Decline.id)).all())
        enrolments = Counter(
            s.exec(select(AuditEvent.participant).where(AuditEvent.action == "consent.record"))
        )
    problems = []
    for x in sent:
        if not x.acknowledged or x.kind == "health":
            continue
        result = tokens.get(x.key)
        if result is None:
            problems.append(f"{x.kind} {x.key}: acknowledged but no submission token stored")
            continue
        if x.kind.startswith("consent"):
            pid = vault.get(blind_index(keys, x.nhs_number))
            study_id = result.get("study_id")
            if pid is None or study_ids.get(study_id) != pid:
                problems.append(f"{x.kind} {x.key}: her identity or study ID is missing")
            elif consents[pid] != 1 or enrolments[study_id] != 1:
                problems.append(
                    f"{x.kind} {x.key}: {consents[pid]} consents, "
                    f"{enrolments[study_id]} enrolment events (one of each expected)"
                )
        elif x.kind == "decline" and x.decline_id not in declines:
            problems.append(f"decline {x.key}: decline {x.decline_id} missing")
        elif x.kind == "withdrawal" and withdrawals[study_ids.get(x.study_id)] != 1:
            count = withdrawals[study_ids.get(x.study_id)]
            problems.append(f"withdrawal {x.key}: {x.study_id} has {count} withdrawals, not 1")
    return problems


def stored_counts(engine: Engine) -> Counter:
    """Rows of each kind the load writes: consents, declines, withdrawals, tokens."""
    with Session(engine) as s:
        return Counter(
            {
                kind: len(s.exec(select(model.id)).all())
                for kind, model in (
                    ("participants", Participant),
                    ("declines", Decline),
                    ("withdrawals", Withdrawal),
                    ("submissions", Submission),
                )
            }
        )


def acknowledged_counts(load: Load) -> Counter:
    """What the midwives were told was saved, in the same terms as ``stored_counts``."""
    told = Counter(s.kind for s in load.acknowledged())
    return Counter(
        {
            "participants": told["consent_api"] + told["consent_form"],
            "declines": told["decline"],
            "withdrawals": told["withdrawal"],
            "submissions": told.total() - told["health"],
        }
    )
