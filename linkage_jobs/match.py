"""``link()``: which cohort member, if any, each partner record belongs to.

One Splink prediction scores every pair the blocking rules admit (NHS-number hash first,
then birthday, postcode, names), with term-frequency adjusted Fellegi-Sunter weights.
A pair sharing an NHS number is an *exact* match only when the other identifiers, on
their own, back it up (``CONFIRM_BITS``): partners do send rows carrying someone else's
valid number (a sibling's; on a child's row, another mother's). An unconfirmed shared
number is then taken to be someone else's and counts on none of that record's pairs:
differing from another member's number says nothing either, and each pair stands or
falls on the other identifiers like a row without a number. Each record goes to its
single best member; pairs in the grey zone go to clerical review, not to the cohort.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from splink import Linker

from cohort.errors import CohortError
from linkage_jobs.comparisons import NHS
from linkage_jobs.keyed_hash import random_key
from linkage_jobs.match_tables import (
    COHORT,
    PARTNER,
    SplinkInputs,
    cohort_table,
    has_identifiers,
    is_child_file,
    source_table,
    splink_db,
)
from linkage_jobs.model import LinkageModel, train_in

# At 0.75 the synthetic benchmark (100,000 mothers, a million rows) has its best F1 with
# precision 0.99999; above it, members without an NHS number who moved go to review.
DEFAULT_THRESHOLD = 0.75
CLERICAL_FLOOR = 0.5
# Evidence (log2 Bayes factor) the identifiers other than the NHS number must add up to
# before a shared NHS number is believed: at least "more likely the same woman than not".
CONFIRM_BITS = 0.0
COLUMNS = ["record_id", "study_id", "match_probability", "method"]


@dataclass(frozen=True)
class Linked:
    """What ``link_with_model`` found, and the model that scored it: the one given, or
    the one trained on these very tables (None when there was nothing to link)."""

    matches: pd.DataFrame
    model: LinkageModel | None


def link(
    cohort: pd.DataFrame,
    source: pd.DataFrame,
    threshold: float = DEFAULT_THRESHOLD,
    model: LinkageModel | None = None,
    *,
    clerical_floor: float = CLERICAL_FLOOR,
    nhs_key: bytes | None = None,
) -> pd.DataFrame:
    """One row per partner record that links (``exact``, ``probabilistic``) or needs a
    person to decide (``clerical``): record_id, study_id, match_probability, method."""
    return link_with_model(
        cohort, source, threshold, model, clerical_floor=clerical_floor, nhs_key=nhs_key
    ).matches


def link_with_model(
    cohort: pd.DataFrame,
    source: pd.DataFrame,
    threshold: float = DEFAULT_THRESHOLD,
    model: LinkageModel | None = None,
    *,
    clerical_floor: float = CLERICAL_FLOOR,
    nhs_key: bytes | None = None,
    source_name: str = "",
) -> Linked:
    """``link``, also handing back the model, so a caller that had none can store the one
    trained here (named ``source_name``) without preparing the tables a second time."""
    _check_thresholds(threshold, clerical_floor)
    key = nhs_key or random_key()
    left, right = cohort_table(cohort, key), source_table(source, key)
    if not (len(left) and len(right) and has_identifiers(left) and has_identifiers(right)):
        return Linked(_empty(), model)
    with splink_db(left, right) as inputs:
        model = model or train_in(inputs, source_name, seed=0)
        pairs = _scored_pairs(inputs, model, clerical_floor)
    matches = _best_per_record(pairs, model, threshold, clerical_floor, is_child_file(source))
    return Linked(matches, model)


def _check_thresholds(threshold: float, clerical_floor: float) -> None:
    if not 0 < threshold <= 1:
        raise CohortError(f"threshold must be above 0 and at most 1, not {threshold}")
    if not 0 < clerical_floor <= threshold:
        raise CohortError(
            f"clerical_floor must be above 0 and at most the threshold ({threshold}), "
            f"not {clerical_floor}"
        )


def _scored_pairs(inputs: SplinkInputs, model: LinkageModel, floor: float) -> pd.DataFrame:
    linker = Linker(inputs.tables, model.settings, log_level=None)
    # Scored down to the floor less a differing number's weight: a record found to carry
    # someone else's number gets that weight back (``_best_per_record``).
    lowest = _bits(floor) + min(0.0, _differing_nhs_bits(model))
    pairs = linker.inference.predict(threshold_match_weight=lowest).as_pandas_dataframe()
    on_left = pairs["source_dataset_l"] == f"{COHORT}_input"
    record_ids = np.where(on_left, pairs["unique_id_r"], pairs["unique_id_l"])
    return pd.DataFrame(
        {
            "study_id": np.where(on_left, pairs["unique_id_l"], pairs["unique_id_r"]),
            "record_id": record_ids,
            # Whether a member holds the record's number: that pair may score too low to
            # be among these, yet says the number is someone else's if nothing confirms it.
            "number_held": _held(record_ids, _records_with_a_members_number(inputs)),
            "match_weight": pairs["match_weight"].to_numpy(),
            # Only a shared number carries positive weight (missing is 0, differing < 0).
            "nhs_agrees": (pairs[f"mw_{NHS}"] > 0).to_numpy(),
            "nhs_bits": pairs[f"mw_{NHS}"].to_numpy(dtype=float),
            "postcode_bits": pairs["mw_postcode"].to_numpy(dtype=float),
        }
    )


def _held(record_ids: np.ndarray, held: set[str]) -> np.ndarray:
    return np.fromiter((r in held for r in record_ids), dtype=bool, count=len(record_ids))


def _records_with_a_members_number(inputs: SplinkInputs) -> set[str]:
    sql = (
        f"SELECT DISTINCT r.unique_id FROM {PARTNER} AS r "  # noqa: S608 (our names)
        f"WHERE r.{NHS} IN (SELECT {NHS} FROM {COHORT})"
    )
    return {row[0] for row in inputs.con.execute(sql).fetchall()}


def _bits(probability: float) -> float:
    return float(np.log2(probability / (1 - probability)))


def _differing_nhs_bits(model: LinkageModel) -> float:
    """The weight of two different NHS numbers (the comparison's "all other" level)."""
    (nhs,) = [c for c in model.settings["comparisons"] if c["output_column_name"] == NHS]
    different = nhs["comparison_levels"][-1]
    return float(np.log2(different["m_probability"] / different["u_probability"]))


def _best_per_record(
    pairs: pd.DataFrame, model: LinkageModel, threshold: float, floor: float, stand_in: bool
) -> pd.DataFrame:
    prior_bits = _bits(model.settings["probability_two_random_records_match"])
    without_nhs = pairs["match_weight"] - pairs["nhs_bits"]
    confirmed = pairs["nhs_agrees"] & (without_nhs - prior_bits >= CONFIRM_BITS)
    # A member's number that no pair confirms is someone else's: it counts on none of the
    # record's pairs.
    misnumbered = pairs["number_held"] & ~confirmed.groupby(pairs["record_id"]).transform("any")
    weight = np.where(misnumbered, without_nhs, pairs["match_weight"])
    # Two different valid NHS numbers and different addresses: a namesake born the same
    # day looks exactly like this, so only a person may decide it is the same woman. A
    # child's row standing in for its mother has only her family name and postcode
    # besides: with another valid number, her sister at the same address looks the same.
    differing = (pairs["nhs_bits"] < 0) & ~misnumbered
    conflicting = differing & ((pairs["postcode_bits"] < 0) | stand_in)
    scored = pairs.assign(
        match_probability=1 / (1 + np.exp2(-weight)),
        exact=confirmed,
        conflicting=conflicting,
    )
    scored = scored[scored["match_probability"] >= floor]
    best = scored.sort_values(
        ["record_id", "exact", "match_probability"], ascending=[True, False, False]
    ).drop_duplicates("record_id")
    accepted = (best["match_probability"] >= threshold) & ~best["conflicting"]
    best["method"] = np.select(
        [accepted & best["exact"], accepted], ["exact", "probabilistic"], "clerical"
    )
    return best[COLUMNS].reset_index(drop=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype=float if c == "match_probability" else object) for c in COLUMNS}
    )
