"""How good a linkage is against ground truth: precision, recall and F1.

A link counts as a true positive only when it names the record's true study_id; clerical
rows are not links (a person has yet to decide). The truth lists only the records that
belong to the cohort, so every other accepted link is a false positive.
"""

from dataclasses import dataclass

import pandas as pd

ACCEPTED = ("exact", "probabilistic")


@dataclass(frozen=True)
class Quality:
    precision: float
    recall: float
    f1: float
    true_pos: int
    false_pos: int
    false_neg: int


def measure(links: pd.DataFrame, truth: pd.DataFrame) -> Quality:
    accepted = links.loc[links["method"].isin(ACCEPTED), ["record_id", "study_id"]]
    joined = accepted.merge(truth, on="record_id", how="left", suffixes=("", "_true"))
    true_pos = int((joined["study_id"] == joined["study_id_true"]).sum())
    false_pos = len(accepted) - true_pos
    false_neg = len(truth) - true_pos
    precision = true_pos / len(accepted) if len(accepted) else 1.0
    recall = true_pos / len(truth) if len(truth) else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Quality(precision, recall, f1, true_pos, false_pos, false_neg)
