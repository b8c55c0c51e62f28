"""The three levels of withdrawal, weakest first, and what each one stops.

Each level includes the ones before it. What a level stops is applied by
``cohort.scope.consent_scope`` the moment the withdrawal is recorded; whether linked data
already in the research store may be kept is what sets "no further data" apart from a
full withdrawal. Titles and explanations are the words staff read to the woman.
"""

from dataclasses import dataclass

from cohort.consent_items import CONSENT_ITEMS
from cohort.errors import CohortError
from forms.i18n import N_


@dataclass(frozen=True)
class Level:
    code: str
    title: str
    explanation: str
    stops: frozenset[str]  # the consent items it ends
    keeps_linked_data: bool  # whether data linked before it may still be used


LEVELS = (
    Level(
        "no_contact",
        N_("No further contact"),
        N_(
            "The study will not contact her again. Her records and her baby's records "
            "stay linked as she agreed."
        ),
        frozenset({"contact"}),
        keeps_linked_data=True,
    ),
    Level(
        "no_data",
        N_("No further data"),
        N_(
            "No more records are linked and she is not contacted. Information linked "
            "before today is kept and may still be used in research."
        ),
        frozenset(CONSENT_ITEMS),
        keeps_linked_data=True,
    ),
    Level(
        "full",
        N_("Full withdrawal"),
        N_(
            "No more records are linked, she is not contacted, and information already "
            "linked is removed from the research data."
        ),
        frozenset(CONSENT_ITEMS),
        keeps_linked_data=False,
    ),
)
BY_CODE = {level.code: level for level in LEVELS}
CHOOSE = N_("Choose how far she is withdrawing")


def level(code: str) -> Level:
    try:
        return BY_CODE[code]
    except KeyError:
        raise CohortError(CHOOSE, field="level") from None


def strongest(codes: list[str]) -> Level | None:
    """The furthest-reaching of the levels recorded, or None when there are none."""
    recorded = [BY_CODE[code] for code in codes]
    return max(recorded, key=LEVELS.index, default=None)
