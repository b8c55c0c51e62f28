"""Recording a withdrawal: by a midwife for a woman of her own site, or by a data manager
for anyone. It takes effect at once (``cohort.scope.consent_scope`` reads it on the next
call), is audited, and is done once however often the form is sent."""

from sqlmodel import Session

from cohort import access, audit, idempotency
from cohort.errors import Conflict, Forbidden
from cohort.models import User, Withdrawal
from cohort.scope import withdrawal_level
from cohort.withdrawal_levels import LEVELS, Level, level
from forms.i18n import N_

RECORDED_BY = ("midwife", "data_manager")
ACTION = "withdrawal"
ALREADY = N_("She has already withdrawn at this level or further")


def further_levels(current: Level | None) -> tuple[Level, ...]:
    """The levels that would still change something after ``current``."""
    return LEVELS if current is None else LEVELS[LEVELS.index(current) + 1 :]


def record_withdrawal(
    session: Session,
    *,
    study_id: str,
    level_code: str,
    user: User,
    token: str,
    source: str | None = None,
) -> idempotency.Done:
    """Withdraw the participant at ``level_code``; a level no further than one already
    recorded is refused, since it would change nothing."""
    if user.role not in RECORDED_BY:
        raise Forbidden(f"a {user.role.replace('_', ' ')} cannot record withdrawals")
    participant = access.participant_for(session, user, study_id)
    chosen = level(level_code)

    def record() -> dict[str, object]:
        if chosen not in further_levels(withdrawal_level(session, participant.id)):
            raise Conflict(ALREADY, field="level")
        row = Withdrawal(participant_id=participant.id, level=chosen.code, recorded_by=user.id)
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor=user.username,
            action="withdrawal.record",
            participant=participant.study_id,
            source=source,
            detail={"level": chosen.code},
        )
        return {"study_id": participant.study_id, "withdrawal_id": row.id}

    return idempotency.once(session, token, user=user, action=ACTION, record=record)
