"""Linkage: 100,000 mothers against a 1,000,000-row health file (about 90,000 rows of
members, some twice; 10% of those with a missing, mistyped or someone else's NHS number;
typos, day/month swaps, married names, moved postcodes; near-namesakes who must not link).

Five ways, interleaved run by run so the shared machine's drift hits them alike, each
from the raw frames (standardisation and hashing included) in a fresh forked process, so
its peak memory is its own: (a) bare Splink on all rows, trained as the tutorials do
(the baseline); (b) the exact NHS-number join alone; (c) the naive two-pass (the exact
join believed, then Splink on the rest); (d) ``link()`` training its model; (e)
``link()`` reusing the stored model. Wall time, peak resident memory, and precision,
recall and F1 against the ground truth.

Then once, (f) ``link()`` on a child file of the same size (birth notifications: a first
child delivery, no child known yet, each row standing in for its mother), training
included: its precision and recall, whose ceiling is about 0.89 (``linkage_jobs`` README).

``BENCH_LINKAGE_SCALE=0.1`` runs a tenth of the size; ``BENCH_LINKAGE_RUNS`` sets the runs.
"""

import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from splink import Linker

from bench.harness import Row, median, p99, scale
from linkage_jobs import comparisons
from linkage_jobs.keyed_hash import random_key
from linkage_jobs.match import DEFAULT_THRESHOLD, link
from linkage_jobs.match_tables import cohort_table, source_table, splink_db
from linkage_jobs.model import load_latest, save, train
from linkage_jobs.quality import Quality, measure
from linkage_jobs.synth_partners import cohort_people, partner_records

MOTHERS, ROWS, MEMBER_SHARE = 100_000, 1_000_000, 0.09
SCALE = scale("linkage")
RUNS = int(os.environ.get("BENCH_LINKAGE_RUNS", "3"))
# The baseline's training, as Splink's tutorials set it: a large u sample, EM with term
# frequencies on two blocks of all rows (names; birthday and postcode).
BARE_U_PAIRS = 5e6
BARE_EM_BLOCKS = [
    "l.given_name = r.given_name AND l.family_name = r.family_name",
    "l.date_of_birth = r.date_of_birth AND l.postcode = r.postcode",
]

Method = Callable[[pd.DataFrame, pd.DataFrame, Path], pd.DataFrame]


def bare_splink(cohort: pd.DataFrame, source: pd.DataFrame, _: Path) -> pd.DataFrame:
    """Splink alone: every row scored, the NHS-number hash one comparison among others."""
    key = random_key()
    left, right = cohort_table(cohort, key), source_table(source, key)
    with splink_db(left, right) as inputs:
        linker = Linker(inputs.tables, comparisons.settings(), log_level=None)
        linker.training.estimate_probability_two_random_records_match(
            [comparisons.PRIOR_RULE], recall=comparisons.PRIOR_RULE_RECALL
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=BARE_U_PAIRS, seed=0)
        for block in BARE_EM_BLOCKS:
            linker.training.estimate_parameters_using_expectation_maximisation(block)
        pairs = linker.inference.predict(threshold_match_probability=DEFAULT_THRESHOLD)
        pairs = pairs.as_pandas_dataframe()
    on_left = pairs["source_dataset_l"] == "cohort_input"
    best = (
        pd.DataFrame(
            {
                "record_id": pairs["unique_id_r"].where(on_left, pairs["unique_id_l"]),
                "study_id": pairs["unique_id_l"].where(on_left, pairs["unique_id_r"]),
                "match_probability": pairs["match_probability"],
            }
        )
        .sort_values("match_probability", ascending=False)
        .drop_duplicates("record_id")
    )
    return best.assign(method="probabilistic")


def exact_join(cohort: pd.DataFrame, source: pd.DataFrame, _: Path) -> pd.DataFrame:
    """The keyed NHS-number hash joined, nothing confirmed."""
    key = random_key()
    left = cohort_table(cohort, key)[["unique_id", comparisons.NHS]].dropna()
    right = source_table(source, key)[["unique_id", comparisons.NHS]].dropna()
    joined = right.merge(left, on=comparisons.NHS, suffixes=("_r", "_l"))
    return pd.DataFrame(
        {
            "record_id": joined["unique_id_r"],
            "study_id": joined["unique_id_l"],
            "match_probability": 1.0,
            "method": "exact",
        }
    )


def two_pass(cohort: pd.DataFrame, source: pd.DataFrame, models: Path) -> pd.DataFrame:
    """The naive two-pass: the exact NHS-number join believed as it stands, then Splink
    on the rows it left, with a model trained on all of them (on the rest alone no pair
    shares a number, so the prior cannot be estimated). Someone else's number stays a
    wrong link."""
    exact = exact_join(cohort, source, models).drop_duplicates("record_id")
    rest = source[~source["record_id"].isin(exact["record_id"])]
    model = train(cohort, source, "health")
    return pd.concat([exact, link(cohort, rest, model=model)], ignore_index=True)


