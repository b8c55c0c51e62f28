"""The dashboard's filters, read from the address: a period (from, to, whole days, both
included) and a site. Anything else is refused with a message naming the field; the
default is the twelve months to today."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, select

from cohort.errors import CohortError, Forbidden
from cohort.governance.reach import Reach
from cohort.models import Site

DATE_LENGTH = len("2026-03-01")
SITE_CODE_MAX = 16
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    site: Site | None  # None: every site the viewer may see

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    @property
    def end_before(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)

    @property
    def site_id(self) -> int | None:
        return self.site.id if self.site else None

    def query(self) -> dict[str, str]:
        """The filters as address parameters, for links and downloads."""
        chosen = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        return chosen | ({"site": self.site.code} if self.site else {})


def default_start(today: date) -> date:
    """The first day of the month eleven months back: twelve whole months to today."""
    months = today.year * 12 + today.month - 1 - 11
    return date(months // 12, months % 12 + 1, 1)


def _date(raw: str, field: str, label: str) -> date:
    text = raw.strip()
    try:
        if len(text) != DATE_LENGTH:
            raise ValueError
        value = date.fromisoformat(text)
    except ValueError:
        shown = text if len(text) <= DATE_LENGTH * 2 else text[: DATE_LENGTH * 2] + "…"
        raise CohortError(
            f"{label} must be a date written as year-month-day, like 2026-03-01, not {shown!r}",
            field=field,
        ) from None
    if value < EARLIEST:
        raise CohortError(f"{label} must be in {EARLIEST.year} or later", field=field)
    return value


def _site(session: Session, raw: str, reach: Reach) -> Site | None:
    code = raw.strip().upper()
    if reach.site_id is not None:
        own = session.get(Site, reach.site_id)
        if code and (own is None or code != own.code):
            raise Forbidden("you can see your own site's figures only", field="site")
        return own
    if not code:
        return None
    site = None
    if len(code) <= SITE_CODE_MAX:
        site = session.exec(select(Site).where(Site.code == code)).first()
    if site is None:
        raise CohortError("there is no such site: choose one from the list", field="site")
    return site


def parse_filters(
    session: Session, reach: Reach, *, start: str, end: str, site: str, today: date
) -> Filters:
    first = _date(start, "from", "the start of the period") if start.strip() else None
    last = _date(end, "to", "the end of the period") if end.strip() else today
    first = first or default_start(last)
    if first > last:
        raise CohortError("the period must start on or before the day it ends", field="from")
    return Filters(first, last, _site(session, site, reach))
