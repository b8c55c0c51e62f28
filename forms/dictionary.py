"""REDCap data dictionary CSV → ``FormSpec``, refusing anything malformed in one go.

Accepts REDCap's CSV download headers ("Variable / Field Name", …) or the short names of
its metadata API (``field_name``, …), in any order; one dictionary holds one instrument.
Every problem found is reported, each naming the row as a spreadsheet numbers it (the
header is row 1) and the column as the file names it, so a data manager can fix them all
before trying again. Custom alignment, question numbers and matrix groups are accepted
and not used: the NHS.UK design system lays fields out one way.
"""

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cohort.errors import CohortError
from cohort.i18n import Gettext, Message
from forms import branching
from forms.branching import BranchingError, Comparison, FieldRef, Literal, quote
from forms.i18n import N_
from forms.spec import CHOICE_TYPES, FIELD_TYPES, FIXED_CHOICES, Choice, FieldSpec, FormSpec
from forms.validation import RULES, Invalid, check

# (metadata API name, CSV download header), in REDCap's column order.
COLUMNS = (
    ("field_name", "Variable / Field Name"),
    ("form_name", "Form Name"),
    ("section_header", "Section Header"),
    ("field_type", "Field Type"),
    ("field_label", "Field Label"),
    ("select_choices_or_calculations", "Choices, Calculations, OR Slider Labels"),
    ("field_note", "Field Note"),
    ("text_validation_type_or_show_slider_number", "Text Validation Type OR Show Slider Number"),
    ("text_validation_min", "Text Validation Min"),
    ("text_validation_max", "Text Validation Max"),
    ("identifier", "Identifier?"),
    ("branching_logic", "Branching Logic (Show field only if...)"),
    ("required_field", "Required Field?"),
    ("custom_alignment", "Custom Alignment"),
    ("question_number", "Question Number (surveys only)"),
    ("matrix_group_name", "Matrix Group Name"),
    ("matrix_ranking", "Matrix Ranking?"),
    ("field_annotation", "Field Annotation"),
)
HEADERS = dict(COLUMNS)
REQUIRED_COLUMNS = ("field_name", "form_name", "field_type", "field_label")
_BY_HEADER = {text.lower(): key for key, header in COLUMNS for text in (key, header)}

FIELD_NAME = re.compile(r"[a-z][a-z0-9_]*")
MAX_FIELD_NAME = 100
FORM_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")  # stored with every record, at most 64
CHOICE_CODE = re.compile(r"-?[A-Za-z0-9_]+")
# Attributes of the form object (forms.builder.InstrumentForm) that a field would shadow.
RESERVED_NAMES = frozenset(
    {
        "answers",
        "clean_values",
        "data",
        "errors",
        "form_errors",
        "meta",
        "populate_obj",
        "post_process",
        "process",
        "spec",
        "translate",
        "validate",
        "visible",
    }
)


# Where a problem is, by what is known of it: (has a row, has a column) -> message shape.
WHERE = {
    (True, True): N_('row %(row)s, column "%(column)s": %(problem)s'),
    (True, False): N_("row %(row)s: %(problem)s"),
    (False, True): N_('column "%(column)s": %(problem)s'),
    (False, False): "%(problem)s",
}
AND_MORE = N_("%(problem)s (and %(more)s more)")


@dataclass(frozen=True)
class Problem:
    row: int | None  # None: the file as a whole
    column: str | None
    text: Message  # English as ``message``, or in any language as ``translated``

    @property
    def message(self) -> str:
        return str(self.text)

    def located(self) -> Message:
        where = WHERE[(bool(self.row), bool(self.column))]
        return Message(where, {"row": self.row, "column": self.column, "problem": self.text})

    def translated(self, gettext: Gettext) -> str:
        return self.located().translated(gettext)

    def __str__(self) -> str:
        return str(self.located())


