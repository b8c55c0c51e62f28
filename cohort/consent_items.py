"""The consent items a woman may agree to, one by one: the tick boxes of the consent form
(the ``consent_items`` codes of the babi_consent instrument) and the keys of every consent
record. Kept apart from the consent service so that code reading a participant's scope
never imports the identity vault."""

from cohort.errors import CohortError
from forms.i18n import N_

CONSENT_ITEMS = ("link_mother_health", "link_baby_health", "link_council", "contact")
# What each item allows, in staff's words (the form words them as hers: "Link my ...").
ITEM_LABELS = {
    "link_mother_health": N_("Link her health records"),
    "link_baby_health": N_("Link her baby's health records"),
    "link_council": N_("Link council records on education, early years and social care"),
    "contact": N_("Contact her about future research"),
}

NO_ITEM = N_("Tick at least one statement she agrees to, or record a decline")
UNKNOWN_ITEM = "unknown consent item(s): {names}; the items are {known}"


def check_items(items: dict[str, bool]) -> dict[str, bool]:
    """Every consent item, ticked or not; refused when unknown or when none is ticked."""
    unknown = set(items) - set(CONSENT_ITEMS)
    if unknown:
        raise CohortError(
            UNKNOWN_ITEM.format(names=", ".join(sorted(unknown)), known=", ".join(CONSENT_ITEMS)),
            field="consent_items",
        )
    if not any(items.values()):
        raise CohortError(NO_ITEM, field="consent_items")
    return {name: bool(items.get(name, False)) for name in CONSENT_ITEMS}
