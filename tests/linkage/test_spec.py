"""Source specs: the shipped ones load; a malformed one is refused naming file and key."""

from pathlib import Path

import pytest

from linkage_jobs.spec import (
    IDENTIFIER_FIELDS,
    SEX_CODINGS,
    SourceSpec,
    SpecProblem,
    load_spec,
    load_specs,
)

GOOD = """
title = "Test source"
kind = "health"
subject = "mother"
format = "csv"
inbox = "inbox/test"
schedule = "0 2 * * *"
record_id = "ID"
date_formats = ["%d/%m/%Y"]

[identifiers]
NHS_No = "nhs_number"
DOB = "date_of_birth"

[payload]
Weight = "integer"
"""


def write(tmp_path: Path, text: str, name: str = "test") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_spec_loads_with_its_columns_and_date_columns(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, GOOD))
    assert spec == SourceSpec(
        name="test",
        title="Test source",
        kind="health",
        subject="mother",
        format="csv",
        inbox="inbox/test",
        schedule="0 2 * * *",
        record_id="ID",
        identifiers={"NHS_No": "nhs_number", "DOB": "date_of_birth"},
        payload={"Weight": "integer"},
        date_formats=("%d/%m/%Y",),
    )
    assert spec.columns == ("ID", "NHS_No", "DOB", "Weight")
    assert spec.date_columns == ("DOB",)


SHIPPED = ("maternity", "birth_notifications", "gp_registrations", "school_census")
SHIPPED += ("childrens_social_care",)


def test_the_shipped_specs_load_and_cover_both_kinds_and_subjects() -> None:
    specs = load_specs()
    assert set(SHIPPED) <= specs.keys()
    assert {s.kind for s in specs.values()} == {"health", "council"}
    assert {s.subject for s in specs.values()} == {"mother", "child"}
    assert {s.format for s in specs.values()} == {"csv", "parquet"}
    for name, spec in specs.items():
        assert spec.inbox == f"inbox/{name}"
        assert set(spec.identifiers.values()) <= set(IDENTIFIER_FIELDS)


@pytest.mark.parametrize(
    ("old", "new", "key", "says"),
    [
        ('kind = "health"', 'kind = "housing"', "kind", "'housing' is not one of"),
        ('subject = "mother"', 'subject = "father"', "subject", "is not one of"),
        ('format = "csv"', 'format = "xlsx"', "format", "is not one of: csv, parquet"),
        ('"0 2 * * *"', '"0 25 * * *"', "schedule", "not a 5-field cron expression"),
        ('"0 2 * * *"', '"every night"', "schedule", "not a 5-field cron expression"),
        ('"0 2 * * *"', '"0 2 * *"', "schedule", "not a 5-field cron expression"),
        ('"date_of_birth"', '"dob"', "identifiers.DOB", "'dob' is not one of"),
        ('"date_of_birth"', '"nhs_number"', "identifiers.DOB", "nhs_number is already NHS_No"),
        ('"date_of_birth"', '"mother_nhs_number"', "identifiers.DOB", "only child sources"),
        ('Weight = "integer"', 'Weight = "int"', "payload.Weight", "'int' is not one of"),
        ('Weight = "integer"', 'NHS_No = "string"', "payload.NHS_No", "already an identifier"),
        ('Weight = "integer"', 'sex = "string"', "payload.sex", "clashes with a canonical"),
        ('Weight = "integer"', 'ID = "string"', "record_id", "ID is also listed"),
        ('record_id = "ID"', "", "record_id", "is missing"),
        ('title = "Test source"', "", "title", "is missing"),
        ('title = "Test source"', 'title = ""', "title", "must be a non-empty text value"),
        ("[payload]", "", "payload", "is missing"),
        ('schedule = "0 2 * * *"', 'shedule = "0 2 * * *"', "shedule", "unknown key"),
        ('inbox = "inbox/test"', 'inbox = "/etc"', "inbox", "must be a folder inside"),
        ('inbox = "inbox/test"', 'inbox = "../keys"', "inbox", "must be a folder inside"),
        ('["%d/%m/%Y"]', '["%d/%m"]', "date_formats", "not a strptime format for a full date"),
        ('["%d/%m/%Y"]', "[]", "date_formats", "must be a non-empty list"),
        ('kind = "health"', 'kind = "health"\nsex_coding = "roman"', "sex_coding", "not one of"),
        ("Weight = ", "Weight = = ", "file", "is not valid TOML"),
    ],
)
def test_a_malformed_spec_is_refused_naming_file_and_key(
    tmp_path: Path, old: str, new: str, key: str, says: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(SpecProblem) as refused:
        load_spec(path)
    assert refused.value.key == key
    assert refused.value.message.startswith(f"test.toml: {key}: ")
    assert says in refused.value.message


CHILD = GOOD.replace('subject = "mother"', 'subject = "child"')


@pytest.mark.parametrize(
    ("identifiers", "refused"),
    [
        ('DOB = "date_of_birth"', True),
        ('Mum_NHS = "mother_nhs_number"', False),
        ('NHS_No = "nhs_number"', False),
    ],
)
def test_a_child_source_must_map_an_nhs_number_to_link_through(
    tmp_path: Path, identifiers: str, refused: bool
) -> None:
    text = CHILD.replace('NHS_No = "nhs_number"\nDOB = "date_of_birth"', identifiers)
    path = write(tmp_path, text)
    if refused:
        with pytest.raises(SpecProblem, match="child source must map mother_nhs_number"):
            load_spec(path)
    else:
        assert load_spec(path).subject == "child"


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ("[synthetic]\nHeight = { min = 1 }", "is not a payload column"),
        ("[synthetic]\nWeight = { low = 1 }", "must be a table with keys from"),
        ("[synthetic]\nWeight = { missing = 5 }", "synthetic.Weight.missing: must be a share"),
    ],
)
def test_synthetic_rules_must_name_payload_columns_and_known_keys(
    tmp_path: Path, table: str, says: str
) -> None:
    with pytest.raises(SpecProblem, match=says):
        load_spec(write(tmp_path, f"{GOOD}\n{table}\n"))


def test_a_spec_name_is_a_plain_lower_case_word(tmp_path: Path) -> None:
    with pytest.raises(SpecProblem, match="lower-case letters"):
        load_spec(write(tmp_path, GOOD, name="Bad Name"))


def test_one_bad_spec_refuses_the_whole_directory(tmp_path: Path) -> None:
    write(tmp_path, GOOD, name="good")
    write(tmp_path, GOOD.replace('"health"', '"housing"'), name="bad")
    with pytest.raises(SpecProblem, match=r"^bad\.toml: kind"):
        load_specs(tmp_path)


def test_every_sex_coding_writes_both_sexes() -> None:
    assert all(set(coding) == {"F", "M"} for coding in SEX_CODINGS.values())
