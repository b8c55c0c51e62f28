"""Consents as FHIR R4 ``Consent`` resources: one per participant and instrument version,
and one per decline.

Status: a participant's statement under the version her latest consent was taken under
is ``active`` until a withdrawal leaves her consent allowing nothing, then ``inactive``;
one under an older version is ``inactive`` (superseded); a decline is ``rejected``.
The provision denies by default and permits or denies each data category (her health,
her baby's health, council records, recontact) as her consent, with withdrawals applied,
allows now. The patient is named by NHS number only for roles that may see identifiers,
otherwise by study ID; a decline names nobody.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, select

from cohort import audit, vault
from cohort.access import can_reach, participant_for
from cohort.config import Settings
from cohort.consent_items import CONSENT_ITEMS, ITEM_LABELS
from cohort.db import id_chunks
from cohort.errors import CohortError, NotFound
from cohort.interop.roles import sees_identifiers
from cohort.keys import KeyRing
from cohort.models import SITE_SCOPED_ROLES, Consent, Decline, Participant, Site, User
from cohort.scope import scope_of, withdrawal_levels

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
SCOPE = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/consentscope",
            "code": "research",
            "display": "Research",
        }
    ]
}
CATEGORY = [
    {"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]},
    {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/consentcategorycodes",
                "code": "research",
                "display": "Research Information Access",
            }
        ]
    },
]
STATUSES = ("active", "inactive", "rejected")
DECLINE_PREFIX = "decline-"
NO_CONSENT = "there is no Consent {id}"
BAD_STATUS = "status must be one of: active, inactive, rejected"
BAD_PATIENT = (
    "patient:identifier must be {nhs}|<NHS number> or {study}|<study ID>; patient a study ID"
)


@dataclass(frozen=True)
class Systems:
    """The URIs of the cohort's own identifiers and codes, from the settings."""

    study_id: str
    consent_item: str
    instrument: str
    policy: str

    @classmethod
    def of(cls, settings: Settings) -> "Systems":
        base = settings.fhir_system_base.rstrip(":/")
        joiner = ":" if base.startswith("urn:") else "/"
        return cls(
            study_id=f"{base}{joiner}study-id",
            consent_item=f"{base}{joiner}consent-item",
            instrument=f"{base}{joiner}instrument",
            policy=settings.fhir_policy_uri,
        )


@dataclass(frozen=True)
class Statement:
    """Her consent under one instrument version: its latest row, and what holds now."""

    participant: Participant
    site: Site
    consent: Consent
    current: bool  # her latest consent row is under this version
    allowed: dict[str, bool]  # each data category, withdrawals applied when current

    @property
    def resource_id(self) -> str:
        return resource_id(self.participant.study_id, self.consent.form_version)


def resource_id(study_id: str, version: str) -> str:
    """FHIR ids are letters, digits, dashes and dots: the study ID, a dot, the version."""
    return f"{study_id}.{version.replace('_', '-')}"


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _aware(at: datetime) -> str:
    return _utc(at).isoformat()


def her_statements(
    participant: Participant, site: Site, rows: list[Consent], levels: list[str]
) -> list[Statement]:
    """Her statements, one per instrument version she consented under, oldest first, from
    her consent rows (in id order) and the levels of her withdrawals."""
    if not rows:
        return []
    latest_by_version = {row.form_version: row for row in rows}
    scope = scope_of(rows[-1], levels)
    found = []
    for row in sorted(latest_by_version.values(), key=lambda r: r.id):
        current = row.id == rows[-1].id
        allowed = scope.items if current else {i: bool(row.items.get(i)) for i in CONSENT_ITEMS}
        found.append(Statement(participant, site, row, current, allowed))
    return found


