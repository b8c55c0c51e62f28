"""All births in the period, from the maternity files' counts (``BirthCount``, written by
``linkage_jobs.births``): the representativeness page's third comparison, beside the
consented and the approached.

Births are counted by month of booking, so a period takes every month it touches, whole
(as the consent rate by month does). With a site chosen, the births are that site's when
the maternity source names the site (``[births] site`` in its spec), and otherwise the
whole network's: ``network_wide`` says which, for the page to say so."""

from sqlalchemy import func
from sqlmodel import Session, select

from cohort.governance.filters import Filters
from cohort.governance.periods import months
from cohort.models import BirthCount

NOT_KNOWN = ""  # an age band or ethnicity not known, as BirthCount keeps it
COLUMNS = {
    "ethnicity": BirthCount.ethnicity,
    "age_band": BirthCount.age_band,
    "imd_decile": BirthCount.imd_decile,
}


def any_counted(session: Session) -> bool:
    """Whether any maternity file has been counted (else the page has no births column)."""
    return session.exec(select(BirthCount.id).limit(1)).first() is not None


def network_wide(session: Session, filters: Filters) -> bool:
    """True when the births shown are the whole network's although a site is chosen (no
    maternity file's births are mapped to it); False for the network or a mapped site."""
    if filters.site is None:
        return False
    mapped = select(BirthCount.id).where(BirthCount.site_id == filters.site_id).limit(1)
    return session.exec(mapped).first() is None


def births_by(session: Session, filters: Filters, dimension: str) -> dict[str | None, int] | None:
    """Births in the months of the period by ``dimension`` (``ethnicity`` or ``age_band``,
    the consent form's codes, or ``imd_decile``, ``1`` to ``10``; None: not known); None
    while no maternity file is counted."""
    if not any_counted(session):
        return None
    column = COLUMNS[dimension]
    period = months(filters.start, filters.end)
    query = (
        select(column, func.sum(BirthCount.births))
        .where(BirthCount.month >= period[0], BirthCount.month <= period[-1])
        .group_by(column)
    )
    if filters.site is not None and not network_wide(session, filters):
        query = query.where(BirthCount.site_id == filters.site_id)
    found = session.exec(query).all()
    return {None if value == NOT_KNOWN else value: int(n) for value, n in found}
