"""``GET /api/v1/health``: public, for load balancers; says only whether the database answers."""

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from cohort.web.deps import DbSession

api = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@api.get("/health")
def health(db: DbSession) -> Health:
    """Public: ``ok`` when the service and its database answer."""
    db.connection().execute(text("SELECT 1"))
    return Health(status="ok")
