"""FHIR R4 Consent (``cohort.interop.fhir_consent``):

- ``GET /fhir/Consent/{id}``: one participant's statement under one instrument version,
  or a decline (``decline-<n>``);
- ``GET /fhir/Consent?patient=<study ID>&status=…`` or
  ``?patient:identifier=<system>|<value>`` (NHS number or study ID): a searchset Bundle;
- ``GET /fhir/sites/{site_code}/Consent.ndjson``: every Consent of a site, declines
  included, one resource per line (a synchronous bulk export).

Token (``Authorization: Bearer``) or signed-in session; refusals are OperationOutcomes.
"""

import json
from typing import Annotated

from fastapi import Depends, Query, Request, Response
from fastapi.routing import APIRouter

from cohort.interop.fhir_consent import Reader, Systems, bundle
from cohort.interop.roles import FHIR_ROLES
from cohort.models import User
from cohort.sites import get_site
from cohort.web.deps import InstanceDep, Source, requires
from cohort.web.routes.interop_errors import InteropSession, shaped_route

FHIR_JSON = "application/fhir+json"
FHIR_NDJSON = "application/fhir+ndjson"
ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 409: "conflict"}


def operation_outcome(request: Request, status: int, message: str) -> Response:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": ISSUE_CODES.get(status, "exception"),
                "diagnostics": message,
            }
        ],
    }
    return Response(json.dumps(outcome), status, media_type=FHIR_JSON)


router = APIRouter(include_in_schema=False, route_class=shaped_route(operation_outcome))
FhirUser = Annotated[User, Depends(requires(*FHIR_ROLES))]


def _reader(db, instance, user: User, source: str | None) -> Reader:
    return Reader(db, instance.keys, user, Systems.of(instance.settings), source)


def _fhir(resource: dict) -> Response:
    return Response(json.dumps(resource, ensure_ascii=False), media_type=FHIR_JSON)


@router.get("/fhir/sites/{site_code}/Consent.ndjson")
def site_export(
    site_code: str, user: FhirUser, db: InteropSession, instance: InstanceDep, source: Source
) -> Response:
    reader = _reader(db, instance, user, source)
    resources = reader.site_export(get_site(db, site_code))
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in resources)
    return Response(body, media_type=FHIR_NDJSON)


@router.get("/fhir/Consent")
def search(
    request: Request,
    user: FhirUser,
    db: InteropSession,
    instance: InstanceDep,
    source: Source,
    patient: str | None = None,
    patient_identifier: Annotated[str | None, Query(alias="patient:identifier")] = None,
    status: str | None = None,
) -> Response:
    reader = _reader(db, instance, user, source)
    found = reader.search(patient, patient_identifier, status)
    return _fhir(bundle(found, str(request.base_url).rstrip("/") + "/fhir"))


@router.get("/fhir/Consent/{consent_id}")
def read(
    consent_id: str, user: FhirUser, db: InteropSession, instance: InstanceDep, source: Source
) -> Response:
    return _fhir(_reader(db, instance, user, source).read(consent_id))
