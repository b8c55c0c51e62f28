"""All tables, in one place, grouped by zone.

Identity zone: ``Identity`` (ciphertexts and the blind index only).
Consent zone: sites, users and their browser sessions, participants (study IDs), consents,
declines, withdrawals, and the submission tokens that make each of them happen once.
Audit: the append-only hash chain and its head.
Forms: the published versions of each instrument, and their uploaded translations.
"""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), **kw)


ROLES = ("midwife", "data_manager", "researcher", "governance", "admin")
SITE_SCOPED_ROLES = ("midwife",)


class Site(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=16)
    name: str = Field(max_length=200)
    created_at: datetime = _ts()


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=64)
    full_name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    site_id: int | None = Field(default=None, foreign_key="site.id")
    password_hash: str = Field(sa_type=Text)
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # Bumped on password change, disable or token change: every older session dies.
    session_version: int = 1
    created_at: datetime = _ts()


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie carries a random session id; the row holds only its
    SHA-256, so a copy of this table signs nobody in. Deleting the row (sign-out) kills
    every copy of the cookie at once."""

    id_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    # The user's session_version when this session began (or was renewed by her own change).
    user_version: int
    started_at: datetime = _ts(index=True)


class ApiToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    label: str = Field(max_length=100)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    created_at: datetime = _ts()
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class Project(SQLModel, table=True):
    """An approved research project (safe projects): what its researchers may see, and
    until when. Without approval dates nobody on it sees anything."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=32)
    title: str = Field(max_length=300)
    created_at: datetime = _ts()
    lead: str = Field(default="", max_length=200)
    approval_reference: str = Field(default="", max_length=64)
    approved_from: date | None = None
    approved_until: date | None = None  # access ends at the end of this day
    # {dataset: [variable, ...]}: source names, and "consent" for the cohort's own data.
    variables: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    date_granularity: str = Field(default="month", max_length=8)  # day, month or year
    row_level: bool = False  # row-level extracts approved, or aggregates only


