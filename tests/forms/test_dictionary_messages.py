"""A refused dictionary reads in the data manager's UI language: each message shape is in
the shipped catalogs and translated there, while the row, the column as the file names it
and the values quoted from the file stay exactly as they were. English (CLI, API) is
unchanged."""

import pytest

from cohort import i18n
from forms.branching import BranchingError
from forms.branching import parse as parse_logic
from forms.dictionary import HEADERS, DictionaryError, parse
from forms.spec import FIELD_TYPES
from tests.catalogs import SHIPPED, compiled, served_from  # noqa: F401 (fixtures)
from tests.forms.conftest import dictionary_csv
from tests.forms.test_dictionary import MALFORMED, MALFORMED_FILES

pytestmark = pytest.mark.usefixtures("served_from")


def refusal(text: str | bytes) -> DictionaryError:
    with pytest.raises(DictionaryError) as refused:
        parse(text, version="1")
    return refused.value


def test_an_unknown_field_type_reads_in_polish_naming_row_and_column():
    (problem,) = refusal(dictionary_csv({"field_name": "a", "field_type": "slider"})).problems
    assert problem.translated(i18n.gettext("pl")) == (
        'wiersz 2, kolumna „Field Type”: nieznany typ pola "slider": użyj jednego z: '
        + ", ".join(FIELD_TYPES)
    )
    assert str(problem) == (
        'row 2, column "Field Type": unknown field type "slider": use one of '
        + ", ".join(FIELD_TYPES)
    )


def test_a_branching_logic_error_reads_in_polish_with_its_character_position():
    text = dictionary_csv({"field_name": "a"}, {"field_name": "b", "branching_logic": "[a] = '1"})
    (problem,) = refusal(text).problems
    assert problem.translated(i18n.gettext("pl")) == (
        f"wiersz 3, kolumna „{HEADERS['branching_logic']}”: przy znaku 7: "
        "tekst zaczynający się tutaj nie ma zamykającego '"
    )


def test_the_summary_of_many_problems_counts_the_rest_in_the_reader_language():
    text = dictionary_csv({"field_name": "A"}, {"field_name": "b", "field_type": "slider"})
    refused = refusal(text)
    assert refused.message.endswith("(and 1 more)")
    assert refused.translated(i18n.gettext("pl")).endswith("(i jeszcze 1)")
    assert refused.translated(i18n.gettext("ur")).startswith("قطار 2، کالم ")


def test_a_file_that_is_not_utf8_is_refused_in_polish_naming_byte_and_line():
    latin1 = dictionary_csv({"field_name": "a", "field_label": "Zięcik"}).encode("cp1250")
    assert refusal(latin1).translated(i18n.gettext("pl")) == (
        "plik nie jest tekstem UTF-8 (bajt 0xEA w wierszu 2): "
        'zapisz go w Excelu jako "CSV UTF-8" i spróbuj ponownie'
    )


def test_branching_logic_refusals_translate_on_their_own_too():
    with pytest.raises(BranchingError) as refused:
        parse_logic("[a] = '1' xor [b] = '2'")
    assert refused.value.text.translated(i18n.gettext("sk")) == (
        "pri znaku 11: neznáme slovo \"xor\": podmienky spájajte pomocou 'and' alebo 'or'"
    )


@pytest.mark.parametrize("code", SHIPPED)
@pytest.mark.parametrize(("why", "fields", "problem"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_every_refusal_is_translated_keeping_row_and_column(code, why, fields, problem):
    row, column, _ = problem
    (found,) = refusal(dictionary_csv(*fields)).problems
    shown = found.translated(i18n.gettext(code))
    assert shown != str(found), f"{why}: not translated into {code}"
    assert str(row) in shown and column in shown, why


@pytest.mark.parametrize("code", SHIPPED)
@pytest.mark.parametrize(
    ("why", "text", "problem"), MALFORMED_FILES, ids=[m[0] for m in MALFORMED_FILES]
)
def test_every_refusal_of_a_whole_file_is_translated(code, why, text, problem):
    (found,) = refusal(text).problems
    assert found.translated(i18n.gettext(code)) != str(found), f"{why}: not translated"
