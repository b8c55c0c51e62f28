"""Sites: the trusts of the network (BaBi has 13), each with a short code staff recognise."""

import re

from sqlmodel import Session, select

from cohort import audit
from cohort.control_characters import has_control
from cohort.errors import CohortError, Conflict, NotFound
from cohort.i18n import refusal
from cohort.models import Site
from forms.i18n import N_

CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9-]{1,15}")
NAME_MAX = 200

# Refusals, marked so a page shows them in the UI language; values stay out of the text.
BAD_CODE = N_("site code must be 2 to 16 letters, digits or dashes, such as BRADFORD or RAE")
NO_NAME = N_("site name is missing")
CONTROL_IN_NAME = N_("site name must not contain invisible control characters")
NAME_TOO_LONG = N_("site name must be at most %(max)s characters")
CODE_TAKEN = N_("a site with code %(code)s already exists")
NO_SUCH_CODE = N_("there is no site with code %(code)s")
NO_SUCH_NUMBER = N_("there is no site number %(number)s")


def _normalise_code(code: str) -> str:
    normal = code.strip().upper()
    if not CODE_PATTERN.fullmatch(normal):
        raise CohortError(BAD_CODE, field="code")
    return normal


def _normalise_name(name: str) -> str:
    normal = " ".join(name.split())
    if not normal:
        raise CohortError(NO_NAME, field="name")
    if has_control(normal):
        raise CohortError(CONTROL_IN_NAME, field="name")
    if len(normal) > NAME_MAX:
        raise refusal(CohortError, NAME_TOO_LONG, field="name", max=NAME_MAX)
    return normal


def _find(session: Session, code: str) -> Site | None:
    return session.exec(select(Site).where(Site.code == code)).first()


def add_site(session: Session, code: str, name: str, actor: str) -> Site:
    normal_code, normal_name = _normalise_code(code), _normalise_name(name)
    if _find(session, normal_code) is not None:
        raise refusal(Conflict, CODE_TAKEN, field="code", code=normal_code)
    site = Site(code=normal_code, name=normal_name)
    session.add(site)
    session.flush()
    audit.record(
        session, actor=actor, action="site.add", detail={"code": site.code, "name": site.name}
    )
    return site


def list_sites(session: Session) -> list[Site]:
    return list(session.exec(select(Site).order_by(Site.code)).all())


def get_site(session: Session, code: str) -> Site:
    site = _find(session, code.strip().upper())
    if site is None:
        raise refusal(NotFound, NO_SUCH_CODE, field="site", code=repr(code.strip()))
    return site


def get_site_by_id(session: Session, site_id: int) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        raise refusal(NotFound, NO_SUCH_NUMBER, field="site", number=site_id)
    return site
