"""Hostile text for the stored-XSS specs (browser and page), and the consent form's
dictionary and translation file with it in every cell a data manager or translator fills.
"""

import csv
import io

from babel.messages.pofile import read_po, write_po
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cohort import capture, consent_instrument
from cohort.db import session_scope
from cohort.keys import KeyRing
from cohort.models import User
from forms import registry, uploaded_translations
from tests.consent_world import CONSENT, NHS_NUMBER

MARK = "window.__xss=1;console.log('XSS-RAN')"
PAYLOADS = [
    f"<script>{MARK}</script>",
    f'"><img src=x onerror="{MARK}">',
    f'\'><svg onload="{MARK}">',
    f"javascript:{MARK}",
]
PAYLOAD = " ".join(PAYLOADS)[:190]  # within every field's length limit
ESCAPED = "&lt;script&gt;window.__xss=1"  # how PAYLOAD starts in a page's HTML
RAW = ("<script>window", "<img src=x", "<svg onload")  # any of them in HTML is markup
# What the published version changes: (field, dictionary column) -> the hostile text.
HOSTILE_CELLS = {
    ("leaflet_given", "Field Label"): PAYLOAD,
    ("given_name", "Field Note"): PAYLOAD,
    ("nhs_number", "Section Header"): PAYLOAD,
}
NEW_QUESTIONS = [  # (name, type, identifier?): label, note and section header hostile
    ("address", "text", "y"),
    ("notes", "notes", ""),
]


def hostile_dictionary(also: dict[tuple[str, str], str] | None = None) -> str:
    """The shipped consent form with hostile texts in every kind of cell users see (and
    in the cells ``also`` names)."""
    cells = HOSTILE_CELLS | (also or {})
    rows = list(csv.DictReader(io.StringIO(registry.shipped_text(capture.FORM))))
    at = next(i for i, r in enumerate(rows) if r["Variable / Field Name"] == "postcode") + 1
    for offset, (name, kind, identifier) in enumerate(NEW_QUESTIONS):
        new = dict.fromkeys(rows[0], "") | {
            "Variable / Field Name": name,
            "Form Name": capture.FORM,
            "Section Header": PAYLOAD,
            "Field Type": kind,
            "Field Label": PAYLOAD,
            "Field Note": PAYLOAD,
            "Identifier?": identifier,
            "Branching Logic (Show field only if...)": "[outcome] = '1'",
        }
        rows.insert(at + offset, new)
    for row in rows:
        for (name, column), text in cells.items():
            if row["Variable / Field Name"] == name:
                row[column] = text
        if row["Variable / Field Name"] in (capture.ITEMS_FIELD, "ethnicity"):
            choices = row["Choices, Calculations, OR Slider Labels"].split(" | ")
            hostile = [c.replace(", ", f", {PAYLOADS[1]} ", 1) for c in choices]
            row["Choices, Calculations, OR Slider Labels"] = " | ".join(hostile)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def hostile_translations(session: Session, language: str) -> bytes:
    """The version's translation file, every text translated to a payload."""
    catalog = read_po(
        io.BytesIO(
            uploaded_translations.template(registry.current(session, capture.FORM), language)
        )
    )
    for message in catalog:
        if message.id:
            message.string = f"{PAYLOAD} {message.id}"
    out = io.BytesIO()
    write_po(out, catalog, width=0)
    return out.getvalue()


def publish_hostile_form(engine: Engine, actor: str) -> bytes:
    """Publish the hostile dictionary as the consent form's current version and take its
    hostile Urdu translations, as a data manager does; the translation file taken."""
    with session_scope(engine) as db:
        consent_instrument.publish(db, hostile_dictionary(), version="2-xss", actor=actor)
    with session_scope(engine) as db:
        translations = hostile_translations(db, "ur")
        uploaded_translations.store(db, uploaded_translations.read(db, translations), actor)
    return translations


def enrol_hostile_mother(engine: Engine, keys: KeyRing, midwife: User) -> str:
    """A consent on the hostile form: her names, address and notes answer hostile."""
    hostile = dict.fromkeys(("given_name", "family_name", "address", "notes"), PAYLOAD)
    with session_scope(engine) as db:
        done = capture.record_answers(
            db,
            keys,
            registry.current(db, capture.FORM),
            CONSENT | {"nhs_number": NHS_NUMBER} | hostile,
            user=midwife,
            token="xss-hostile-mother-0001",
        )
    return done.result["study_id"]


def shown_as_text(html: str) -> bool:
    """Whether a page holds the payload escaped, and none of it as markup."""
    return ESCAPED in html and not any(raw in html for raw in RAW)
