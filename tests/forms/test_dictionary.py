"""The REDCap data dictionary parser: what a well-formed dictionary becomes, and how each
malformed one is refused, naming the row (the header is row 1) and the column."""

import pytest

from cohort import consent, synth, vault
from forms.branching import parse as parse_logic
from forms.dictionary import HEADERS, DictionaryError, parse
from forms.spec import Choice, FieldSpec
from tests.forms.conftest import KEYS, SHIPPED, dictionary_csv

EVERY_TYPE = (
    {"field_name": "intro", "field_type": "descriptive", "field_label": "Read this first"},
    {
        "field_name": "nhs",
        "field_label": "NHS number",
        "section_header": "About her",
        "field_note": "10 digits",
        "text_validation_type_or_show_slider_number": "nhs_number",
        "identifier": "y",
        "required_field": "y",
    },
    {
        "field_name": "age",
        "text_validation_type_or_show_slider_number": "integer",
        "text_validation_min": "16",
        "text_validation_max": "50",
    },
    {"field_name": "story", "field_type": "notes"},
    {
        "field_name": "outcome",
        "field_type": "radio",
        "select_choices_or_calculations": "1, Yes, she agrees | 0, No",
    },
    {
        "field_name": "lang",
        "field_type": "dropdown",
        "select_choices_or_calculations": "en, English",
    },
    {
        "field_name": "items",
        "field_type": "checkbox",
        "select_choices_or_calculations": "a, Link A | b, Link B",
        "branching_logic": "[outcome] = '1'",
    },
    {"field_name": "agreed", "field_type": "yesno", "field_annotation": "@HIDDEN"},
    {"field_name": "sure", "field_type": "TrueFalse"},
)


def test_every_field_type_parses_into_its_spec():
    spec = parse(dictionary_csv(*EVERY_TYPE), version="2.1")
    assert (spec.name, spec.version) == ("f", "2.1")
    assert spec.fields == (
        FieldSpec("intro", "descriptive", "Read this first", row=2),
        FieldSpec(
            "nhs",
            "text",
            "NHS number",
            row=3,
            section_header="About her",
            note="10 digits",
            validation="nhs_number",
            identifier=True,
            required=True,
        ),
        FieldSpec(
            "age", "text", "A question", row=4, validation="integer", minimum="16", maximum="50"
        ),
        FieldSpec("story", "notes", "A question", row=5),
        FieldSpec(
            "outcome",
            "radio",
            "A question",
            row=6,
            choices=(Choice("1", "Yes, she agrees"), Choice("0", "No")),
        ),
        FieldSpec("lang", "dropdown", "A question", row=7, choices=(Choice("en", "English"),)),
        FieldSpec(
            "items",
            "checkbox",
            "A question",
            row=8,
            choices=(Choice("a", "Link A"), Choice("b", "Link B")),
            branching=parse_logic("[outcome] = '1'"),
        ),
        FieldSpec(
            "agreed",
            "yesno",
            "A question",
            row=9,
            choices=(Choice("1", "Yes"), Choice("0", "No")),
            annotation="@HIDDEN",
        ),
        FieldSpec(
            "sure",
            "truefalse",
            "A question",
            row=10,
            choices=(Choice("1", "True"), Choice("0", "False")),
        ),
    )


def test_metadata_api_names_and_any_column_order_read_the_same():
    columns = list(reversed(KEYS))
    assert parse(
        dictionary_csv(*EVERY_TYPE, columns=columns, short_names=True), version="1"
    ) == parse(dictionary_csv(*EVERY_TYPE), version="1")


def test_only_the_four_essential_columns_are_needed():
    essential = ["field_name", "form_name", "field_type", "field_label"]
    spec = parse(dictionary_csv({"field_name": "a"}, columns=essential), version="1")
    assert spec.fields == (FieldSpec("a", "text", "A question", row=2),)


