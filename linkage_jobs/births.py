"""All births in a maternity file, counted for the representativeness page: every valid
row, whether or not the woman is in the cohort or consented, by month of booking, her age
band on that day and her ethnicity, the consent form's codes for both, and her area's
deprivation decile when a postcode-to-IMD lookup is loaded (``cohort.imd``; else not
known). The postcode is read only to find the decile, here in the run's memory.

This is the only place the whole file (not only the consented, linked rows) leaves the
linkage run, and it leaves as counts: no identifier, no record id, no date finer than a
month. A row without a booking date is in no month and is not counted; a row the
validator rejected is not counted either. The counts are kept per delivered file (its
SHA-256) and replaced when the same file is counted again (a run retried after a
failure), and dropped when the file's run fails, so a file counts once or not at all. A
pregnancy sent again in a *different* file is counted in each: partners should send each
booking once (an extract per month, not a running total)."""

from collections.abc import Mapping

import pandas as pd
from sqlalchemy import delete
from sqlmodel import Session, select

from cohort import imd
from cohort.age_bands import band_of
from cohort.errors import CohortError
from cohort.models import BirthCount, LinkageRun, Site
from linkage_jobs.ethnic_category import ons_2021
from linkage_jobs.spec import SourceSpec

NOT_KNOWN = ""  # an age band, ethnicity or decile not known, as BirthCount keeps it
GROUPS = ["month", "age_band", "ethnicity", "imd_decile"]


def count(
    records: pd.DataFrame, spec: SourceSpec, deciles: Mapping[str, int] | None = None
) -> pd.DataFrame:
    """Births by month, age band, ethnicity and decile (``GROUPS`` and ``births``) of
    validated records (``validate_file``'s: identifiers as ISO text, payload dates as
    datetimes); ``deciles``: the loaded lookup (``imd.deciles``), None or empty if none."""
    if spec.births is None:
        raise ValueError(f"the {spec.name} spec counts no births")
    booked = pd.to_datetime(records[spec.births.date], errors="coerce")
    born = pd.to_datetime(records["date_of_birth"], format="%Y-%m-%d", errors="coerce")
    before_birthday = (booked.dt.month * 100 + booked.dt.day) < (born.dt.month * 100 + born.dt.day)
    age = booked.dt.year - born.dt.year - before_birthday.astype(int)
    ethnicity = (
        records[spec.births.ethnicity].astype(object).where(lambda s: s.notna(), None)
        if spec.births.ethnicity
        else pd.Series(None, index=records.index, dtype=object)
    )
    postcodes = records.get("postcode", pd.Series(None, index=records.index, dtype=object))
    rows = pd.DataFrame(
        {
            "month": booked.dt.strftime("%Y-%m"),
            "age_band": _per_value(age.astype("Int64"), lambda a: band_of(int(a))),
            "ethnicity": _per_value(ethnicity, ons_2021),
            "imd_decile": _per_value(postcodes, lambda raw: _decile(deciles or {}, raw)),
        }
    )
    rows = rows[booked.notna().to_numpy()].fillna({name: NOT_KNOWN for name in GROUPS[1:]})
    counted = rows.groupby(GROUPS, sort=True).size().rename("births").reset_index()
    return counted.astype({"births": int})


def _decile(deciles: Mapping[str, int], raw: str) -> str | None:
    found = deciles.get(imd.normal(str(raw)) or "")
    return None if found is None else str(found)


def _per_value(values: pd.Series, convert) -> pd.Series:
    """``convert`` once per distinct value (missing stays None): columns repeat a lot."""
    codes, uniques = pd.factorize(values)
    converted = [convert(value) for value in uniques]
    return pd.Series([None if c < 0 else converted[c] for c in codes], index=values.index)


def site_of(session: Session, spec: SourceSpec) -> int | None:
    """The id of the site the spec's ``[births] site`` names; None for the whole network."""
    code = spec.births.site if spec.births else None
    if code is None:
        return None
    site = session.exec(select(Site).where(Site.code == code.strip().upper())).first()
    if site is None:
        raise CohortError(
            f"the {spec.name} spec's births.site {code!r} is no site of this network: "
            "correct it (a site code from the sites page) or remove it to count the "
            "births network-wide; the file stays in the inbox",
            field="births.site",
        )
    return site.id


def replace(session: Session, spec: SourceSpec, sha256: str, counted: pd.DataFrame) -> int:
    """The file's counts in place of any it had; the number of births kept."""
    site_id = site_of(session, spec)
    drop(session, sha256)
    for month, band, ethnicity, decile, births in counted[[*GROUPS, "births"]].itertuples(
        index=False
    ):
        session.add(
            BirthCount(
                source=spec.name,
                file_sha256=sha256,
                site_id=site_id,
                month=month,
                age_band=band,
                ethnicity=ethnicity,
                imd_decile=decile,
                births=int(births),
            )
        )
    return int(counted["births"].sum())


def drop(session: Session, sha256: str) -> None:
    session.exec(delete(BirthCount).where(BirthCount.file_sha256 == sha256))


def settle_failed(session: Session, sha256: str) -> None:
    """A run of the file failed: forget its counts, which it will count again when it
    links, unless an earlier run of the same file succeeded (a failure before the
    duplicate check, say) and its counts stand."""
    linked = session.exec(
        select(LinkageRun.id).where(
            LinkageRun.file_sha256 == sha256, LinkageRun.outcome == "succeeded"
        )
    ).first()
    if linked is None:
        drop(session, sha256)
