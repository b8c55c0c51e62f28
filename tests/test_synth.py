"""Synthetic mothers: reproducible from a seed, valid and realistic in every field, and
written as CSV by ``cohort synth``, which refuses bad arguments with one line and exit 2."""

import csv
import random
import re
import unicodedata
from collections import Counter
from datetime import date, timedelta

import nhs_number
import pytest

from cohort import imd, synth
from cohort.nhs_number import normalise
from tests.in_process_cli import run_cohort

TODAY = date(2025, 3, 1)
UK_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}$")
ONS_2021_ETHNICITY_GROUPS = (
    "Asian, Asian British or Asian Welsh: ",
    "Black, Black British, Black Welsh, Caribbean or African: ",
    "Black, Black British, Black Welsh: ",
    "Mixed or Multiple ethnic groups: ",
    "White: ",
    "Other ethnic group: ",
)


@pytest.fixture(scope="module")
def cohort_of_5000() -> list[synth.SynthMother]:
    return synth.mothers(2026, 5000, today=TODAY)


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def test_same_seed_same_people_different_seed_different_people():
    assert synth.mothers(7, 200, today=TODAY) == synth.mothers(7, 200, today=TODAY)
    assert synth.mothers(7, 200, today=TODAY) != synth.mothers(8, 200, today=TODAY)


def test_output_neither_uses_nor_disturbs_global_random_state():
    random.seed(1)
    first = synth.mothers(7, 50, today=TODAY)
    after = random.random()
    random.seed(99)
    assert synth.mothers(7, 50, today=TODAY) == first
    random.seed(1)
    assert random.random() == after


def test_a_longer_run_starts_with_the_shorter_run():
    assert synth.mothers(3, 500, today=TODAY)[:100] == synth.mothers(3, 100, today=TODAY)


def test_nhs_numbers_are_valid_unique_and_from_the_synthetic_range(cohort_of_5000):
    numbers = [m.nhs_number for m in cohort_of_5000]
    assert all(normalise(n) == n for n in numbers)
    assert all(nhs_number.REGION_SYNTHETIC.contains_number(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)


@pytest.mark.parametrize(
    "today", [date(2024, 2, 29), date(2025, 1, 1), date(2025, 12, 31), date(2026, 6, 15)]
)
def test_every_mother_is_16_to_50_and_due_within_40_weeks(today):
    for m in synth.mothers(11, 2000, today=today):
        assert 16 <= _age(m.date_of_birth, today) <= 50, m.date_of_birth
        assert today < m.due_date <= today + timedelta(weeks=40)


def test_postcodes_are_uk_format_and_addresses_name_their_post_town(cohort_of_5000):
    for m in cohort_of_5000:
        assert UK_POSTCODE.match(m.postcode), m.postcode
        town = dict(synth.POSTCODE_DISTRICTS)[m.postcode.split()[0]]
        assert m.address.endswith(f", {town}")


def test_names_are_in_latin_script_as_staff_type_them(cohort_of_5000):
    for m in cohort_of_5000:
        for name in (m.given_name, m.family_name):
            assert name.strip() == name and name
            assert all(ch in " -'" or "LATIN" in unicodedata.name(ch) for ch in name), name


def test_ethnicities_are_ons_2021_categories(cohort_of_5000):
    assert all(m.ethnicity.startswith(ONS_2021_ETHNICITY_GROUPS) for m in cohort_of_5000)


def test_language_mix_is_mostly_english_with_every_community_language(cohort_of_5000):
    counts = Counter(m.language for m in cohort_of_5000)
    assert set(counts) == set(synth.LANGUAGES) == {"en", "ur", "pa", "pl", "ro", "sk", "ar", "bn"}
    assert 0.75 < counts["en"] / len(cohort_of_5000) < 0.9
    assert counts.most_common(2)[1][0] == "ur"


def test_interpreters_are_used_only_and_mostly_for_non_english(cohort_of_5000):
    english = [m for m in cohort_of_5000 if m.language == "en"]
    other = [m for m in cohort_of_5000 if m.language != "en"]
    assert not any(m.interpreter_used for m in english)
    assert 0.6 < sum(m.interpreter_used for m in other) / len(other) < 0.95


def test_community_languages_come_with_matching_ethnicity(cohort_of_5000):
    expected = {"ur": "Pakistani", "bn": "Bangladeshi", "ar": "Arab", "pl": "Other White"}
    for m in cohort_of_5000:
        if m.language in expected:
            assert m.ethnicity.endswith(expected[m.language])


def test_cli_writes_the_same_people_as_the_generator(monkeypatch, capsys, tmp_path):
    target = tmp_path / "mothers.csv"
    code, _, err = run_cohort(
        monkeypatch, capsys, "synth", "--seed", "5", "--mothers", "30", "--out", str(target)
    )
    assert code == 0, err
    with target.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    expected = synth.mothers(5, 30, today=date.today())
    assert [r["nhs_number"] for r in rows] == [m.nhs_number for m in expected]
    assert rows[0] == {name: str(getattr(expected[0], name)) for name in synth.FIELDS}


def test_cli_writes_to_standard_output_without_out(monkeypatch, capsys, tmp_path):
    target = tmp_path / "mothers.csv"
    run_cohort(monkeypatch, capsys, "synth", "--seed", "5", "--mothers", "10", "--out", str(target))
    code, out, _ = run_cohort(monkeypatch, capsys, "synth", "--seed", "5", "--mothers", "10")
    assert code == 0
    assert out.splitlines() == target.read_text(encoding="utf-8").splitlines()


BAD_ARGUMENTS = [
    ("no mothers", ["--seed", "1", "--mothers", "0"], "--mothers"),
    ("too many mothers", ["--seed", "1", "--mothers", "1000001"], "--mothers"),
    ("negative seed", ["--seed", "-1", "--mothers", "5"], "--seed"),
    ("seed not a number", ["--seed", "x", "--mothers", "5"], "--seed"),
    ("seed missing", ["--mothers", "5"], "--seed"),
    ("folder missing", ["--seed", "1", "--mothers", "5", "--out", "{tmp}/no/such.csv"], "--out"),
    ("out is a folder", ["--seed", "1", "--mothers", "5", "--out", "{tmp}"], "--out"),
]


@pytest.mark.parametrize(
    ("case", "args", "named"), BAD_ARGUMENTS, ids=[c[0] for c in BAD_ARGUMENTS]
)
def test_cli_refuses_bad_arguments_with_one_line_and_exit_2(
    monkeypatch, capsys, tmp_path, case, args, named
):
    args = [a.format(tmp=tmp_path) for a in args]
    code, out, err = run_cohort(monkeypatch, capsys, "synth", *args)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and named in err
    assert list(tmp_path.iterdir()) == []


def test_the_synthetic_imd_lookup_lists_every_synthetic_postcode(cohort_of_5000):
    lookup = synth.imd_deciles()
    assert {m.postcode for m in cohort_of_5000} <= set(lookup)
    assert set(lookup.values()) <= set(range(1, 11)) and min(lookup.values()) == 1


def test_cli_writes_the_synthetic_imd_lookup_as_the_loader_reads_it(monkeypatch, capsys, tmp_path):
    target, lookup = tmp_path / "mothers.csv", tmp_path / "imd.csv"
    args = ("--seed", "5", "--mothers", "3", "--out", str(target), "--imd-lookup", str(lookup))
    code, _, err = run_cohort(monkeypatch, capsys, "synth", *args)
    assert code == 0, err
    assert imd.parse(lookup.read_text(encoding="utf-8"), lookup.name) == synth.imd_deciles()
