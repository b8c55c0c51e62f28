"""Children the cohort already knows: a child row links to its mother by the child's own
NHS number, when an earlier child source resolved that child (``children``) and the row's
birthday and sex confirm it; or, without a usable number of its own (a school census
sends none), by her NHS number or postcode on the row when she has a known child of the
row's birthday and sex, and no other candidate mother has.

A child's row otherwise stands in for its mother (her number, the family name and
postcode they often share: ``match_tables``), and a row with her number missing or wrong
and a different family name or address has little else. Once birth notifications have
given a child its study ID, its blind index (the vault's construction, under the lookup
key) finds it in every later source, school census or social care, whatever the row says
of its mother. Its birthday and sex must agree exactly: the birth key's first part is a
keyed hash of mother, birthday and sex, so comparing it needs neither kept in the clear.
Only mothers in the source's cohort (their consent covers it) are candidates. A family
name alone is no ground: among the many mothers called KHAN one may well have a child of
that birthday and sex.
"""

import pandas as pd
from sqlmodel import Session, select

from cohort.keys import KeyRing
from cohort.models import ChildParticipant
from cohort.vault import blind_index
from linkage_jobs.children import GROUP_HEX, child_keys
from linkage_jobs.cohort_identities import Cohort
from linkage_jobs.standardise import standardise

COLUMNS = ["record_id", "study_id", "match_probability", "method"]
LOOKUP_CHUNK = 5_000  # blind indexes per query, under every database's parameter limit


def _known(session: Session, indexes: list[str]) -> dict[str, ChildParticipant]:
    found: dict[str, ChildParticipant] = {}
    for start in range(0, len(indexes), LOOKUP_CHUNK):
        chunk = indexes[start : start + LOOKUP_CHUNK]
        rows = session.exec(
            select(ChildParticipant).where(ChildParticipant.nhs_index.in_(chunk))  # type: ignore[union-attr]
        ).all()
        found |= {row.nhs_index: row for row in rows if row.nhs_index}
    return found


def mothers_by_child_number(
    session: Session, keys: KeyRing, records: pd.DataFrame, cohort: Cohort
) -> pd.DataFrame:
    """Standardised child rows whose child is known and confirmed: record_id, the
    mother's study_id, probability 1 and method ``exact``."""
    numbered = records[records["nhs_number"].notna()]
    index_of = {n: blind_index(keys, n) for n in numbered["nhs_number"].unique()}
    known = _known(session, sorted(set(index_of.values())))
    study_id_of = {pid: sid for sid, pid in cohort.participant_ids.items()}
    linked = []
    for record_id, number, born, sex in numbered[
        ["record_id", "nhs_number", "date_of_birth", "sex"]
    ].itertuples(index=False, name=None):
        child = known.get(index_of[number])
        if child is None or child.mother_id not in study_id_of:
            continue
        _, birth_key = child_keys(keys, child.mother_id, number, born, sex)
        if birth_key[:GROUP_HEX] == child.birth_key[:GROUP_HEX]:
            linked.append((record_id, study_id_of[child.mother_id]))
    by_number = pd.DataFrame(linked, columns=["record_id", "study_id"], dtype=object)
    rest = records[~records["record_id"].isin(by_number["record_id"])]
    found = pd.concat([by_number, _by_mother_and_birth(session, keys, rest, cohort)])
    return found.assign(match_probability=1.0, method="exact")[COLUMNS].reset_index(drop=True)


def _by_mother_and_birth(
    session: Session, keys: KeyRing, records: pd.DataFrame, cohort: Cohort
) -> pd.DataFrame:
    """Rows whose one candidate mother (her number or postcode on the row) has a known
    child of the row's birthday and sex."""
    born = _known_births(session, set(cohort.participant_ids.values()))
    having = {sid for sid, pid in cohort.participant_ids.items() if pid in {m for m, _ in born}}
    mothers = standardise(cohort.frame[cohort.frame["study_id"].isin(having)])
    rows = records[["record_id", "mother_nhs_number", "postcode", "date_of_birth", "sex"]]
    rows = rows[rows["date_of_birth"].notna() & rows["sex"].notna()]
    pairs = pd.concat(
        [
            rows.merge(
                mothers[["study_id", "nhs_number"]].dropna(),
                left_on="mother_nhs_number",
                right_on="nhs_number",
            ),
            rows.merge(mothers[["study_id", "postcode"]].dropna(), on="postcode"),
        ]
    ).drop_duplicates(["record_id", "study_id"])
    mother_ids = pairs["study_id"].map(cohort.participant_ids)
    confirmed = pd.Series(
        [
            (mother_id, child_keys(keys, mother_id, None, day, sex)[1][:GROUP_HEX]) in born
            for mother_id, day, sex in zip(
                mother_ids, pairs["date_of_birth"], pairs["sex"], strict=True
            )
        ],
        index=pairs.index,
        dtype=bool,
    )
    found = pairs[confirmed]
    return found[~found["record_id"].duplicated(keep=False)][["record_id", "study_id"]]


def _known_births(session: Session, mothers: set[int]) -> set[tuple[int, str]]:
    """(mother, the birth key's birthday-and-sex part) of these mothers' known children."""
    rows = session.exec(select(ChildParticipant.mother_id, ChildParticipant.birth_key)).all()
    return {(mother_id, key[:GROUP_HEX]) for mother_id, key in rows if mother_id in mothers}


def preferred(known: pd.DataFrame, matches: pd.DataFrame) -> pd.DataFrame:
    """``matches`` with each known child's row linked to its mother instead."""
    rest = matches[~matches["record_id"].isin(known["record_id"])]
    return pd.concat([known, rest], ignore_index=True) if len(known) else matches