def test_excel_habits_are_accepted_bom_crlf_blank_rows_and_trailing_commas():
    header, a, b = dictionary_csv({"field_name": "a"}, {"field_name": "b"}).splitlines()
    text = "\ufeff" + "\r\n".join([header + ",,", a, ",,,,", b, ""])
    spec = parse(text.encode(), version="1")
    assert [(f.name, f.row) for f in spec.fields] == [("a", 2), ("b", 4)]


def test_a_label_may_span_lines_and_rows_stay_numbered_as_in_a_spreadsheet():
    text = dictionary_csv(
        {"field_name": "a", "field_label": "Line one\nline two"}, {"field_name": "b"}
    )
    assert [(f.label, f.row) for f in parse(text, version="1").fields] == [
        ("Line one\nline two", 2),
        ("A question", 3),
    ]


LOGIC = HEADERS["branching_logic"]
CHOICES = HEADERS["select_choices_or_calculations"]
VALIDATION = HEADERS["text_validation_type_or_show_slider_number"]
NAME, TYPE = HEADERS["field_name"], HEADERS["field_type"]
RADIO = {
    "field_name": "outcome",
    "field_type": "radio",
    "select_choices_or_calculations": "1, Yes | 0, No",
}
CHECKBOX = {
    "field_name": "cb",
    "field_type": "checkbox",
    "select_choices_or_calculations": "a, A | b, B",
}