class DictionaryError(CohortError):
    """A dictionary refused; ``problems`` lists every problem, the message the first (in
    English; ``translated`` gives it in the reader's language)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        more = len(self.problems) - 1
        first = self.problems[0].located()
        self.text = Message(AND_MORE, {"problem": first, "more": more}) if more else first
        super().__init__(str(self.text))

    def translated(self, gettext: Gettext) -> str:
        return self.text.translated(gettext)


def _refusal(row: int | None, template: str, **params: object) -> DictionaryError:
    """A problem that stops the reading: the dictionary is refused on it alone."""
    return DictionaryError([Problem(row, None, Message(template, params))])


def decode(data: bytes) -> str:
    """The text of an uploaded file, refused unless it is UTF-8 (BOM kept for export)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _refusal(
            None,
            N_(
                "the file is not UTF-8 text (byte %(byte)s on line %(line)s): "
                'save it from Excel as "CSV UTF-8" and try again'
            ),
            byte=f"0x{data[exc.start]:02X}",
            line=line,
        ) from None


@dataclass
class _Row:
    number: int
    cells: dict[str, str]
    headers: dict[str, str]  # column key -> the header as the file writes it
    problems: list[Problem]

    def __getitem__(self, column: str) -> str:
        return self.cells.get(column, "")

    def fail(self, column: str | None, problem: str | Message, **params: object) -> None:
        """Note a problem in ``column``: a marked template and its values, or a message."""
        header = self.headers.get(column, HEADERS.get(column)) if column else None
        text = problem if isinstance(problem, Message) else Message(problem, params)
        self.problems.append(Problem(self.number, header, text))


def _read_header(cells: list[str]) -> dict[str, str]:
    """Column key -> header as written, in the file's order (trailing blank cells dropped)."""
    problems, headers = [], {}
    while cells and not cells[-1].strip():
        cells = cells[:-1]
    if len(cells) == 1 and any(sep in cells[0] for sep in ";\t"):
        raise _refusal(
            1, N_("the header is a single cell: save the file with commas between columns")
        )
    for cell in cells:
        key = _BY_HEADER.get(cell.strip().lower())
        if key is None:
            problems.append(
                Problem(1, cell, Message(N_("unknown column: use REDCap's column headers")))
            )
        elif key in headers:
            problems.append(Problem(1, cell, Message(N_("this column appears twice"))))
        else:
            headers[key] = cell.strip()
    for key in REQUIRED_COLUMNS:
        if key not in headers:
            missing = Message(N_('missing column "%(column)s"'), {"column": HEADERS[key]})
            problems.append(Problem(1, None, missing))
    if problems:
        raise DictionaryError(problems)
    return headers


