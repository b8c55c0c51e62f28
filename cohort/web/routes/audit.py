"""The audit chain's state, checked on demand: a page and ``/api/v1/audit/verify``."""

from fastapi import APIRouter, Request
from pydantic import BaseModel

from cohort import audit
from cohort.web.deps import AuditReader, DbSession
from cohort.web.pages import render
from forms.i18n import N_

router = APIRouter(include_in_schema=False)
api = APIRouter(tags=["audit"])

TITLE = N_("Check the audit trail")


class ChainStatus(BaseModel):
    intact: bool
    events: int
    broken_at: int | None
    reason: str


@router.get("/governance/audit", summary=TITLE)
def audit_page(request: Request, user: AuditReader, db: DbSession, check: bool = False):
    return render(request, "audit.html", verdict=audit.verify(db) if check else None)


@api.get("/audit/verify")
def verify(user: AuditReader, db: DbSession) -> ChainStatus:
    """Walk the audit chain now; name the first altered, missing or moved event."""
    verdict = audit.verify(db)
    return ChainStatus(
        intact=verdict.ok, events=verdict.rows, broken_at=verdict.broken_seq, reason=verdict.reason
    )
