"""A participant's consent as a page shows it, in the midwife's UI language: her scope
item by item, her history with dates in the locale's format, and the actions still open
to this user. Used by her own page, the duplicate-NHS-number page and confirmations."""

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session

from cohort import access, i18n
from cohort.consent_items import ITEM_LABELS
from cohort.consent_update import UPDATED_BY, can_change
from cohort.models import User
from cohort.participant_status import Event, ParticipantStatus, status
from cohort.web import ui_language
from cohort.web.pages import render
from cohort.withdrawal import RECORDED_BY, further_levels
from cohort.withdrawal_levels import BY_CODE
from forms.i18n import N_, Gettext

CONSENTED = N_("Consented")
NO_CONSENT = N_("No consent recorded")
EVENT_TITLES = {
    "consent": N_("Consent recorded"),
    "update": N_("Consent updated"),
    "withdrawal": N_("Withdrawal recorded"),
}


@dataclass(frozen=True)
class ParticipantView:
    study_id: str
    site: str
    joined: str
    state: str  # consented, or the withdrawal level's title
    scope: list[tuple[str, bool]]  # (item label, allowed now)
    history: list[dict[str, str]]  # date, what, detail, by, language
    can_update: bool
    can_withdraw: bool


def _detail(event: Event, gettext: Gettext) -> str:
    """The level withdrawn to, or the items agreed to (one per line)."""
    if event.level is not None:
        return gettext(BY_CODE[event.level].title)
    return "\n".join(gettext(ITEM_LABELS[item]) for item, on in (event.items or {}).items() if on)


def _state(found: ParticipantStatus) -> str:
    """The withdrawal level's title once she has withdrawn; whether she consented before."""
    if found.scope.withdrawal is not None:
        return found.scope.withdrawal.title
    return CONSENTED if found.joined_at else NO_CONSENT


def _history_row(event: Event, ui: str, gettext: Gettext) -> dict[str, str]:
    language = gettext(i18n.language(event.language).english_name) if event.language else ""
    return {
        "date": i18n.format_date(event.at, ui),
        "what": gettext(EVENT_TITLES[event.kind]),
        "detail": _detail(event, gettext),
        "by": event.by,
        "language": language,
    }


def view(found: ParticipantStatus, user: User, ui: str) -> ParticipantView:
    gettext = i18n.gettext(ui)
    withdrawal = found.scope.withdrawal
    return ParticipantView(
        study_id=found.study_id,
        site=f"{found.site_name} ({found.site_code})",
        joined=i18n.format_date(found.joined_at, ui) if found.joined_at else "",
        state=gettext(_state(found)),
        scope=[(gettext(ITEM_LABELS[item]), on) for item, on in found.scope.items.items()],
        history=[_history_row(event, ui, gettext) for event in found.history],
        can_update=user.role in UPDATED_BY and can_change(withdrawal),
        can_withdraw=user.role in RECORDED_BY and bool(further_levels(withdrawal)),
    )


def participant_view(request: Request, db: Session, user: User, study_id: str) -> ParticipantView:
    """Her view for ``user``, or NotFound when she is not within the user's reach."""
    participant = access.participant_for(db, user, study_id)
    return view(status(db, participant), user, ui_language.current(request))


def participant_page(
    request: Request,
    db: Session,
    user: User,
    study_id: str,
    *,
    already_enrolled: bool = False,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "participant.html",
        status_code=status_code,
        participant=participant_view(request, db, user, study_id),
        already_enrolled=already_enrolled,
    )
