"""A form specification: what the dictionary parser produces and everything else reads.

Frozen, so a parsed version can be cached and shared between requests, and a record
taken under it keeps its meaning.
"""

from dataclasses import dataclass
from functools import cached_property

from cohort.errors import NotFound
from forms.branching import Expr

TEXT_TYPES = ("text", "notes")
CHOICE_TYPES = ("radio", "dropdown", "checkbox")
# REDCap's two fixed-choice types, with the codes REDCap stores.
FIXED_CHOICES = {"yesno": (("1", "Yes"), ("0", "No")), "truefalse": (("1", "True"), ("0", "False"))}
FIELD_TYPES = (*TEXT_TYPES, *CHOICE_TYPES, *FIXED_CHOICES, "descriptive")


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str  # one of FIELD_TYPES
    label: str
    row: int  # where it is in the dictionary, as a spreadsheet numbers rows
    choices: tuple[Choice, ...] = ()  # radio, dropdown, checkbox, yesno, truefalse
    section_header: str = ""
    note: str = ""
    validation: str = ""  # a forms.validation rule name, text fields only
    minimum: str = ""
    maximum: str = ""
    identifier: bool = False  # Identifier? = y: the answer goes to the vault
    required: bool = False  # when shown
    branching: Expr | None = None  # shown only when this holds
    annotation: str = ""

    @property
    def takes_answer(self) -> bool:
        return self.type != "descriptive"

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(choice.code for choice in self.choices)


@dataclass(frozen=True)
class Translations:
    """Translations of a version's text uploaded at run time, by language: pairs of
    (English, translation), kept sorted so equal sets compare and hash equal and a cache
    keyed by the spec sees a new upload as a new spec."""

    by_language: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    @classmethod
    def of(cls, languages: dict[str, dict[str, str]]) -> "Translations":
        return cls(
            tuple(
                (language, tuple(sorted(entries.items())))
                for language, entries in sorted(languages.items())
            )
        )

    def get(self, language: str) -> dict[str, str]:
        """One language's translations (empty when none was uploaded)."""
        return dict(dict(self.by_language).get(language, ()))


@dataclass(frozen=True)
class FormSpec:
    name: str
    version: str
    fields: tuple[FieldSpec, ...]
    translations: Translations = Translations()

    @cached_property
    def _by_name(self) -> dict[str, FieldSpec]:
        return {field.name: field for field in self.fields}

    def field(self, name: str) -> FieldSpec:
        try:
            return self._by_name[name]
        except KeyError:
            raise NotFound(f"form {self.name} {self.version} has no field {name}") from None

    @property
    def answer_fields(self) -> tuple[FieldSpec, ...]:
        """The fields that take an answer (every type but descriptive), in form order."""
        return tuple(field for field in self.fields if field.takes_answer)