def statements(session: Session, participants: list[Participant]) -> list[Statement]:
    """The statements of many participants, in their order: their consents, sites and
    withdrawals read in a few queries (chunks of ids), not a handful per participant."""
    ids = [p.id for p in participants]
    rows: dict[int, list[Consent]] = {}
    for chunk in id_chunks(ids):
        query = select(Consent).where(Consent.participant_id.in_(chunk)).order_by(Consent.id)
        for row in session.exec(query):
            rows.setdefault(row.participant_id, []).append(row)
    site_ids = {p.site_id for p in participants}
    sites = {s.id: s for s in session.exec(select(Site).where(Site.id.in_(site_ids)))}
    levels = withdrawal_levels(session, ids)
    return [
        statement
        for p in participants
        for statement in her_statements(
            p, sites[p.site_id], rows.get(p.id, []), levels.get(p.id, [])
        )
    ]


def _provision(
    systems: Systems, allowed: dict[str, bool], start: str, decided: bool
) -> dict[str, object]:
    parts = [
        {
            "type": "permit" if allowed.get(item) else "deny",
            "code": [
                {
                    "coding": [
                        {
                            "system": systems.consent_item,
                            "code": item,
                            "display": str(ITEM_LABELS[item]),
                        }
                    ]
                }
            ],
        }
        for item in CONSENT_ITEMS
    ]
    return {"type": "deny", "period": {"start": start}, "provision": parts if decided else []}


def _common(systems: Systems, site: Site, at: str, form: str, version: str) -> dict:
    return {
        "resourceType": "Consent",
        "scope": SCOPE,
        "category": CATEGORY,
        "dateTime": at,
        "performer": [
            {"identifier": {"system": ODS_SYSTEM, "value": site.code}, "display": site.name}
        ],
        "organization": [
            {"identifier": {"system": ODS_SYSTEM, "value": site.code}, "display": site.name}
        ],
        "policy": [{"uri": systems.policy}],
        "sourceReference": {
            "identifier": {"system": systems.instrument, "value": f"{form}|{version}"},
            "display": f"{form} version {version}",
        },
    }


def consent_resource(systems: Systems, statement: Statement, nhs_number: str | None) -> dict:
    """The statement as a Consent; ``nhs_number`` only for roles that may see it."""
    row = statement.consent
    at = _aware(row.recorded_at)  # when she gave it (a backfilled consent keeps its date)
    # The resource is new when she enrolled here, later than her consent if backfilled.
    changed = _aware(max(_utc(row.recorded_at), _utc(statement.participant.created_at)))
    active = statement.current and any(statement.allowed.values())
    patient = (
        {"system": NHS_NUMBER_SYSTEM, "value": nhs_number}
        if nhs_number
        else {"system": systems.study_id, "value": statement.participant.study_id}
    )
    return {
        **_common(systems, statement.site, at, row.form_name, row.form_version),
        "id": statement.resource_id,
        "meta": {"lastUpdated": changed},
        "status": "active" if active else "inactive",
        "patient": {"identifier": patient},
        "provision": _provision(systems, statement.allowed, at, decided=True),
    }


def decline_resource(systems: Systems, decline: Decline, site: Site) -> dict:
    at = _aware(decline.recorded_at)
    return {
        **_common(systems, site, at, decline.form_name, decline.form_version),
        "id": f"{DECLINE_PREFIX}{decline.id}",
        "meta": {"lastUpdated": at},
        "status": "rejected",
        "provision": _provision(systems, {}, at, decided=False),
    }


