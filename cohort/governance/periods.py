"""Week and month buckets and whole days between two times, written once for SQLite and
once for PostgreSQL, so every query groups the same way on both. Times are bucketed in
UTC, as they are stored."""

from datetime import date, timedelta

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Integer, String


class month_of(FunctionElement):
    """``YYYY-MM`` of a timestamp."""

    type = String()
    inherit_cache = True


class day_of(FunctionElement):
    """``YYYY-MM-DD`` of a timestamp."""

    type = String()
    inherit_cache = True


class week_of(FunctionElement):
    """``YYYY-MM-DD`` of the Monday starting the ISO week of a ``YYYY-MM-DD`` day."""

    type = String()
    inherit_cache = True


class days_between(FunctionElement):
    """Whole days from the second timestamp to the first (rounded down)."""

    type = Integer()
    inherit_cache = True


@compiles(month_of, "sqlite")
def _month_sqlite(element, compiler, **kw) -> str:
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff': the prefix is the month, cheaper than strftime.
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"


@compiles(month_of, "postgresql")
def _month_pg(element, compiler, **kw) -> str:
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM')"


@compiles(day_of, "sqlite")
def _day_sqlite(element, compiler, **kw) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"


@compiles(day_of, "postgresql")
def _day_pg(element, compiler, **kw) -> str:
    stamp = compiler.process(element.clauses, **kw)
    return f"to_char(({stamp}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


@compiles(week_of, "sqlite")
def _week_sqlite(element, compiler, **kw) -> str:
    # The coming Sunday (or the day itself), then back six days.
    return f"date({compiler.process(element.clauses, **kw)}, 'weekday 0', '-6 days')"


@compiles(week_of, "postgresql")
def _week_pg(element, compiler, **kw) -> str:
    day = compiler.process(element.clauses, **kw)
    return f"to_char(date_trunc('week', CAST({day} AS timestamp)), 'YYYY-MM-DD')"


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


@compiles(days_between, "postgresql")
def _days_pg(element, compiler, **kw) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(floor(extract(epoch FROM ({later}) - ({earlier})) / 86400) AS INTEGER)"


def months(start: date, end: date) -> list[str]:
    """Every month touching ``start``..``end``, as ``month_of`` writes them."""
    found, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def weeks(start: date, end: date) -> list[str]:
    """The Monday of every ISO week touching ``start``..``end``, as ``week_of`` writes them."""
    monday = start - timedelta(days=start.weekday())
    return [(monday + timedelta(weeks=n)).isoformat() for n in range((end - monday).days // 7 + 1)]
