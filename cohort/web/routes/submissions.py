"""``/submissions/{token}``: where every save redirects (post, redirect, get)."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cohort.web.confirmation import confirmation_page
from cohort.web.deps import DbSession, MidwifeOrDataManager

router = APIRouter(include_in_schema=False)


@router.get("/submissions/{token}")
def confirmation(
    request: Request, token: str, user: MidwifeOrDataManager, db: DbSession
) -> Response:
    return confirmation_page(request, db, user, token)
