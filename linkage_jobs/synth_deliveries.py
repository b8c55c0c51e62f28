"""Synthetic partner deliveries for an instance: one file per shipped source, drawn from
the instance's own participants (decrypted in memory, whatever their consent, so the
consent filter has work to do), dropped in each source's inbox, with the ground truth
(record id -> the mother's study ID) written outside every inbox under the file's
SHA-256 (``linkage_jobs.ground_truth``), so its run reports precision and recall.

The same seed gives the same files, so re-delivering them is a duplicate the runner skips.
"""

from dataclasses import dataclass
from pathlib import Path

from cohort.instance import Instance
from linkage_jobs import ground_truth
from linkage_jobs.cohort_identities import everyone
from linkage_jobs.partner_files import write_partner_file
from linkage_jobs.runner import Places, sha256_of
from linkage_jobs.spec import SourceSpec
from linkage_jobs.synth_partners import partner_records

MEMBER_SHARE = 0.6  # of a file's rows, cohort members (some twice); the rest are others
ROWS_PER_MEMBER = 1.2
MIN_ROWS = 20
MAX_ROWS = 1_000_000
EXTENSIONS = {"csv": "csv", "parquet": "parquet"}


@dataclass(frozen=True)
class Delivery:
    source: str
    file: Path
    truth: Path
    rows: int


def deliver(
    instance: Instance, specs: dict[str, SourceSpec], *, seed: int, rows: int | None = None
) -> list[Delivery]:
    """Write one synthetic file per spec into its inbox, and its truth beside the others."""
    cohort = everyone(instance.engine, instance.keys).frame
    n = rows or max(MIN_ROWS, round(len(cohort) * ROWS_PER_MEMBER))
    done = []
    for offset, spec in enumerate(specs.values()):
        records, truth = partner_records(
            cohort, rows=n, member_share=MEMBER_SHARE, seed=seed + offset, subject=spec.subject
        )
        inbox = Places.of(instance.settings, spec).inbox
        file = inbox / f"{spec.name}_{seed}.{EXTENSIONS[spec.format]}"
        write_partner_file(spec, records, file, seed + offset)
        truth_path = ground_truth.write(instance.settings, spec.name, sha256_of(file), truth)
        done.append(Delivery(spec.name, file, truth_path, len(records)))
    return done