@dataclass
class Reader:
    """Reads Consent resources for one caller: her reach, and identifiers if allowed."""

    session: Session
    keys: KeyRing
    user: User
    systems: Systems
    source: str | None = None

    def _nhs_numbers(self, participants: list[Participant]) -> dict[int, str]:
        if not sees_identifiers(self.user):
            return {}
        ids = [p.id for p in participants]
        found = vault.read_fields(self.session, self.keys, ids, {"nhs_number"})
        for pid in ids:
            if pid not in found:
                raise NotFound(vault.NO_IDENTITY.format(id=pid))
        return {pid: plain["nhs_number"] for pid, plain in found.items()}

    def _audit(self, shown: list[Participant], nhs: dict[int, str]) -> None:
        if nhs:
            audit.record(
                self.session,
                actor=self.user.username,
                action="fhir.consent.read",
                source=self.source,
                detail={"identifiers": ["nhs_number"], "study_ids": [p.study_id for p in shown]},
            )

    def resources(self, participants: list[Participant]) -> list[dict]:
        nhs = self._nhs_numbers(participants)
        self._audit(participants, nhs)
        return [
            consent_resource(self.systems, statement, nhs.get(statement.participant.id))
            for statement in statements(self.session, participants)
        ]

    def read(self, consent_id: str) -> dict:
        """``GET Consent/{id}``: a participant's statement, or a decline."""
        if consent_id.startswith(DECLINE_PREFIX):
            return self._decline(consent_id)
        study_id = consent_id.split(".", 1)[0]
        try:
            participant = participant_for(self.session, self.user, study_id)
        except NotFound:
            raise NotFound(NO_CONSENT.format(id=consent_id[:80])) from None
        for resource in self.resources([participant]):
            if resource["id"] == consent_id:
                return resource
        raise NotFound(NO_CONSENT.format(id=consent_id[:80]))

    def _decline(self, consent_id: str) -> dict:
        number = consent_id.removeprefix(DECLINE_PREFIX)
        decline = self.session.get(Decline, int(number)) if number.isdigit() else None
        reachable = decline is not None and (
            self.user.role not in SITE_SCOPED_ROLES or decline.site_id == self.user.site_id
        )
        if not reachable:
            raise NotFound(NO_CONSENT.format(id=consent_id[:80]))
        return decline_resource(self.systems, decline, self.session.get(Site, decline.site_id))

    def _participant_by_identifier(self, token: str) -> list[Participant]:
        system, _, value = token.partition("|")
        if system == NHS_NUMBER_SYSTEM and sees_identifiers(self.user):
            found = vault.find_participant(self.session, self.keys, value)
            return [found] if found is not None and can_reach(self.user, found) else []
        if system == self.systems.study_id:
            return self._participant_by_study_id(value)
        raise CohortError(
            BAD_PATIENT.format(nhs=NHS_NUMBER_SYSTEM, study=self.systems.study_id),
            field="patient",
        )

    def _participant_by_study_id(self, study_id: str) -> list[Participant]:
        try:
            return [participant_for(self.session, self.user, study_id)]
        except NotFound:
            return []

    def _in_reach(self, site: Site | None) -> list[Participant]:
        query = select(Participant).order_by(Participant.id)
        if self.user.role in SITE_SCOPED_ROLES:
            query = query.where(Participant.site_id == self.user.site_id)
        if site is not None:
            query = query.where(Participant.site_id == site.id)
        return list(self.session.exec(query))

    def search(
        self, patient: str | None, patient_identifier: str | None, status: str | None
    ) -> list[dict]:
        """``GET Consent?patient=…&status=…``: participants' statements (not declines,
        which name no patient, unless only status=rejected is asked)."""
        if status is not None and status not in STATUSES:
            raise CohortError(BAD_STATUS, field="status")
        if patient_identifier:
            chosen = self._participant_by_identifier(patient_identifier)
        elif patient:
            chosen = self._participant_by_study_id(patient)
        else:
            chosen = self._in_reach(None)
        found = self.resources(chosen)
        if status == "rejected" and not (patient or patient_identifier):
            found += list(self._declines(None))
        return [r for r in found if status is None or r["status"] == status]

    def _declines(self, site: Site | None) -> Iterator[dict]:
        query = select(Decline, Site).join(Site, Site.id == Decline.site_id).order_by(Decline.id)
        if self.user.role in SITE_SCOPED_ROLES:
            query = query.where(Decline.site_id == self.user.site_id)
        if site is not None:
            query = query.where(Decline.site_id == site.id)
        for decline, its_site in self.session.exec(query):
            yield decline_resource(self.systems, decline, its_site)

    def site_export(self, site: Site) -> Iterator[dict]:
        """Every Consent of a site, declines included, for the bulk NDJSON export."""
        if self.user.role in SITE_SCOPED_ROLES and site.id != self.user.site_id:
            raise NotFound(f"there is no site {site.code} you can export")
        yield from self.resources(self._in_reach(site))
        yield from self._declines(site)


def bundle(resources: list[dict], base_url: str) -> dict:
    """A searchset Bundle of ``resources``."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {
                "fullUrl": f"{base_url}/Consent/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ],
    }
