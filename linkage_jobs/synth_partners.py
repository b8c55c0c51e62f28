"""Synthetic cohorts and partner files with ground truth, for the linkage tests and bench.

Everything is drawn with numpy from one seed, so a million rows take seconds. The people
look like ``cohort.synth``'s (its communities, name tables and Bradford postcodes); the
partner records carry the corruption real partners send, at the rates in ``CORRUPTION``,
so a reviewer can read and adjust them without touching the logic. NHS numbers come from
the synthetic range (9000000000-9999999999): no record can be a real person's.
"""

from datetime import date

import numpy as np
import pandas as pd
from faker import Faker

from cohort import synth
from linkage_jobs.spec import IDENTIFIER_FIELDS as CANONICAL

# Share of member rows hit by each corruption (independently, so some rows carry several).
CORRUPTION = {
    "given_typo": 0.04,
    "family_typo": 0.04,
    "married_name": 0.04,  # family name replaced by another
    "hyphenated": 0.03,  # family name double-barrelled with another
    "day_month_swap": 0.03,  # only where the day is 12 or less
    "dob_digit_typo": 0.015,
    "moved_postcode": 0.08,
    "lower_case": 0.10,
}
# Member rows whose NHS number is unusable or wrong: ~10% in all.
NHS_MISSING, NHS_MISTYPED, NHS_SOMEONE_ELSES = 0.035, 0.035, 0.03
DUPLICATE_SHARE = 0.10  # member rows that repeat a member already in the file
NAMESAKE_SHARE = 0.005  # non-member rows: a member's names and birthday, another person
# Child records: how the mother's NHS number arrives on the child's row. The child's own
# number arrives as a mother's does (NHS_MISSING, ...). A member's child is the same child
# in every delivery (``cohort_children``), so a later child source meets children an
# earlier one did.
MOTHER_NHS_MISSING, MOTHER_NHS_WRONG = 0.08, 0.04
CHILD_KEEPS_FAMILY_NAME, CHILD_SAME_POSTCODE = 0.75, 0.92
CHILDREN_SEED = 0
CHILDREN_BORN_SINCE = date(2020, 1, 1)
OWN = ["nhs_number", "given_name", "date_of_birth", "sex"]  # a child's own identifiers

NAME_POOL_PER_LOCALE = 400
REFERENCE_DAY = date(2026, 1, 1)
_WEIGHTS = np.arange(10, 1, -1)
_LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


def cohort_people(n: int, seed: int) -> pd.DataFrame:
    """``n`` clean mothers: study_id and canonical identity columns."""
    rng = np.random.default_rng(seed)
    people = _people(rng, n, _nhs_numbers(rng, n, taken=np.array([], dtype=np.int64)))
    people.insert(0, "study_id", [f"S{i:07d}" for i in range(n)])
    return people


