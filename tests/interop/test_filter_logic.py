"""REDCap filterLogic, read by the forms' branching parser: one table of cases."""

import pytest

from cohort.errors import CohortError
from cohort.interop import filter_logic

KNOWN = {"outcome", "consent_items", "discussion_language", "age_band"}
RECORD = {
    "outcome": "1",
    "consent_items": frozenset({"contact", "link_mother_health"}),
    "discussion_language": "ur",
    "age_band": "30_34",
}


@pytest.mark.parametrize(
    ("logic", "keeps"),
    [
        ("", True),
        ("[outcome] = '1'", True),
        ('[outcome] = "0"', False),
        ("[consent_items(contact)] = '1'", True),
        ("[consent_items(link_council)] = '1'", False),
        ("[discussion_language] <> 'en' and [consent_items(contact)] = '1'", True),
        ("[discussion_language] = 'en' or ([age_band] = '30_34')", True),
        ("[discussion_language] != 'ur'", False),
    ],
)
def test_filter_logic_keeps_the_records_it_describes(logic, keeps):
    assert filter_logic.keeps(filter_logic.parse(logic, KNOWN), RECORD) is keeps


@pytest.mark.parametrize(
    ("logic", "problem"),
    [
        ("[outcome] = ", "not valid"),
        ("[shoe_size] > 5", "not in the project: shoe_size"),
        ("[outcome] = '1' and (", "not valid"),
    ],
)
def test_bad_filter_logic_is_refused_saying_why(logic, problem):
    with pytest.raises(CohortError, match=problem):
        filter_logic.parse(logic, KNOWN)
