"""The ground truth of a synthetic delivery (record id -> the mother's study ID), kept
outside every inbox under the delivered file's SHA-256: a run over exactly that file
reports its precision and recall, and a partner's real file, which has no truth, reports
none. Demo and test instances have truth files; a production instance has none."""

from pathlib import Path

import pandas as pd

from cohort.config import Settings
from linkage_jobs.quality import measure


def path_for(settings: Settings, source: str, sha256: str) -> Path:
    return settings.data_dir / "synth" / "truth" / source / f"{sha256}.csv"


def write(settings: Settings, source: str, sha256: str, truth: pd.DataFrame) -> Path:
    path = path_for(settings, source, sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    truth[["record_id", "study_id"]].to_csv(path, index=False)
    return path


def measured(settings: Settings, source: str, sha256: str, matches: pd.DataFrame) -> dict | None:
    """Precision, recall and F1 of a run's matches (before the consent filter: how well it
    linked, not who may be linked), with their counts; None without a truth file."""
    path = path_for(settings, source, sha256)
    if not path.is_file():
        return None
    truth = pd.read_csv(path, dtype=str, keep_default_na=False)
    found = measure(matches[["record_id", "study_id", "method"]].astype(str), truth)
    return {
        "precision": found.precision,
        "recall": found.recall,
        "f1": found.f1,
        "true_pos": found.true_pos,
        "false_pos": found.false_pos,
        "false_neg": found.false_neg,
    }