def partner_records(
    cohort: pd.DataFrame,
    *,
    rows: int,
    member_share: float,
    seed: int,
    subject: str = "mother",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A partner file of ``rows`` canonical records and its truth (record_id, study_id).

    About ``member_share`` of the rows belong to cohort members (some twice), corrupted as
    in ``CORRUPTION``; the rest are other people, a few of them near-namesakes of members.
    ``subject="child"`` gives each row a child of the mother (a member's own child, from
    ``cohort_children``), carrying her NHS number in ``mother_nhs_number``; the truth
    still names the mother's study_id.
    """
    if subject not in ("mother", "child"):
        raise ValueError(f"subject must be 'mother' or 'child', not {subject!r}")
    rng = np.random.default_rng(seed)
    n_members = min(round(rows * member_share), rows) if len(cohort) else 0
    taken = _as_int(cohort["nhs_number"])
    members = _member_rows(rng, cohort, n_members)
    n_namesakes = min(round(rows * NAMESAKE_SHARE), rows - n_members) if len(cohort) else 0
    others = _people(rng, rows - n_members, _nhs_numbers(rng, rows - n_members, taken))
    _make_namesakes(rng, others, cohort, n_namesakes)
    study_ids = np.concatenate(
        [members.pop("study_id").to_numpy(), np.full(len(others), None, dtype=object)]
    )
    records = pd.concat([members, others], ignore_index=True)
    if subject == "child":
        records = _children_of(rng, records, study_ids, cohort, taken)
    order = rng.permutation(len(records))
    records = records.iloc[order].reset_index(drop=True)
    records.insert(0, "record_id", [f"R{i:07d}" for i in range(len(records))])
    study_ids = study_ids[order]
    belongs = pd.notna(study_ids)
    truth = pd.DataFrame(
        {"record_id": records["record_id"][belongs].to_numpy(), "study_id": study_ids[belongs]}
    )
    return records, truth


def _member_rows(rng: np.random.Generator, cohort: pd.DataFrame, n: int) -> pd.DataFrame:
    first = min(len(cohort), round(n * (1 - DUPLICATE_SHARE)))
    picked = rng.choice(len(cohort), size=first, replace=False) if first else np.array([], int)
    again = rng.choice(picked, size=n - first) if len(picked) else np.array([], int)
    rows = cohort.iloc[np.concatenate([picked, again]).astype(int)]
    rows = rows[["study_id", *CANONICAL]].reset_index(drop=True).copy()
    _corrupt(rng, rows, cohort)
    return rows


def _corrupt(rng: np.random.Generator, rows: pd.DataFrame, cohort: pd.DataFrame) -> None:
    n = len(rows)
    if not n:
        return

    def hit(share: float) -> np.ndarray:
        return rng.random(n) < share

    for column, key in (("given_name", "given_typo"), ("family_name", "family_typo")):
        slipped = hit(CORRUPTION[key])
        rows.loc[slipped, column] = _typo(rng, rows[column][slipped])
    family_pool = cohort["family_name"].to_numpy()
    married = hit(CORRUPTION["married_name"])
    rows.loc[married, "family_name"] = rng.choice(family_pool, married.sum())
    hyphen = hit(CORRUPTION["hyphenated"])
    rows.loc[hyphen, "family_name"] = (
        rows["family_name"][hyphen] + "-" + rng.choice(family_pool, hyphen.sum())
    )
    rows["date_of_birth"] = _corrupt_dates(rng, rows["date_of_birth"].to_numpy(dtype=str))
    moved = hit(CORRUPTION["moved_postcode"])
    rows.loc[moved, "postcode"] = _postcodes(rng, moved.sum())
    lower = hit(CORRUPTION["lower_case"])
    for column in ("given_name", "family_name", "postcode"):
        rows.loc[lower, column] = rows[column][lower].str.lower()
    rows["nhs_number"] = _corrupt_numbers(rng, rows["nhs_number"], cohort["nhs_number"])


def _corrupt_numbers(rng: np.random.Generator, numbers: pd.Series, pool: pd.Series) -> pd.Series:
    """NHS numbers as partners send them: some missing, mistyped, or another's (``pool``)."""
    out = numbers.to_numpy(dtype=object).copy()
    draw = rng.random(len(out))
    missing = draw < NHS_MISSING
    mistyped = (draw >= NHS_MISSING) & (draw < NHS_MISSING + NHS_MISTYPED)
    elses = (draw >= NHS_MISSING + NHS_MISTYPED) & (
        draw < NHS_MISSING + NHS_MISTYPED + NHS_SOMEONE_ELSES
    )
    out[missing] = None
    out[mistyped] = _mistype_digits(rng, pd.Series(out[mistyped]))
    if len(pool):
        out[elses] = rng.choice(pool.to_numpy(), elses.sum())
    return pd.Series(out, index=numbers.index, dtype=object)


def _typo(rng: np.random.Generator, names: pd.Series) -> list[str]:
    """One slip per name: a letter dropped, doubled, swapped with its neighbour or wrong."""
    out = []
    for name, kind, pos, letter in zip(
        names,
        rng.integers(0, 4, len(names)),
        rng.random(len(names)),
        rng.choice(_LETTERS, len(names)),
        strict=True,
    ):
        if len(name) < 3:
            out.append(name)
            continue
        i = 1 + int(pos * (len(name) - 2))
        out.append(
            (
                name[:i] + name[i + 1 :],
                name[:i] + name[i] + name[i:],
                name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :],
                name[:i] + str(letter) + name[i + 1 :],
            )[kind]
        )
    return out


