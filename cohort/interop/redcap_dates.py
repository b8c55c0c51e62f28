"""The dates and times REDCap sends (its YMD forms: ``date_ymd``, ``datetime_ymd`` and
``datetime_seconds_ymd``, the form of ``dateRangeBegin``), read as UTC moments.

REDCap writes no offset, and the platform keeps and counts every time in UTC, so a time is
read as UTC; a date alone is the start of that day, so it is counted on that day."""

import re
from datetime import UTC, datetime

FORMS = {  # length of the text -> its strptime pattern
    len("2024-05-01"): "%Y-%m-%d",
    len("2024-05-01 13:45"): "%Y-%m-%d %H:%M",
    len("2024-05-01 13:45:00"): "%Y-%m-%d %H:%M:%S",
}
SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?")
EXAMPLE = "2024-05-01, 2024-05-01 13:45 or 2024-05-01 13:45:00"


def moment(text: str) -> datetime:
    """The UTC moment ``text`` names; ``ValueError`` if it is not one of REDCap's forms
    or not a real date and time."""
    if not SHAPE.fullmatch(text):
        raise ValueError(f"not a REDCap date or date-time such as {EXAMPLE}")
    return datetime.strptime(text, FORMS[len(text)]).replace(tzinfo=UTC)
