"""Study IDs: random, well-formed, self-checking against typos, and never reused."""

import re

import pytest
from sqlmodel import Session

from cohort.models import Participant, Site
from cohort.study_id import ALPHABET, allocate, is_valid_study_id, new_study_id

SAMPLE = [new_study_id() for _ in range(200)]


def _code(study_id: str) -> str:
    return study_id[3:].replace("-", "")


def _study_id(code: str) -> str:
    return f"BB-{code[:4]}-{code[4:]}"


def test_new_ids_have_the_documented_shape_and_pass_their_check():
    for sid in SAMPLE:
        assert re.fullmatch(r"BB-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", sid)
        assert is_valid_study_id(sid)


def test_new_ids_are_random_not_sequential():
    assert len(set(SAMPLE)) == len(SAMPLE)
    for position in range(7):
        assert len({_code(sid)[position] for sid in SAMPLE}) > 16


def test_the_alphabet_leaves_out_letters_that_read_as_digits_or_words():
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


@pytest.mark.parametrize("sid", SAMPLE[:20], ids=[f"sample-{i}" for i in range(20)])
def test_every_single_character_typo_is_caught(sid):
    code = _code(sid)
    for position in range(len(code)):
        for ch in ALPHABET.replace(code[position], ""):
            typo = code[:position] + ch + code[position + 1 :]
            assert not is_valid_study_id(_study_id(typo)), (sid, position, ch)


@pytest.mark.parametrize("sid", SAMPLE[:20], ids=[f"sample-{i}" for i in range(20)])
def test_every_swap_of_neighbouring_characters_is_caught(sid):
    code = _code(sid)
    for position in range(len(code) - 1):  # includes the pair either side of the dash
        a, b = code[position], code[position + 1]
        if a != b:
            swapped = code[:position] + b + a + code[position + 2 :]
            assert not is_valid_study_id(_study_id(swapped)), (sid, position)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "BB7K3M9QXD",  # no dashes
        "bb-7k3m-9qxd",  # lower case
        "XX-7K3M-9QXD",  # wrong prefix
        "BB-7K3M-9QX",  # too short
        "BB-7K3M-9QXDA",  # too long
        "BB-7K3I-9QXD",  # I is not in the alphabet
        "BB-OK3M-9QXD",  # nor is O
        " BB-7K3M-9QXD",
    ],
)
def test_malformed_ids_are_not_valid(text):
    assert not is_valid_study_id(text)


def test_allocate_skips_an_id_already_held(engine):
    taken, fresh = SAMPLE[0], SAMPLE[1]
    with Session(engine) as session:
        site = Site(code="S1", name="Site one")
        session.add(site)
        session.flush()
        session.add(Participant(study_id=taken, site_id=site.id))
        session.flush()
        candidates = iter([taken, taken, fresh])
        assert allocate(session, generate=lambda: next(candidates)) == fresh


def test_allocate_gives_up_loudly_rather_than_looping_forever(engine):
    with Session(engine) as session:
        site = Site(code="S1", name="Site one")
        session.add(site)
        session.flush()
        session.add(Participant(study_id=SAMPLE[0], site_id=site.id))
        session.flush()
        with pytest.raises(RuntimeError, match="no free study ID"):
            allocate(session, generate=lambda: SAMPLE[0])


def test_allocate_returns_a_valid_unused_id(engine):
    with Session(engine) as session:
        assert is_valid_study_id(allocate(session))
