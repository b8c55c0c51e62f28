"""Trained linkage models: Splink's settings with their m and u probabilities, as files a
data manager can read, diff and keep (``<directory>/<source>/<version>.json``).

Training is cheap by design, because scheduled runs reuse a stored model and retraining
is on command: u from a bounded random sample of pairs, m by expectation maximisation on
pairs sharing an NHS number (nearly all true matches, so they teach what agreement looks
like) and on pairs sharing full names and birth month (which teach how often a true
match's NHS number agrees), the prior from pairs agreeing on NHS number and postcode.
"""

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from splink import Linker

from cohort.errors import CohortError
from linkage_jobs import comparisons
from linkage_jobs.keyed_hash import random_key
from linkage_jobs.match_tables import (
    SplinkInputs,
    cohort_table,
    count_pairs,
    has_identifiers,
    source_table,
    splink_db,
)

U_MAX_PAIRS = 2e6
MIN_M = 1e-3
MIN_EM_PAIRS = 10  # fewer pairs than this teach nothing; the level keeps neutral values
SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
for _noisy in ("splink", "splink.internals"):
    logging.getLogger(_noisy).setLevel(logging.ERROR)


@dataclass(frozen=True)
class LinkageModel:
    settings: dict[str, Any]
    trained_at: datetime
    version: str
    source: str
    training_rows: int


def train(
    cohort: pd.DataFrame, source: pd.DataFrame, source_name: str = "", *, seed: int = 0
) -> LinkageModel:
    """A model learnt from this cohort and partner file; no labels needed."""
    key = random_key()
    return train_on_tables(cohort_table(cohort, key), source_table(source, key), source_name, seed)


def train_on_tables(
    left: pd.DataFrame, right: pd.DataFrame, source_name: str, seed: int
) -> LinkageModel:
    """``train`` on tables already standardised and hashed (``match_tables``)."""
    _check_trainable(left, right)
    with splink_db(left, right) as inputs:
        return train_in(inputs, source_name, seed)


def _check_trainable(left: pd.DataFrame, right: pd.DataFrame) -> None:
    if left.empty or right.empty or not (has_identifiers(left) and has_identifiers(right)):
        raise CohortError(
            "Cannot train a linkage model: the cohort or the partner file has no identifiers"
        )


def train_in(inputs: SplinkInputs, source_name: str, seed: int) -> LinkageModel:
    """``train`` on tables already loaded for Splink, so ``link`` can go on to use them."""
    _check_trainable(inputs.cohort, inputs.source)
    all_pairs = len(inputs.cohort) * len(inputs.source)
    settings = comparisons.settings() | {
        "probability_two_random_records_match": _prior(inputs.con, all_pairs)
    }
    linker = Linker(inputs.tables, settings, log_level=None)
    sampled = min(U_MAX_PAIRS, all_pairs)
    linker.training.estimate_u_using_random_sampling(max_pairs=sampled, seed=seed, num_chunks=1)
    teaching = [b for b in comparisons.NHS_TEACHING_BLOCKS if _enough(inputs.con, b)]
    for block in [comparisons.NHS_BLOCK, *teaching[:1]]:
        if _enough(inputs.con, block):
            linker.training.estimate_parameters_using_expectation_maximisation(
                block, estimate_without_term_frequencies=True
            )
    trained = linker.misc.save_model_to_json()
    trained.pop("linker_uid", None)
    _fill_unobserved(trained, sampled)
    trained["probability_two_random_records_match"] = _significant(
        trained["probability_two_random_records_match"]
    )
    return LinkageModel(
        settings=trained,
        trained_at=datetime.now(UTC),
        version=_version(trained),
        source=source_name,
        training_rows=len(inputs.cohort) + len(inputs.source),
    )


def _enough(con: duckdb.DuckDBPyConnection, block: str) -> bool:
    return count_pairs(con, block) >= MIN_EM_PAIRS


def _prior(con: duckdb.DuckDBPyConnection, all_pairs: int) -> float:
    """The share of all pairs that match, from the pairs a near-certain rule finds."""
    found = count_pairs(con, comparisons.PRIOR_RULE)
    return min(max(found, 1) / comparisons.PRIOR_RULE_RECALL / all_pairs, 0.5)


def _fill_unobserved(settings: dict[str, Any], sampled: float) -> None:
    """Cautious values where training saw too little: a u never seen among ``sampled``
    random pairs is at most one in ``sampled``; an m never seen is neutral (equal to u);
    an m below ``MIN_M`` is raised to it, so no single disagreement (a new given name)
    can veto a match that everything else supports."""
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            u = level.get("u_probability")
            if not isinstance(u, float) or u <= 0:
                level["u_probability"] = 1 / sampled
            m = level.get("m_probability")
            unseen = not isinstance(m, float) or m <= 0
            level["m_probability"] = level["u_probability"] if unseen else max(m, MIN_M)
            for name in ("m_probability", "u_probability"):
                level[name] = _significant(level[name])


def _significant(x: float) -> float:
    """Six significant figures: parallel sums differ in the last bits from run to run, and
    the version (a hash of the settings) must not."""
    return float(f"{x:.6g}")


def _version(settings: dict[str, Any]) -> str:
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def save(model: LinkageModel, directory: Path) -> Path:
    """Write the model as ``<directory>/<source>/<version>.json`` and return the path."""
    path = Path(directory) / _checked_name(model.source) / f"{model.version}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "source": model.source,
        "version": model.version,
        "trained_at": model.trained_at.isoformat(),
        "training_rows": model.training_rows,
        "settings": model.settings,
    }
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, indent=2, sort_keys=True))
    temporary.replace(path)
    return path


def load_latest(directory: Path, source_name: str) -> LinkageModel | None:
    """The most recently trained model saved for ``source_name``, or None if there is none."""
    models = [_read(p) for p in (Path(directory) / _checked_name(source_name)).glob("*.json")]
    return max(models, key=lambda m: m.trained_at, default=None)


def _read(path: Path) -> LinkageModel:
    try:
        document = json.loads(path.read_text())
        return LinkageModel(
            settings=document["settings"],
            trained_at=datetime.fromisoformat(document["trained_at"]),
            version=document["version"],
            source=document["source"],
            training_rows=int(document["training_rows"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CohortError(
            f"The stored linkage model {path.name} for {path.parent.name} cannot be read "
            f"({error}); retrain it with 'cohort link train {path.parent.name}'"
        ) from error


def _checked_name(source_name: str) -> str:
    if not SOURCE_NAME.fullmatch(source_name):
        raise CohortError(
            f"{source_name!r} is not a source name: use lower-case letters, digits, _ and -",
            field="source",
        )
    return source_name