def link_training(cohort: pd.DataFrame, source: pd.DataFrame, _: Path) -> pd.DataFrame:
    """``link()`` as a first run: a model trained on the fly, then linked with."""
    return link(cohort, source)


def link_stored(cohort: pd.DataFrame, source: pd.DataFrame, models: Path) -> pd.DataFrame:
    """``link()`` as a scheduled run: load the stored model, link."""
    return link(cohort, source, model=load_latest(models, "health"))


METHODS: dict[str, tuple[str, Method]] = {
    "bare": ("(a) bare Splink on all rows (baseline)", bare_splink),
    "exact": ("(b) exact NHS-number join alone", exact_join),
    "two_pass": ("(c) naive two-pass: exact join believed, then Splink on the rest", two_pass),
    "train": ("(d) link(), training included", link_training),
    "stored": ("(e) link(), stored model reused", link_stored),
}


def _measure(key: str, models: Path) -> tuple[float, float, float, Quality]:
    """Run one method once: wall seconds, CPU seconds (all threads; less swayed than wall
    time by other work on the machine), peak MiB and quality."""
    cohort, source, truth = _DATA
    start = time.perf_counter()
    links = METHODS[key][1](cohort, source, models)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, measure(links, truth)


def _store_model(models: Path) -> None:
    cohort, source, _ = _DATA
    save(train(cohort, source, "health"), models)


_DATA: tuple = ()


def _in_child(fn: Callable, *args: object) -> Any:
    """``fn(*args)`` in a forked process, so its peak memory is its own and DuckDB's
    threads never run in the parent (a fork after them could deadlock)."""
    receive, send = multiprocessing.Pipe(duplex=False)

    def target() -> None:
        try:
            send.send(fn(*args))
        except BaseException as error:  # the parent would otherwise wait forever
            send.send(error)
            raise
        finally:
            send.close()

    child = multiprocessing.get_context("fork").Process(target=target)
    child.start()
    result = receive.recv()
    child.join()
    if isinstance(result, BaseException):
        raise result
    return result


def run(tmp: Path) -> list[Row]:
    global _DATA
    mothers, rows = round(MOTHERS * SCALE), round(ROWS * SCALE)
    start = time.perf_counter()
    cohort = cohort_people(mothers, seed=1)
    source, truth = partner_records(cohort, rows=rows, member_share=MEMBER_SHARE, seed=2)
    synth_seconds = time.perf_counter() - start
    _DATA = (cohort, source, truth)
    _in_child(_store_model, tmp / "models")  # what (d) loads
    results: dict[str, list[tuple[float, float, float, Quality]]] = {key: [] for key in METHODS}
    for _ in range(RUNS):
        for key in METHODS:
            results[key].append(_in_child(_measure, key, tmp / "models"))
            print(key, results[key][-1], flush=True)
    return [
        Row(
            f"synthetic data: {mothers:,} mothers, {rows:,}-row file ({len(truth):,} member rows)",
            "s",
            synth_seconds,
        ),
        *(row for key in METHODS for row in _rows(key, results)),
        *_in_child(_child_file_rows),
    ]


def _child_file_rows() -> list[Row]:
    """(f): the same cohort against a child file of the same size, linked once."""
    cohort, source, _ = _DATA
    children, truth = partner_records(
        cohort, rows=len(source), member_share=MEMBER_SHARE, seed=3, subject="child"
    )
    start = time.perf_counter()
    q = measure(link(cohort, children), truth)
    title = "(f) link() on a child file (first delivery), training included"
    return [
        Row(f"{title}: wall time", "s", time.perf_counter() - start),
        Row(
            f"{title}: F1 {q.f1:.4f} (precision {q.precision:.4f}, recall {q.recall:.4f}; "
            f"{q.false_pos:,} false, {q.false_neg:,} missed)",
            "%",
            q.f1 * 100,
        ),
    ]


def _rows(key: str, results: dict[str, list[tuple[float, float, float, Quality]]]) -> list[Row]:
    title = METHODS[key][0]
    seconds = [r[0] for r in results[key]]
    bare = median([r[0] for r in results["bare"]])
    quality = results[key][-1][3]  # the same data each run: identical links
    return [
        Row(
            f"{title}: wall time",
            "s",
            median(seconds),
            p99(seconds),
            None if key == "bare" else "bare Splink",
            None if key == "bare" else median(seconds) / bare,
        ),
        Row(f"{title}: CPU time, all threads", "s", median([r[1] for r in results[key]])),
        Row(f"{title}: peak memory (whole process)", "MiB", median([r[2] for r in results[key]])),
        Row(
            f"{title}: F1 {quality.f1:.4f} (precision {quality.precision:.4f}, "
            f"recall {quality.recall:.4f}; "
            f"{quality.false_pos:,} false, {quality.false_neg:,} missed)",
            "%",
            quality.f1 * 100,
        ),
    ]
