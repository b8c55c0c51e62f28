"""Aggregate queries (safe outputs): a count, mean or median of a project's approved data,
grouped by approved variables and optionally filtered, with disclosure control applied
before anything leaves. Counts are of people (each child her own), the unit disclosure
control protects; a group's count at or below the threshold is suppressed, the rest
rounded, and its mean or median withheld with it. No totals are published, so no
suppressed cell can be worked back from one.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import Session

from cohort import audit
from cohort.config import Settings
from cohort.errors import CohortError
from cohort.models import User
from cohort.research import projects
from cohort.research.catalogue import datasets
from cohort.research.disclosure import protect, statistic
from cohort.research.project_data import PERSON, Definition, open_views

MEASURES = {"count": None, "mean": "avg", "median": "median"}
NUMERIC = ("integer", "number")
MAX_GROUPS = 2
DECIMALS = 2


@dataclass(frozen=True)
class Query:
    dataset: str
    group_by: tuple[str, ...] = ()
    measure: str = "count"  # count, mean or median
    of: str | None = None  # the numeric variable a mean or median is of
    filters: tuple[tuple[str, str], ...] = ()  # (variable, value): rows where it equals

    def as_json(self) -> dict:
        return {
            "dataset": self.dataset,
            "group_by": list(self.group_by),
            "measure": self.measure,
            "of": self.of,
            "filters": [list(f) for f in self.filters],
        }


@dataclass(frozen=True)
class Row:
    groups: tuple[str, ...]
    n: int | None  # people, after disclosure control (None: suppressed)
    value: float | None = None  # the mean or median, withheld with its count


@dataclass(frozen=True)
class Result:
    query: Query
    rows: list[Row] = field(default_factory=list)

    @property
    def suppressed(self) -> int:
        return sum(row.n is None for row in self.rows)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check(query: Query, approved: dict[str, list[str]]) -> None:
    if query.dataset not in approved:
        raise CohortError(
            f"the project is not approved for dataset {query.dataset!r}", field="dataset"
        )
    allowed = approved[query.dataset]
    named = [*query.group_by, *(f for f, _ in query.filters), *([query.of] if query.of else [])]
    for name in named:
        if name not in allowed:
            raise CohortError(
                f"{name!r} is not an approved variable of {query.dataset}", field="group_by"
            )
    if len(query.group_by) > MAX_GROUPS or len(set(query.group_by)) != len(query.group_by):
        raise CohortError(f"group by 1 or {MAX_GROUPS} different variables", field="group_by")
    if query.measure not in MEASURES:
        raise CohortError(f"the measure must be one of {', '.join(MEASURES)}", field="measure")
    if query.measure != "count":
        kind = datasets()[query.dataset].variables[query.of].type if query.of else None
        if kind not in NUMERIC:
            raise CohortError(f"a {query.measure} needs a numeric variable", field="of")


def _sql(query: Query) -> tuple[str, list[str]]:
    groups = [f"CAST({_q(g)} AS VARCHAR)" for g in query.group_by]
    measure = MEASURES[query.measure]
    value = f"{measure}({_q(query.of)})" if measure else "NULL"
    where = " AND ".join(f"CAST({_q(f)} AS VARCHAR) = ?" for f, _ in query.filters) or "TRUE"
    listed = ", ".join([*groups, f"count(DISTINCT {PERSON})", value])
    grouping = f" GROUP BY ALL ORDER BY {', '.join(str(i + 1) for i in range(len(groups)))}"
    sql = (
        f"SELECT {listed} FROM data.{_q(query.dataset)} WHERE {where}"  # noqa: S608
        + (grouping if groups else "")
    )
    return sql, [v for _, v in query.filters]


def run(
    session: Session,
    settings: Settings,
    pseudonym_key: bytes,
    user: User,
    code: str,
    query: Query,
) -> Result:
    """The query's result as it may be published; audited."""
    project = projects.open_project(session, user, code)
    _check(query, project.variables)
    definition = Definition(
        variables={query.dataset: project.variables[query.dataset]},
        date_granularity=project.date_granularity,
        snapshot_at=datetime.now(UTC),
    )
    sql, params = _sql(query)
    store = settings.research_store_path
    with open_views(session, store, pseudonym_key, code, definition, pseudonymise=False) as con:
        raw = con.execute(sql, params).fetchall()
    raw = [r for r in raw if r[len(query.group_by)] > 0]
    counts = protect(
        [[r[len(query.group_by)]] for r in raw],
        threshold=settings.sdc_threshold,
        rounding=settings.sdc_rounding,
    )
    rows = [
        Row(
            tuple("" if g is None else g for g in r[: len(query.group_by)]),
            n[0],
            _rounded(statistic(r[-1], n[0])),
        )
        for r, n in zip(raw, counts, strict=True)
    ]
    result = Result(query, rows)
    audit.record(
        session,
        actor=user.username,
        action="research.query",
        project=project.code,
        detail={**query.as_json(), "groups": len(rows), "suppressed": result.suppressed},
    )
    return result


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), DECIMALS)
