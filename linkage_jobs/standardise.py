"""Standardised identifiers: one spelling of each value, so equal people compare equal.

Applied to partner records and to the cohort's decrypted identities alike, and again by
``link()`` on its inputs, so every rule is idempotent. Each rule runs once per distinct
value (pyarrow compute kernels over the uniques, then a take), which is what keeps a
million rows to a second or two: names, dates and postcodes repeat a lot.
Missing or unusable values become ``None``; the columns come back as object dtype.
"""

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linkage_jobs.spec import IDENTIFIER_FIELDS

Rule = Callable[[pa.StringArray], pa.Array]

# Letters NFKD does not decompose into an ASCII base and a combining mark.
FOLDS = {"Ł": "L", "Ø": "O", "Đ": "D", "Ħ": "H", "Þ": "TH", "Ð": "D", "ẞ": "SS", "ß": "SS"}
FOLDS |= {"Æ": "AE", "Œ": "OE", "\u0131": "I"}  # dotless i
APOSTROPHES = "['`\u2018\u2019\u02bc]"  # straight, grave, curly and modifier apostrophes
# Leading titles staff type into the given-name box ("MRS aisha khan").
TITLES = ("MRS", "MS", "MISS", "MR", "MX", "DR")
TITLE_PREFIX = rf"^(?:(?:{'|'.join(TITLES)})(?: |$))+"
# Outward code, then the inward code (a digit and two letters Royal Mail uses).
POSTCODE = r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][ABD-HJLNP-UW-Z]{2}$"
# F, M and the NHS Data Dictionary person stated gender codes (1 male, 2 female);
# 0 (not known), 9 (not specified) and anything else are missing.
SEX = {"F": "F", "FEMALE": "F", "2": "F", "M": "M", "MALE": "M", "1": "M"}
NHS_NUMBER_WEIGHTS = np.arange(10, 1, -1)


def standardise(records: pd.DataFrame) -> pd.DataFrame:
    """The same rows and index with every identifier field standardised (added if absent);
    other columns untouched."""
    out = records.copy(deep=False)
    for name in IDENTIFIER_FIELDS:
        column = out[name] if name in out else pd.Series(None, index=out.index, dtype=object)
        out[name] = _per_distinct_value(column, RULES[name])
    return out


def _per_distinct_value(column: pd.Series, rule: Rule) -> pd.Series:
    codes, uniques = pd.factorize(column)
    text = pa.array(pd.Index(uniques).astype(str), type=pa.string())
    cleaned = rule(text).to_numpy(zero_copy_only=False)
    # Code -1 (a missing value) picks the None appended at the end.
    values = np.append(cleaned.astype(object), None)[codes]
    return pd.Series(values, index=column.index, dtype=object)


def _missing_if_empty(values: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def _ascii_upper(values: pa.Array) -> pa.Array:
    upper = pc.utf8_upper(values)
    for letter, folded in FOLDS.items():
        upper = pc.replace_substring(upper, letter, folded)
    decomposed = pc.utf8_normalize(upper, "NFKD")
    return pc.replace_substring_regex(decomposed, r"[^\x00-\x7F]", "")


def _words(values: pa.Array, keep: str) -> pa.Array:
    """Apostrophes dropped (O'Neil: ONEIL), other punctuation a space, spaces collapsed."""
    text = pc.replace_substring_regex(_ascii_upper(values), APOSTROPHES, "")
    text = pc.replace_substring_regex(text, rf"[^{keep} ]+", " ")
    return pc.utf8_trim(pc.replace_substring_regex(text, " +", " "), " ")


def family_name(values: pa.Array) -> pa.Array:
    return _missing_if_empty(_words(values, "A-Z"))


def given_name(values: pa.Array) -> pa.Array:
    untitled = pc.replace_substring_regex(_words(values, "A-Z"), TITLE_PREFIX, "")
    return _missing_if_empty(pc.utf8_trim(untitled, " "))


def address(values: pa.Array) -> pa.Array:
    return _missing_if_empty(_words(values, "A-Z0-9"))


def postcode(values: pa.Array) -> pa.Array:
    packed = pc.replace_substring_regex(pc.utf8_upper(values), r"\s+", "")
    spaced = pc.replace_substring_regex(packed, r"^(.+)(...)$", r"\1 \2")
    return pc.if_else(pc.match_substring_regex(packed, POSTCODE), spaced, None)


def sex(values: pa.Array) -> pa.Array:
    codes = pc.utf8_upper(pc.utf8_trim_whitespace(values))
    return pc.take(pa.array(list(SEX.values())), pc.index_in(codes, pa.array(list(SEX))))


def date_of_birth(values: pa.Array) -> pa.Array:
    """ISO dates (a trailing time, as ``str(Timestamp)`` has, is dropped); others missing."""
    day = pd.to_datetime(
        pc.utf8_slice_codeunits(values, 0, 10).to_pandas(), format="%Y-%m-%d", errors="coerce"
    )
    return pa.array(day.dt.strftime("%Y-%m-%d"), type=pa.string(), from_pandas=True)


def nhs_number(values: pa.Array) -> pa.Array:
    """Ten digits (spaces and dashes dropped) with a valid modulus 11 check digit and not
    one digit repeated, as ``cohort.nhs_number`` rules; vectorised over numpy digits."""
    digits = pc.replace_substring_regex(values, r"[\s-]+", "")
    shaped = pc.fill_null(pc.match_substring_regex(digits, r"^[0-9]{10}$"), False)
    candidates = digits.filter(shaped).to_pylist()
    matrix = np.frombuffer("".join(candidates).encode("ascii"), dtype=np.uint8).reshape(-1, 10)
    matrix = matrix.astype(np.int64) - ord("0")
    check = (11 - (matrix[:, :9] @ NHS_NUMBER_WEIGHTS) % 11) % 11
    valid = (check == matrix[:, 9]) & (matrix != matrix[:, :1]).any(axis=1)
    keep = np.zeros(len(values), dtype=bool)
    keep[np.flatnonzero(shaped.to_numpy(zero_copy_only=False))] = valid
    return pc.if_else(pa.array(keep), digits, None)


RULES: dict[str, Rule] = {
    "nhs_number": nhs_number,
    "given_name": given_name,
    "family_name": family_name,
    "date_of_birth": date_of_birth,
    "sex": sex,
    "postcode": postcode,
    "address": address,
    "mother_nhs_number": nhs_number,
}
