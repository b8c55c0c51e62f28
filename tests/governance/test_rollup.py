"""The roll-up counts each closed day once and changes no figure: every split read through
it equals the same split read from the raw rows, for whole months, part-months, a period
ending today with today's rows, one site or all; a second roll-up adds nothing, and two
at once write each count once. Records dated into closed days (a backfill) are counted
again by ``recount``, and a roll-up never counts alongside a backfill."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlmodel import Session

from cohort.db import session_scope
from cohort.governance.approaches import approaches_by
from cohort.governance.rollup import first_open_day, hold, recount, roll_up
from cohort.models import ApproachCount
from tests.governance.seed import at, consents, declines, period, updates

DIMENSIONS = ("overall", "site", "month", "week", "midwife", "language", "ethnicity", "age_band")
TODAY = datetime.now(UTC).date()


@pytest.fixture
def spread(net):
    """Approaches over March to May at A and B in several languages and groups, updates
    that must not count again, declines with no ethnicity, and rows recorded today."""
    e = net.engine
    first = consents(e, 20, site=net.a, by=net.anna, when=at(3, 2))
    consents(e, 7, site=net.a, by=net.beth, when=at(3, 31, 23), language="ur", age_band="30_34")
    consents(e, 9, site=net.b, by=net.cara, when=at(4, 14), ethnicity=None, language="pl")
    consents(e, 4, site=net.a, by=net.beth, when=at(5, 1, 0), ethnicity="pakistani")
    updates(e, first[:5], site=net.a, by=net.beth, when=at(4, 15))
    declines(e, 6, site=net.a, by=net.anna, when=at(3, 20), ethnicity=None)
    declines(e, 3, site=net.b, by=net.cara, when=at(4, 30, 23), language="ro", age_band="16_19")
    now = datetime.now(UTC)
    updates(e, first[5:8], site=net.a, by=net.anna, when=now)
    consents(e, 2, site=net.b, by=net.cara, when=now, language="bn")
    declines(e, 1, site=net.a, by=net.beth, when=now)
    return net


def figures(engine, filters) -> dict[str, dict]:
    with Session(engine) as s:  # a fresh session: nothing cached from an earlier read
        return {d: approaches_by(s, filters, d) for d in DIMENSIONS}


def rolled_rows(engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(ApproachCount))


def periods(net):
    return [
        period(date(2026, 3, 1), date(2026, 5, 31)),
        period(date(2026, 3, 15), date(2026, 4, 20)),
        period(date(2026, 3, 31), date(2026, 3, 31), net.a),
        period(date(2026, 4, 1), TODAY),
        period(date(2026, 2, 10), TODAY, net.b),
        period(TODAY, TODAY),
    ]


def test_the_roll_up_gives_the_figures_of_the_raw_rows(spread):
    raw = [figures(spread.engine, f) for f in periods(spread)]
    with session_scope(spread.engine) as s:
        assert roll_up(s) > 0
    assert [figures(spread.engine, f) for f in periods(spread)] == raw


def test_todays_rows_are_read_raw_and_counted_after_the_roll_up(spread):
    with session_scope(spread.engine) as s:
        roll_up(s)
    today = figures(spread.engine, period(TODAY, TODAY))
    assert today["overall"]["all"].consented == 2  # the updates are not enrolments
    assert today["overall"]["all"].declined == 1
    declines(spread.engine, 4, site=spread.a, by=spread.anna, when=datetime.now(UTC))
    assert figures(spread.engine, period(TODAY, TODAY))["overall"]["all"].declined == 5


def test_a_second_roll_up_adds_nothing(spread):
    with session_scope(spread.engine) as s:
        roll_up(s)
    written = rolled_rows(spread.engine)
    with session_scope(spread.engine) as s:
        assert roll_up(s) == 0
    assert rolled_rows(spread.engine) == written


def test_a_day_is_rolled_once_it_has_closed(spread):
    """Rolled as if it were early on 1 May: April's days are counted, May's not yet."""
    raw = figures(spread.engine, period(date(2026, 4, 1), date(2026, 5, 31)))
    with session_scope(spread.engine) as s:
        roll_up(s, now=datetime(2026, 5, 1, 0, 5, tzinfo=UTC))  # 30 April still in grace
    with Session(spread.engine) as s:
        buckets = set(s.scalars(select(ApproachCount.bucket)))
    assert "2026-04-14" in buckets and "2026-04-30" not in buckets and "2026-04" not in buckets
    with session_scope(spread.engine) as s:
        roll_up(s)
    assert figures(spread.engine, period(date(2026, 4, 1), date(2026, 5, 31))) == raw


def test_two_roll_ups_at_once_write_each_count_once(spread):
    raw = figures(spread.engine, periods(spread)[0])
    results, start = [], threading.Barrier(2)

    def run() -> None:
        start.wait()
        with session_scope(spread.engine) as s:
            results.append(roll_up(s))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and rolled_rows(spread.engine) == max(results)
    assert figures(spread.engine, periods(spread)[0]) == raw


@pytest.mark.parametrize(
    ("now", "closed"),
    [
        (datetime(2026, 5, 1, 0, 5, tzinfo=UTC), date(2026, 4, 30)),
        (datetime(2026, 5, 1, 0, 15, tzinfo=UTC), date(2026, 5, 1)),
    ],
)
def test_a_day_closes_a_few_minutes_after_midnight(now, closed):
    assert first_open_day(now) == closed
    assert first_open_day(now + timedelta(hours=12)) == now.date()


def raw_figures(engine, filters) -> dict[str, dict]:
    """The figures read from the raw rows alone (the roll-up emptied first)."""
    with session_scope(engine) as s:
        s.execute(delete(ApproachCount))
    return figures(engine, filters)


def test_recounting_the_closed_days_backdated_records_joined_gives_the_raw_figures(spread):
    net = spread
    with session_scope(net.engine) as s:
        roll_up(s)
    consents(net.engine, 3, site=net.a, by=net.beth, when=at(3, 20), language="sk")
    declines(net.engine, 2, site=net.b, by=net.cara, when=at(4, 14, 8), age_band="40_50")
    with session_scope(net.engine) as s:
        assert recount(s, net.a.id, [date(2026, 3, 20)]) > 0
        assert recount(s, net.b.id, [date(2026, 4, 14)]) > 0
    rolled = [figures(net.engine, f) for f in periods(net)]
    march = rolled[0]["month"]["2026-03"]
    assert (march.consented, march.declined) == (20 + 7 + 3, 6)
    assert rolled[0]["language"]["sk"].consented == 3
    assert [raw_figures(net.engine, f) for f in periods(net)] == rolled


def test_a_backdated_day_not_rolled_up_yet_waits_for_the_next_roll_up(spread):
    net = spread
    with session_scope(net.engine) as s:
        roll_up(s, now=datetime(2026, 5, 1, 0, 5, tzinfo=UTC))  # 30 April still open
    consents(net.engine, 2, site=net.b, by=net.cara, when=at(4, 30, 12))
    with session_scope(net.engine) as s:
        assert recount(s, net.b.id, [date(2026, 4, 30)]) == 0
        roll_up(s)
    rolled = figures(net.engine, periods(net)[0])
    assert rolled["month"]["2026-04"].consented == 9 + 2
    assert raw_figures(net.engine, periods(net)[0]) == rolled


def test_a_roll_up_leaves_the_days_while_a_backfill_holds_them(spread):
    """On PostgreSQL (on SQLite every transaction takes the write lock first, so the two
    never overlap): the roll-up does not wait, and the next one counts every record."""
    net = spread
    if net.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises every transaction")
    raw = figures(net.engine, periods(net)[0])
    with session_scope(net.engine) as backfill:
        hold(backfill)
        with session_scope(net.engine) as dashboard:
            assert roll_up(dashboard) == 0
    assert rolled_rows(net.engine) == 0
    with session_scope(net.engine) as s:
        assert roll_up(s) > 0
    assert figures(net.engine, periods(net)[0]) == raw
