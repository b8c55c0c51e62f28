"""What a grouped value is called on the dashboard: sites by name, midwives by name or by
code (the site-lead rule, ``reach.py``), and codes of the consent form's choices by the
labels the midwife saw."""

from collections.abc import Iterable

from sqlmodel import Session, select

from cohort.errors import NotFound
from cohort.models import Site, User
from forms import registry
from forms.i18n import N_

NOT_RECORDED = N_("Not recorded")
CONSENT_FORM = "babi_consent"
# The consent form's field holding each dimension's codes.
FORM_FIELDS = {
    "language": "discussion_language",
    "ethnicity": "ethnicity",
    "age_band": "age_band",
}


def choice_labels(session: Session, dimension: str) -> dict[str, str]:
    """Code -> label from the current consent form (codes only when none is published)."""
    try:
        field = registry.current(session, CONSENT_FORM).field(FORM_FIELDS[dimension])
    except NotFound:
        return {}
    return {choice.code: choice.label for choice in field.choices}


def site_labels(session: Session) -> dict[int, str]:
    return {s.id: f"{s.name} ({s.code})" for s in session.exec(select(Site)).all()}


def midwife_labels(session: Session, user_ids: Iterable[int], names: bool) -> dict[int, str]:
    """Names for a site lead; otherwise a code per midwife (site code and her place among
    the site's staff accounts by age), stable and meaningless outside the dashboard."""
    wanted = set(user_ids)
    if names:
        users = session.exec(select(User).where(User.id.in_(wanted))).all()
        return {u.id: u.full_name for u in users}
    sites = {s.id: s.code for s in session.exec(select(Site)).all()}
    staff = session.exec(select(User.id, User.site_id).order_by(User.id)).all()
    codes, seen = {}, dict.fromkeys(sites, 0)
    for user_id, site_id in staff:
        if site_id is None:
            continue
        seen[site_id] += 1
        if user_id in wanted:
            codes[user_id] = f"{sites[site_id]}-M{seen[site_id]:02d}"
    return codes


def label(labels: dict, key: object) -> str:
    if key is None:
        return NOT_RECORDED
    return labels.get(key, str(key))
