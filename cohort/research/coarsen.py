"""Dates as precise as a project is approved for: the day (an ISO date), the month
("2025-03") or the year ("2025"). Written as DuckDB expressions, so every extract and
query coarsens the same way; a coarser date is text, which says what it is."""

GRANULARITIES = ("day", "month", "year")
SQL = {
    "day": "CAST({column} AS DATE)",
    "month": "strftime(CAST({column} AS DATE), '%Y-%m')",
    "year": "CAST(year(CAST({column} AS DATE)) AS VARCHAR)",
}
FORMATS = {"day": "date, YYYY-MM-DD", "month": "text, YYYY-MM", "year": "text, YYYY"}


def coarser(*granularities: str) -> str:
    """The coarsest of several (a variable never finer than the month, a project's)."""
    return max(granularities, key=GRANULARITIES.index)


def date_sql(column: str, granularity: str) -> str:
    return SQL[granularity].format(column=column)