class ProjectMember(SQLModel, table=True):
    """A researcher on a project; removal ends her access but keeps the record."""

    __table_args__ = (UniqueConstraint("project_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    added_at: datetime = _ts()
    removed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class Participant(SQLModel, table=True):
    """A consented mother, known to the consent zone only by her random study ID."""

    id: int | None = Field(default=None, primary_key=True)
    study_id: str = Field(unique=True, index=True, max_length=16)
    site_id: int = Field(foreign_key="site.id", index=True)
    created_at: datetime = _ts()


class Identity(SQLModel, table=True):
    """Identity zone: every value is an AES-256-GCM ciphertext ``v1.<key id>.<base64>``."""

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", unique=True)
    nhs_index: str = Field(unique=True, index=True, max_length=64)
    nhs_number: str = Field(sa_type=Text)
    given_name: str = Field(sa_type=Text)
    family_name: str = Field(sa_type=Text)
    date_of_birth: str = Field(sa_type=Text)
    postcode: str = Field(sa_type=Text)
    address: str | None = Field(default=None, sa_type=Text)
    key_id: str = Field(index=True, max_length=32)


class KeyRotation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    new_key_id: str = Field(max_length=32)
    started_at: datetime = _ts()
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    rows_done: int = 0


class Consent(SQLModel, table=True):
    """One statement of a participant's consent: the first is her enrolment, each later row
    an update of its scope. The latest row is current; none is ever changed."""

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    recorded_by: int = Field(foreign_key="user.id")
    form_name: str = Field(max_length=64)
    form_version: str = Field(max_length=16)
    language: str = Field(max_length=16)  # the language the discussion was held in
    interpreter_used: bool | None = None  # None: not asked (a discussion in English)
    leaflet_given: bool | None = None
    leaflet_language: str | None = Field(default=None, max_length=16)
    # Her age band at enrolment and ethnicity, if she gave it: the consent rate's split, as
    # on a decline; copied unchanged onto each later update of her consent.
    age_band: str | None = Field(default=None, max_length=16)
    ethnicity: str | None = Field(default=None, max_length=64)
    # Her area's deprivation decile (1 most deprived), looked up from her postcode in the
    # loaded IMD lookup (``cohort.imd``): the postcode itself stays in the vault.
    imd_decile: int | None = None
    items: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The instrument version's other answers (questions a newer version added), by field
    # name: never an identifier, which goes to the vault. Copied onto each later update.
    answers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    recorded_at: datetime = _ts(index=True)


class Decline(SQLModel, table=True):
    """A woman who said no: no identifiers, only what the consent-rate denominator needs."""

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    recorded_by: int = Field(foreign_key="user.id")
    form_name: str = Field(max_length=64)
    form_version: str = Field(max_length=16)
    language: str = Field(max_length=16)
    age_band: str = Field(max_length=16)
    ethnicity: str | None = Field(default=None, max_length=64)
    imd_decile: int | None = None  # none kept yet: the decline form asks no postcode
    answers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    recorded_at: datetime = _ts(index=True)


class Withdrawal(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    level: str = Field(max_length=32)
    recorded_by: int = Field(foreign_key="user.id")
    recorded_at: datetime = _ts()


class Submission(SQLModel, table=True):
    """A one-time token of a form or API call, stored with what it recorded, so a repeat
    (double click, resubmit, retried request) gets the same result and saves nothing."""

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(unique=True, index=True, max_length=64)
    action: str = Field(max_length=32)
    user_id: int = Field(foreign_key="user.id")
    # What was recorded, by study ID and row id: never an identifier.
    result: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()


class AuditEvent(SQLModel, table=True):
    """One link of the append-only chain: ``hash = sha256(prev_hash || canonical JSON)``."""

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True, index=True)
    at: datetime = _ts()
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64, index=True)
    participant: str | None = Field(default=None, max_length=16, index=True)
    project: str | None = Field(default=None, max_length=32)
    source: str | None = Field(default=None, max_length=64)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """Single row that serialises appends and pins the chain's end against truncation."""

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    last_hash: str = Field(default="0" * 64, max_length=64)


class Instrument(SQLModel, table=True):
    """One published version of a form: its REDCap data dictionary exactly as uploaded, so
    records taken under it keep their meaning and it exports byte for byte."""

    __table_args__ = (UniqueConstraint("name", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    version: str = Field(max_length=16)
    dictionary: str = Field(sa_type=Text)
    sha256: str = Field(max_length=64)
    published_at: datetime = _ts()
    published_by: str = Field(max_length=64)


class InstrumentTranslation(SQLModel, table=True):
    """One language's translations of a published version's text, uploaded at run time (a
    dictionary published after the release whose catalogs hold the shipped text). A new
    upload for the same version and language replaces it; the audit trail keeps each."""

    __table_args__ = (UniqueConstraint("name", "version", "language"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    version: str = Field(max_length=16)
    language: str = Field(max_length=8)
    entries: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    sha256: str = Field(max_length=64)
    uploaded_at: datetime = _ts()
    uploaded_by: str = Field(max_length=64)


# Linkage: runs of partner files, the clerical review queue, children's study IDs and
# per-source locks. Nothing here identifies anyone: record keys and child indexes are
# keyed hashes, and the reviewer's side-by-side comparison is a vault ciphertext.


class LinkageRun(SQLModel, table=True):
    """One partner file taken through the pipeline (or refused, or skipped as seen)."""

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64, index=True)
    file_name: str = Field(max_length=255)
    file_sha256: str = Field(max_length=64, index=True)
    started_at: datetime = _ts(index=True)
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # running, succeeded, quarantined, failed or skipped_duplicate
    outcome: str = Field(default="running", max_length=32, index=True)
    rows_read: int = 0
    rows_rejected: int = 0
    # [{"row": n, "reason": "..."}]: reasons name the column and the rule, never a value.
    rejections: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    matched: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    match_rate: float | None = None
    consent_filtered: int = 0
    clerical_queued: int = 0
    rows_written: int = 0
    model_version: str | None = Field(default=None, max_length=64)
    # Against a synthetic delivery's ground truth (linkage_jobs.ground_truth), else None.
    quality: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    stage: str = Field(default="queued", max_length=32)
    percent: int = 0
    error: str | None = Field(default=None, sa_type=Text)


class ClericalPair(SQLModel, table=True):
    """A grey-zone match waiting for a data manager: accept or reject."""

    __table_args__ = (UniqueConstraint("run_id", "record_key"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="linkagerun.id", index=True)
    source: str = Field(max_length=64, index=True)
    record_key: str = Field(max_length=64)  # keyed hash of the partner's record id
    study_id: str = Field(max_length=16)  # the candidate (a mother's, for child sources)
    probability: float
    # Vault ciphertext of the standardised identifiers side by side (identity zone).
    comparison: str = Field(sa_type=Text)
    # Child sources: which child the record is, as ``ChildParticipant`` keys it.
    child_nhs_index: str | None = Field(default=None, max_length=64)
    child_birth_key: str | None = Field(default=None, max_length=64)
    # pending, accepted, rejected, or superseded (its record came again in a later file)
    decision: str = Field(default="pending", max_length=16, index=True)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class ChildParticipant(SQLModel, table=True):
    """A cohort mother's child, met in a child source: a study ID of its own, tied to hers,
    kept across sources. Found by the blind index of its NHS number or, without one, by a
    keyed hash of its mother, birthday and sex."""

    id: int | None = Field(default=None, primary_key=True)
    study_id: str = Field(unique=True, index=True, max_length=16)
    mother_id: int = Field(foreign_key="participant.id", index=True)
    nhs_index: str | None = Field(default=None, unique=True, index=True, max_length=64)
    birth_key: str = Field(index=True, max_length=64)
    created_at: datetime = _ts()


class LinkageLock(SQLModel, table=True):
    """Held while a source runs (SQLite; PostgreSQL also takes an advisory lock)."""

    source: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)  # host:pid, so a dead holder's lock can be freed
    acquired_at: datetime = _ts()


# Research: the extracts made for projects, and which participants each one holds (by
# participant row id, never in the extract itself) so a later full withdrawal flags it.


class Extract(SQLModel, table=True):
    """One extract written for a project under ``data_dir/extracts/<code>/<id>/``."""

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    requested_by: str = Field(max_length=64)
    created_at: datetime = _ts()
    snapshot_at: datetime = Field(sa_type=DateTime(timezone=True))
    # The definition it was made from: datasets, variables, date granularity.
    definition: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The manifest's files: [{"name", "rows", "bytes", "sha256"}].
    files: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    deleted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class ExtractMember(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("extract_id", "participant_id"),)
    id: int | None = Field(default=None, primary_key=True)
    extract_id: int = Field(foreign_key="extract.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)


# Governance: consent-rate counts of closed days (and closed months, for the splits by a
# recorded value), rolled up once so a dashboard page reads a few thousand rows, not every
# consent and decline of its period.


class ApproachCount(SQLModel, table=True):
    """Enrolments and declines at one site in one closed bucket: a day (``YYYY-MM-DD``) for
    split ``all``, a month (``YYYY-MM``) for the midwife, language, ethnicity and age-band
    splits. ``value`` is the split's value as text, empty when not recorded (and for ``all``)."""

    __table_args__ = (UniqueConstraint("bucket", "site_id", "split", "value"),)
    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(max_length=10)
    site_id: int = Field(foreign_key="site.id")
    split: str = Field(max_length=16)
    value: str = Field(max_length=64)
    consented: int
    declined: int


class BirthCount(SQLModel, table=True):
    """All births (pregnancies booked) in one month in one delivered maternity file, members
    of the cohort or not, by the mother's age band and ethnicity: the representativeness
    page's comparison. Counts only, from ``linkage_jobs.births``: no identifier, no record
    id. ``file_sha256`` names the delivery, so a file counted again replaces its own counts.
    ``age_band`` and ``ethnicity`` are the consent form's codes, empty when not known;
    ``site_id`` is the site the source's spec names, null for the whole network."""

    __table_args__ = (
        UniqueConstraint("file_sha256", "month", "age_band", "ethnicity", "imd_decile"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64)
    file_sha256: str = Field(max_length=64, index=True)
    site_id: int | None = Field(default=None, foreign_key="site.id")
    month: str = Field(max_length=7, index=True)  # YYYY-MM
    age_band: str = Field(max_length=16)
    ethnicity: str = Field(max_length=64)
    imd_decile: str = Field(default="", max_length=2)  # empty: no lookup, or postcode not in it
    births: int


class ImdPostcode(SQLModel, table=True):
    """The loaded postcode-to-deprivation lookup (English IMD 2019): a published area
    statistic per postcode, identifying no one. Replaced whole by each load."""

    postcode: str = Field(primary_key=True, max_length=8)  # as forms.validation spaces it
    decile: int  # 1 most deprived .. 10 least


class ImdLookup(SQLModel, table=True):
    """Each load of the lookup: what the governance page shows as the one in force."""

    id: int | None = Field(default=None, primary_key=True)
    file_name: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    rows: int
    loaded_by: str = Field(max_length=64)
    loaded_at: datetime = _ts()
