"""The short summary of the information leaflet that the consent page shows in the woman's
language beside the midwife's: what the study is, what joining means, and that it is her
choice. Translated through the catalogs like every other participant-facing statement."""

from forms.i18n import N_

SUMMARY = (
    N_(
        "Born and Bred In is a study of families in our area. It finds out what helps "
        "children grow up healthy and happy."
    ),
    N_(
        "If you join, the study links information already kept about you and your baby: "
        "your health records and, if you agree, council records about education, early "
        "years and social care."
    ),
    N_(
        "Your name, date of birth, address and NHS number are kept apart and locked away. "
        "Researchers never see them."
    ),
    N_(
        "Joining is your choice. Saying no does not change your care. You can leave the "
        "study at any time by telling your midwife."
    ),
)