# why, the fields (row 2 onwards), the one problem: row, column, what it says
MALFORMED = [
    (
        "unknown type",
        [{"field_name": "a"}, {"field_name": "b"}, {"field_name": "c", "field_type": "slider2"}],
        (4, TYPE, 'unknown field type "slider2": use one of text, notes, radio'),
    ),
    (
        "repeated name",
        [{"field_name": "a"}, {"field_name": "a"}],
        (3, NAME, '"a" is already the name of row 2'),
    ),
    ("capital letters", [{"field_name": "Age"}], (2, NAME, "only lowercase letters, digits")),
    ("leading digit", [{"field_name": "1st"}], (2, NAME, "must start with a letter")),
    ("long name", [{"field_name": "a" * 101}], (2, NAME, "longer than 100 characters")),
    ("no name", [{"field_name": ""}], (2, NAME, "every field needs a name")),
    ("reserved name", [{"field_name": "errors"}], (2, NAME, "reserved by the form engine")),
    (
        "no label",
        [{"field_name": "a", "field_label": ""}],
        (2, HEADERS["field_label"], "needs a label"),
    ),
    (
        "radio without choices",
        [{**RADIO, "select_choices_or_calculations": ""}],
        (2, CHOICES, "needs choices"),
    ),
    (
        "choice without a comma",
        [{**RADIO, "select_choices_or_calculations": "1 Yes | 0, No"}],
        (2, CHOICES, 'choice 1 ("1 Yes") needs a code and a label'),
    ),
    (
        "choice without a label",
        [{**RADIO, "select_choices_or_calculations": "1, Yes | 0,"}],
        (2, CHOICES, "choice 2"),
    ),
    (
        "repeated code",
        [{**RADIO, "select_choices_or_calculations": "1, Yes | 1, No"}],
        (2, CHOICES, 'choice code "1" is used twice'),
    ),
    (
        "checkbox codes equal but for case",
        [{**CHECKBOX, "select_choices_or_calculations": "a, A | A, B"}],
        (2, CHOICES, 'choice code "A" is used twice'),
    ),
    (
        "code with a space",
        [{**RADIO, "select_choices_or_calculations": "y es, Yes"}],
        (2, CHOICES, "only letters, digits and underscores"),
    ),
    (
        "choices on a text field",
        [{"field_name": "a", "select_choices_or_calculations": "1, Yes"}],
        (2, CHOICES, "a text field takes no choices"),
    ),
    (
        "choices on a yesno field",
        [{"field_name": "a", "field_type": "yesno", "select_choices_or_calculations": "1, Yes"}],
        (2, CHOICES, "yesno fields have fixed choices"),
    ),
    (
        "unknown validation",
        [{"field_name": "a", "text_validation_type_or_show_slider_number": "zipcode"}],
        (2, VALIDATION, 'unknown validation "zipcode"'),
    ),
    (
        "validation on a radio",
        [{**RADIO, "text_validation_type_or_show_slider_number": "integer"}],
        (2, VALIDATION, "a radio field takes no validation"),
    ),
    (
        "bounds on an email",
        [
            {
                "field_name": "a",
                "text_validation_type_or_show_slider_number": "email",
                "text_validation_min": "1",
            }
        ],
        (2, HEADERS["text_validation_min"], "only the date_ymd, integer, number validations"),
    ),
    (
        "a minimum that is not a number",
        [
            {
                "field_name": "a",
                "text_validation_type_or_show_slider_number": "integer",
                "text_validation_min": "ten",
            }
        ],
        (2, HEADERS["text_validation_min"], '"ten" is not a valid integer value'),
    ),
    (
        "maximum below minimum",
        [
            {
                "field_name": "a",
                "text_validation_type_or_show_slider_number": "date_ymd",
                "text_validation_min": "2020-01-02",
                "text_validation_max": "2020-01-01",
            }
        ],
        (2, HEADERS["text_validation_max"], "the maximum 2020-01-01 is below the minimum"),
    ),
    (
        "identifier yes",
        [{"field_name": "a", "identifier": "yes"}],
        (2, HEADERS["identifier"], 'should be "y"'),
    ),
    (
        "required descriptive",
        [{"field_name": "a", "field_type": "descriptive", "required_field": "y"}],
        (2, HEADERS["required_field"], "a descriptive field takes no answer"),
    ),
    (
        "logic that does not parse",
        [RADIO, {"field_name": "a", "branching_logic": "[outcome] = "}],
        (3, LOGIC, "at character 12: expected a [field]"),
    ),
    (
        "logic reading an unknown field",
        [{"field_name": "a", "branching_logic": "[outcom] = '1'"}],
        (2, LOGIC, "[outcom] is not a field of this form"),
    ),
    (
        "checkbox read without a choice",
        [CHECKBOX, {"field_name": "a", "branching_logic": "[cb] = '1'"}],
        (3, LOGIC, "[cb] is a checkbox: name one of its choices, like [cb(a)]"),
    ),
    (
        "checkbox choice that does not exist",
        [CHECKBOX, {"field_name": "a", "branching_logic": "[cb(c)] = '1'"}],
        (3, LOGIC, '[cb] has no choice "c": its codes are a, b'),
    ),
    (
        "choice of a field that is not a checkbox",
        [RADIO, {"field_name": "a", "branching_logic": "[outcome(1)] = '1'"}],
        (3, LOGIC, "[outcome] is not a checkbox field"),
    ),
    (
        "logic reading a descriptive field",
        [
            {"field_name": "d", "field_type": "descriptive"},
            {"field_name": "a", "branching_logic": "[d] = '1'"},
        ],
        (3, LOGIC, "[d] is a descriptive field"),
    ),
    (
        "a value the choice field never takes",
        [RADIO, {"field_name": "a", "branching_logic": "[outcome] = 'yes'"}],
        (3, LOGIC, '[outcome] is never "yes": it can be "1", "0"'),
    ),
    (
        "a checkbox choice compared with a label",
        [CHECKBOX, {"field_name": "a", "branching_logic": "[cb(a)] = 'A'"}],
        (3, LOGIC, '[cb(a)] is never "A": it can be "0", "1"'),
    ),
    (
        "logic reading itself",
        [{"field_name": "a", "branching_logic": "[a] = '1'"}],
        (2, LOGIC, "goes round in a circle: [a] → [a]"),
    ),
    (
        "logic going round in a circle",
        [
            {"field_name": "a", "branching_logic": "[c] = '1'"},
            {"field_name": "b", "branching_logic": "[a] = '1'"},
            {"field_name": "c", "branching_logic": "[b] = '1'"},
        ],
        (2, LOGIC, "goes round in a circle: [a] → [c] → [b] → [a]"),
    ),
    (
        "two forms in one file",
        [{"field_name": "a"}, {"field_name": "b", "form_name": "other"}],
        (3, HEADERS["form_name"], '"other" differs from "f" on row 2'),
    ),
    (
        "form name with spaces",
        [{"field_name": "a", "form_name": "Consent Form"}],
        (2, HEADERS["form_name"], '"Consent Form" may hold only lowercase letters'),
    ),
]