def _records(text: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        return list(reader)
    except csv.Error as exc:
        raise _refusal(
            None,
            N_("line %(line)s is not valid CSV: %(reason)s"),
            line=reader.line_num,
            reason=exc,
        ) from None


def _rows(text: str, problems: list[Problem]) -> list[_Row]:
    records = _records(text)
    if not records or not any(cell.strip() for cell in records[0]):
        raise _refusal(None, N_("the file is empty: a dictionary starts with REDCap's header row"))
    headers = _read_header(records[0])
    keys = list(headers)
    rows = []
    for number, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # spreadsheets leave blank rows behind
        row = _Row(
            number, dict(zip(keys, (c.strip() for c in cells), strict=False)), headers, problems
        )
        if any(cell.strip() for cell in cells[len(keys) :]):
            row.fail(
                None,
                N_("has %(cells)s cells but the header has %(columns)s columns"),
                cells=len(cells),
                columns=len(keys),
            )
        rows.append(row)
    if not rows:
        raise _refusal(None, N_("the dictionary has no fields: add one row per field"))
    return rows


def _field_name(row: _Row) -> str:
    name = row["field_name"]
    if not name:
        row.fail("field_name", N_("is empty: every field needs a name"))
    elif len(name) > MAX_FIELD_NAME:
        row.fail(
            "field_name",
            N_("%(name)s is longer than %(max)s characters"),
            name=quote(name),
            max=MAX_FIELD_NAME,
        )
    elif not FIELD_NAME.fullmatch(name):
        row.fail(
            "field_name",
            N_(
                "%(name)s may hold only lowercase letters, digits and underscores, "
                "and must start with a letter"
            ),
            name=quote(name),
        )
    elif name in RESERVED_NAMES:
        row.fail(
            "field_name",
            N_("%(name)s is reserved by the form engine: choose another"),
            name=quote(name),
        )
    return name


def _field_type(row: _Row) -> str | None:
    field_type = row["field_type"].lower()
    if field_type not in FIELD_TYPES:
        row.fail(
            "field_type",
            N_("unknown field type %(type)s: use one of %(types)s"),
            type=quote(row["field_type"]),
            types=", ".join(FIELD_TYPES),
        )
        return None
    return field_type


def _choice_list(row: _Row, text: str, field_type: str) -> tuple[Choice, ...]:
    choices: dict[str, Choice] = {}
    for position, part in enumerate(text.split("|"), start=1):
        code, comma, label = (piece.strip() for piece in part.partition(","))
        if not comma or not code or not label:
            row.fail(
                "select_choices_or_calculations",
                N_(
                    "choice %(position)s (%(choice)s) needs a code and a label, "
                    'like "1, Yes | 2, No"'
                ),
                position=position,
                choice=quote(part.strip()),
            )
        elif not CHOICE_CODE.fullmatch(code):
            row.fail(
                "select_choices_or_calculations",
                N_("choice code %(code)s may hold only letters, digits and underscores"),
                code=quote(code),
            )
        elif code in choices or (field_type == "checkbox" and _clash(code, choices)):
            row.fail(
                "select_choices_or_calculations",
                N_("choice code %(code)s is used twice"),
                code=quote(code),
            )
        else:
            choices[code] = Choice(code, label)
    return tuple(choices.values())


def _clash(code: str, choices: dict[str, Choice]) -> bool:
    """Checkbox codes become column names (``field___code``), where case is lost."""
    return code.lower() in {existing.lower() for existing in choices}


def _choices(row: _Row, field_type: str) -> tuple[Choice, ...]:
    text = row["select_choices_or_calculations"]
    if field_type in FIXED_CHOICES:
        if text:
            row.fail(
                "select_choices_or_calculations",
                N_("%(type)s fields have fixed choices"),
                type=field_type,
            )
        return tuple(Choice(code, label) for code, label in FIXED_CHOICES[field_type])
    if field_type not in CHOICE_TYPES:
        if text:
            row.fail(
                "select_choices_or_calculations",
                N_("a %(type)s field takes no choices (only %(types)s do)"),
                type=field_type,
                types=", ".join(CHOICE_TYPES),
            )
        return ()
    if not text:
        row.fail(
            "select_choices_or_calculations",
            N_('a %(type)s field needs choices, like "1, Yes | 2, No"'),
            type=field_type,
        )
        return ()
    return _choice_list(row, text, field_type)


def _bound(row: _Row, column: str, validation: str) -> str:
    raw = row[column]
    if not raw:
        return ""
    try:
        return check(validation, raw)
    except Invalid:
        row.fail(
            column,
            N_("%(value)s is not a valid %(validation)s value"),
            value=quote(raw),
            validation=validation,
        )
        return ""


def _validation(row: _Row, field_type: str) -> tuple[str, str, str]:
    validation = row["text_validation_type_or_show_slider_number"]
    has_bounds = bool(row["text_validation_min"] or row["text_validation_max"])
    column = "text_validation_type_or_show_slider_number"
    if validation and field_type != "text":
        row.fail(
            column,
            N_("a %(type)s field takes no validation (only text fields do)"),
            type=field_type,
        )
        return "", "", ""
    if validation and validation not in RULES:
        row.fail(
            column,
            N_("unknown validation %(validation)s: use one of %(validations)s"),
            validation=quote(validation),
            validations=", ".join(RULES),
        )
        return "", "", ""
    if has_bounds and (not validation or RULES[validation].order is None):
        ordered = ", ".join(name for name, rule in RULES.items() if rule.order)
        row.fail(
            "text_validation_min",
            N_("only the %(validations)s validations take a minimum and maximum"),
            validations=ordered,
        )
        return validation, "", ""
    minimum = _bound(row, "text_validation_min", validation)
    maximum = _bound(row, "text_validation_max", validation)
    order = RULES[validation].order if validation else None
    if order and minimum and maximum and order(minimum) > order(maximum):
        row.fail(
            "text_validation_max",
            N_("the maximum %(max)s is below the minimum %(min)s"),
            max=maximum,
            min=minimum,
        )
    return validation, minimum, maximum


def _flag(row: _Row, column: str, field_type: str | None) -> bool:
    value = row[column].lower()
    if value not in ("", "y", "n"):
        row.fail(column, N_('%(value)s should be "y" or empty'), value=quote(row[column]))
    elif value == "y" and field_type == "descriptive":
        row.fail(column, N_("a descriptive field takes no answer: leave this empty"))
    return value == "y"


def _logic(row: _Row) -> branching.Expr | None:
    text = row["branching_logic"]
    if not text:
        return None
    try:
        return branching.parse(text)
    except BranchingError as exc:
        row.fail("branching_logic", exc.text)
        return None


def _field(row: _Row) -> FieldSpec | None:
    before = len(row.problems)
    name = _field_name(row)
    field_type = _field_type(row)
    if not row["field_label"]:
        row.fail("field_label", N_("is empty: every field needs a label"))
    identifier = _flag(row, "identifier", field_type)
    required = _flag(row, "required_field", field_type)
    logic = _logic(row)
    if field_type is None:
        return None
    choices = _choices(row, field_type)
    validation, minimum, maximum = _validation(row, field_type)
    if len(row.problems) > before:
        return None
    return FieldSpec(
        name=name,
        type=field_type,
        label=row["field_label"],
        row=row.number,
        choices=choices,
        section_header=row["section_header"],
        note=row["field_note"],
        validation=validation,
        minimum=minimum,
        maximum=maximum,
        identifier=identifier,
        required=required,
        branching=logic,
        annotation=row["field_annotation"],
    )


def _form_name(rows: list[_Row]) -> str:
    name = rows[0]["form_name"]
    if not FORM_NAME.fullmatch(name):
        rows[0].fail(
            "form_name",
            N_(
                "%(name)s may hold only lowercase letters, digits and underscores, start "
                "with a letter and be at most 64 characters long"
            ),
            name=quote(name),
        )
    for row in rows[1:]:
        if row["form_name"] != name:
            row.fail(
                "form_name",
                N_(
                    "%(name)s differs from %(first)s on row %(row)s: "
                    "give each instrument its own dictionary"
                ),
                name=quote(row["form_name"]),
                first=quote(name),
                row=rows[0].number,
            )
    return name


def _unique_names(rows: list[_Row]) -> None:
    first_row: dict[str, int] = {}
    for row in rows:
        name = row["field_name"]
        if name in first_row:
            row.fail(
                "field_name",
                N_("%(name)s is already the name of row %(row)s"),
                name=quote(name),
                row=first_row[name],
            )
        first_row.setdefault(name, row.number)


def _reference_problem(
    ref: FieldRef, fields: dict[str, FieldSpec], names: set[str]
) -> Message | None:
    target = fields.get(ref.name)
    if target is None:  # a field whose own row has problems is reported there
        return (
            None
            if ref.name in names
            else Message(N_("%(ref)s is not a field of this form"), {"ref": ref})
        )
    field = f"[{ref.name}]"
    if not target.takes_answer:
        return Message(N_("%(ref)s is a descriptive field, which has no answer"), {"ref": ref})
    if target.type == "checkbox" and ref.code is None:
        example = f"[{ref.name}({target.codes[0]})]"
        return Message(
            N_("%(ref)s is a checkbox: name one of its choices, like %(example)s"),
            {"ref": ref, "example": example},
        )
    if target.type != "checkbox" and ref.code is not None:
        return Message(
            N_("%(ref)s names a choice, but %(field)s is not a checkbox field"),
            {"ref": ref, "field": field},
        )
    if ref.code is not None and ref.code not in target.codes:
        return Message(
            N_("%(field)s has no choice %(code)s: its codes are %(codes)s"),
            {"field": field, "code": quote(ref.code), "codes": ", ".join(target.codes)},
        )
    return None


def _possible_values(ref: FieldRef, fields: dict[str, FieldSpec]) -> tuple[str, ...] | None:
    """What a choice field (or a checkbox choice) can read as; None for free text."""
    if ref.code is not None:
        return ("0", "1")
    target = fields[ref.name]
    return (*target.codes, "") if target.choices else None


def _never_true(comparison: Comparison, fields: dict[str, FieldSpec]) -> Message | None:
    """An equality between a choice field and a value it can never take: surely a typo."""
    if comparison.op not in branching.EQUALITIES:
        return None
    pairs = ((comparison.left, comparison.right), (comparison.right, comparison.left))
    for ref, other in pairs:
        if isinstance(ref, FieldRef) and isinstance(other, Literal):
            possible = _possible_values(ref, fields)
            if possible is not None and not any(
                branching.evaluate(Comparison("=", other, Literal(value)), {}) for value in possible
            ):
                can_be = ", ".join(quote(value) for value in possible if value)
                return Message(
                    N_("%(ref)s is never %(value)s: it can be %(values)s"),
                    {"ref": ref, "value": quote(other.value), "values": can_be},
                )
    return None


def _logic_problems(
    logic: branching.Expr, fields: dict[str, FieldSpec], names: set[str]
) -> list[Message]:
    comparisons = list(branching.comparisons(logic))
    refs = [
        operand
        for comparison in comparisons
        for operand in (comparison.left, comparison.right)
        if isinstance(operand, FieldRef)
    ]
    problems = [_reference_problem(ref, fields, names) for ref in refs]
    if not any(problems) and all(ref.name in fields for ref in refs):
        problems = [_never_true(comparison, fields) for comparison in comparisons]
    return list({str(problem): problem for problem in problems if problem}.values())


def _check_references(rows: dict[str, _Row], fields: dict[str, FieldSpec]) -> None:
    for field in fields.values():
        if field.branching is not None:
            for problem in _logic_problems(field.branching, fields, set(rows)):
                rows[field.name].fail("branching_logic", problem)


def _check_cycles(rows: dict[str, _Row], fields: dict[str, FieldSpec]) -> None:
    """Branching that depends on itself, however indirectly, has no answer: refuse it."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name) :], name]
            rows[name].fail(
                "branching_logic",
                N_("branching logic goes round in a circle: %(cycle)s"),
                cycle=" → ".join(f"[{n}]" for n in cycle),
            )
            return
        if name in done:
            return
        logic = fields[name].branching
        for ref in branching.field_names(logic) if logic else ():
            if ref in fields:
                visit(ref, [*path, name])
        done.add(name)

    for name in fields:
        visit(name, [])


def parse(source: str | bytes, *, version: str) -> FormSpec:
    """The form a dictionary describes, or a ``DictionaryError`` listing every problem."""
    text = decode(source) if isinstance(source, bytes) else source
    problems: list[Problem] = []
    rows = _rows(text, problems)
    name = _form_name(rows)
    _unique_names(rows)
    parsed = [field for field in map(_field, rows) if field]
    fields = {field.name: field for field in parsed}
    by_name = {row["field_name"]: row for row in reversed(rows)}  # first row of a name
    _check_references(by_name, fields)
    _check_cycles(by_name, fields)
    if problems:
        raise DictionaryError(sorted(problems, key=lambda problem: problem.row or 0))
    return FormSpec(name=name, version=version, fields=tuple(parsed))