def _corrupt_dates(rng: np.random.Generator, dates: np.ndarray) -> np.ndarray:
    """Day and month swapped where both can be months; or one digit of the day mistyped."""
    out = dates.astype(object).copy()
    parts = np.char.partition(np.char.partition(dates.astype(str), "-")[:, 2], "-")
    year = np.char.partition(dates.astype(str), "-")[:, 0]
    month, day = parts[:, 0], parts[:, 2]
    swap = (rng.random(len(dates)) < CORRUPTION["day_month_swap"]) & (day.astype(int) <= 12)
    out[swap] = _iso(year[swap], day[swap], month[swap])
    typo = (rng.random(len(dates)) < CORRUPTION["dob_digit_typo"]) & ~swap
    digit = rng.integers(0, 10, typo.sum()).astype(str)
    slipped = _iso(year[typo], month[typo], np.char.add(day[typo].astype("<U1"), digit))
    real = pd.to_datetime(pd.Series(slipped), format="%Y-%m-%d", errors="coerce").notna()
    out[np.flatnonzero(typo)[real.to_numpy()]] = slipped[real.to_numpy()]
    return out


def _iso(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    return np.char.add(np.char.add(np.char.add(year, "-"), np.char.add(month, "-")), day)


def _mistype_digits(rng: np.random.Generator, numbers: pd.Series) -> list[str]:
    """One digit changed: the check digit then fails about ten times in eleven."""
    out = []
    for number, pos, shift in zip(
        numbers, rng.integers(0, 10, len(numbers)), rng.integers(1, 10, len(numbers)), strict=True
    ):
        digit = (int(number[pos]) + int(shift)) % 10
        out.append(f"{number[:pos]}{digit}{number[pos + 1 :]}")
    return out


def _make_namesakes(
    rng: np.random.Generator, others: pd.DataFrame, cohort: pd.DataFrame, n: int
) -> None:
    """Other women sharing a member's names and birthday (own NHS number and postcode)."""
    if not n:
        return
    source = cohort.iloc[rng.choice(len(cohort), n)]
    for column in ("given_name", "family_name", "date_of_birth"):
        others.loc[: n - 1, column] = source[column].to_numpy()


def cohort_children(cohort: pd.DataFrame) -> pd.DataFrame:
    """Each member's child, by her study_id: its own identifiers (``OWN``), the same
    whatever the delivery, drawn from ``CHILDREN_SEED`` in study_id order."""
    rng = np.random.default_rng(CHILDREN_SEED)
    mothers = cohort["study_id"].sort_values().to_numpy()
    n = len(mothers)
    children = _people(rng, n, _nhs_numbers(rng, n, _as_int(cohort["nhs_number"])))
    children["date_of_birth"] = _birthdays(rng, n, CHILDREN_BORN_SINCE)
    children["sex"] = rng.choice(np.array(["F", "M"]), n)
    return children[OWN].set_axis(mothers)


def _children_of(
    rng: np.random.Generator,
    mothers: pd.DataFrame,
    study_ids: np.ndarray,
    cohort: pd.DataFrame,
    taken: np.ndarray,
) -> pd.DataFrame:
    """A child for each mother's row (a member's own child, else a stranger's): its own
    details, its number as partners send it; her number alongside."""
    n = len(mothers)
    known = cohort_children(cohort)
    taken = np.concatenate([taken, _as_int(mothers["nhs_number"]), _as_int(known["nhs_number"])])
    children = _people(rng, n, _nhs_numbers(rng, n, taken), born_since=CHILDREN_BORN_SINCE)
    children["sex"] = rng.choice(np.array(["F", "M"]), n)
    members = pd.notna(study_ids)
    children.loc[members, OWN] = known.loc[study_ids[members], OWN].to_numpy()
    children["nhs_number"] = _corrupt_numbers(rng, children["nhs_number"], known["nhs_number"])
    keep = rng.random(n) < CHILD_KEEPS_FAMILY_NAME
    children.loc[keep, "family_name"] = mothers["family_name"][keep].to_numpy()
    same = rng.random(n) < CHILD_SAME_POSTCODE
    children.loc[same, "postcode"] = mothers["postcode"][same].to_numpy()
    children.loc[same, "address"] = mothers["address"][same].to_numpy()
    mother_nhs = mothers["nhs_number"].to_numpy(dtype=object).copy()
    draw = rng.random(n)
    mother_nhs[draw < MOTHER_NHS_MISSING] = None
    wrong = (draw >= MOTHER_NHS_MISSING) & (draw < MOTHER_NHS_MISSING + MOTHER_NHS_WRONG)
    if len(cohort):
        mother_nhs[wrong] = rng.choice(cohort["nhs_number"].to_numpy(), wrong.sum())
    children["mother_nhs_number"] = mother_nhs
    return children


def _people(
    rng: np.random.Generator, n: int, numbers: np.ndarray, *, born_since: date | None = None
) -> pd.DataFrame:
    given, family = _names(rng, n)
    return pd.DataFrame(
        {
            "nhs_number": numbers.astype(str).astype(object),
            "given_name": given,
            "family_name": family,
            "date_of_birth": _birthdays(rng, n, born_since),
            "sex": "F",
            "postcode": _postcodes(rng, n),
            "address": _addresses(rng, n),
            "mother_nhs_number": None,
        }
    )


def _names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    pools = _name_pools()
    weights = np.array([c.weight for c in synth.COMMUNITIES])
    community = rng.choice(len(pools), n, p=weights / weights.sum())
    given, family = np.empty(n, dtype=object), np.empty(n, dtype=object)
    for i, (givens, families) in enumerate(pools):
        mine = community == i
        given[mine] = rng.choice(givens, mine.sum())
        family[mine] = rng.choice(families, mine.sum())
    return given, family


_POOLS: list[tuple[np.ndarray, np.ndarray]] = []


def _name_pools() -> list[tuple[np.ndarray, np.ndarray]]:
    """Given and family names per community: the curated tables, or a Faker locale's."""
    if not _POOLS:
        for community in synth.COMMUNITIES:
            if isinstance(community.names, tuple):
                givens, families = (np.array(names.split()) for names in community.names)
            else:
                fake = Faker(community.names)
                fake.seed_instance(len(_POOLS))
                givens = np.array([fake.first_name_female() for _ in range(NAME_POOL_PER_LOCALE)])
                families = np.array([fake.last_name_female() for _ in range(NAME_POOL_PER_LOCALE)])
            _POOLS.append((givens, families))
    return _POOLS


def _birthdays(rng: np.random.Generator, n: int, born_since: date | None) -> np.ndarray:
    reference = np.datetime64(REFERENCE_DAY, "D")
    if born_since is None:
        ages = rng.normal(synth.MATERNAL_AGE_MEAN, synth.MATERNAL_AGE_SD, n)
        ages = np.clip(ages, synth.MIN_AGE, synth.MAX_AGE)
        days = reference - (ages * 365.25).astype(int)
    else:
        start = np.datetime64(born_since, "D")
        days = start + rng.integers(0, (reference - start).astype(int), n)
    return np.datetime_as_string(days, unit="D").astype(object)


def _postcodes(rng: np.random.Generator, n: int) -> np.ndarray:
    districts = np.array([d for d, _ in synth.POSTCODE_DISTRICTS])
    letters = np.array(list(synth.INWARD_LETTERS))
    return (
        rng.choice(districts, n).astype(object)
        + " "
        + rng.integers(0, 10, n).astype(str)
        + rng.choice(letters, n)
        + rng.choice(letters, n)
    )


def _addresses(rng: np.random.Generator, n: int) -> np.ndarray:
    streets = np.array(["HIGH STREET", "MANOR ROW", "LEEDS ROAD", "CHURCH LANE", "MILL LANE"])
    return rng.integers(1, 251, n).astype(str).astype(object) + " " + rng.choice(streets, n)


def _nhs_numbers(rng: np.random.Generator, n: int, taken: np.ndarray) -> np.ndarray:
    """``n`` distinct valid synthetic NHS numbers (as int64) not in ``taken``."""
    found = np.array([], dtype=np.int64)
    while len(found) < n:
        bodies = rng.integers(900_000_000, 1_000_000_000, int((n - len(found)) * 1.2) + 16)
        digits = bodies[:, None] // 10 ** np.arange(8, -1, -1) % 10
        check = (11 - (digits * _WEIGHTS).sum(axis=1) % 11) % 11
        numbers = bodies[check != 10] * 10 + check[check != 10]
        numbers = np.setdiff1d(numbers, np.concatenate([taken, found]))
        found = np.concatenate([found, rng.permutation(numbers)])
    return rng.permutation(found[:n])


def _as_int(numbers: pd.Series) -> np.ndarray:
    return pd.to_numeric(numbers, errors="coerce").dropna().to_numpy(dtype=np.int64)