@pytest.mark.parametrize(("why", "fields", "problem"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_dictionary_is_refused_naming_row_and_column(why, fields, problem):
    with pytest.raises(DictionaryError) as refused:
        parse(dictionary_csv(*fields), version="1")
    row, column, says = problem
    assert [(p.row, p.column) for p in refused.value.problems] == [(row, column)], why
    assert says in refused.value.problems[0].message
    assert refused.value.message.startswith(f'row {row}, column "{column}": ')


HEADER = dictionary_csv().strip()

# why, the file, what the one problem reads as
MALFORMED_FILES = [
    ("empty", "", "the file is empty"),
    ("blank", "\n,,,\n", "the file is empty"),
    ("header only", HEADER + "\n", "the dictionary has no fields"),
    (
        "missing column",
        "Variable / Field Name,Form Name,Field Label\na,f,A\n",
        'row 1: missing column "Field Type"',
    ),
    ("unknown column", HEADER + ",Feild Note\n", 'row 1, column "Feild Note": unknown column'),
    (
        "repeated column",
        HEADER + ",Form Name\n",
        'row 1, column "Form Name": this column appears twice',
    ),
    ("semicolons", HEADER.replace(",", ";") + "\n", "row 1: the header is a single cell"),
    (
        "extra cells",
        HEADER + "\na,f,,text,A" + "," * 13 + ",oops\n",
        "row 2: has 19 cells but the header has 18",
    ),
]


@pytest.mark.parametrize(
    ("why", "text", "problem"), MALFORMED_FILES, ids=[m[0] for m in MALFORMED_FILES]
)
def test_a_malformed_file_is_refused_saying_why(why, text, problem):
    with pytest.raises(DictionaryError) as refused:
        parse(text, version="1")
    assert len(refused.value.problems) == 1, why
    assert str(refused.value.problems[0]).startswith(problem)


def test_bytes_that_are_not_utf8_are_refused_naming_the_line():
    latin1 = dictionary_csv({"field_name": "a", "field_label": "Zięcik"}).encode("cp1250")
    with pytest.raises(
        DictionaryError, match=r'not UTF-8 text \(byte 0xEA on line 2\).*"CSV UTF-8"'
    ):
        parse(latin1, version="1")


def test_every_problem_is_reported_in_row_order_the_message_counts_the_rest():
    text = dictionary_csv(
        {"field_name": "a", "field_type": "slider"},
        {"field_name": "B"},
        {"field_name": "c", "branching_logic": "[zz] = 1"},
    )
    with pytest.raises(DictionaryError) as refused:
        parse(text, version="1")
    assert [(p.row, p.column) for p in refused.value.problems] == [(2, TYPE), (3, NAME), (4, LOGIC)]
    assert refused.value.message.endswith("(and 2 more)")
    assert "\n" not in refused.value.message


def test_columns_are_named_as_the_file_names_them():
    text = dictionary_csv(
        {"field_name": "a", "field_type": "slider"}, columns=KEYS, short_names=True
    )
    with pytest.raises(DictionaryError, match=r'^row 2, column "field_type": unknown field type'):
        parse(text, version="1")


def test_the_shipped_babi_consent_instrument_parses_and_matches_the_consent_service():
    spec = parse(SHIPPED.read_bytes(), version="1.0")
    assert spec.name == "babi_consent"
    assert spec.field("consent_items").codes == consent.CONSENT_ITEMS
    assert spec.field("age_band").codes == tuple(f"{low}_{high}" for low, high in consent.AGE_BANDS)
    assert set(spec.field("discussion_language").codes) == set(synth.LANGUAGES)
    identifiers = {field.name for field in spec.fields if field.identifier}
    assert identifiers == set(vault.REQUIRED_FIELDS)
    assert spec.field("nhs_number").validation == "nhs_number"
    assert spec.field("date_of_birth").validation == "date_ymd"
