"""Disclosure control across queries: a query whose people, in all or in any published
group, are 1 to threshold people apart from those of an earlier query of the same project
is refused (and audited); 0 apart or more than the threshold is answered.

The world, by construction: ``CLEAN`` non-smoking mothers with parity 1, and smokers as
each test needs them. A query filtered to non-smokers and one with no filter are then as
many people apart as there are smokers."""

import contextlib
import random
from itertools import combinations, product

import duckdb
import pytest
from sqlmodel import select

from cohort.errors import Conflict
from cohort.models import AuditEvent
from cohort.research import queries
from cohort.research.queries import TOO_CLOSE, Query

CLEAN = 20
THRESHOLD = 7  # the deployment's default (Settings.sdc_threshold)
EVERYONE = Query("maternity")
NON_SMOKERS = Query("maternity", filters=(("Smoking_At_Booking", "false"),))
VARIABLES = ("maternity.Parity", "maternity.Smoking_At_Booking", "maternity.Delivery_Mode")


def seed(research, *groups: tuple[int, bool, int], extra: tuple = ()) -> None:
    """Mothers linked in one delivery: (how many, smoking, parity) per group; ``extra``,
    study IDs of single smokers of parity 1 made by the test."""
    rows = [
        {"study_id": i, "Smoking_At_Booking": smoking, "Parity": parity}
        for count, smoking, parity in groups
        if count
        for i in research.participants(count)
    ]
    rows += [{"study_id": i, "Smoking_At_Booking": True, "Parity": 1} for i in extra]
    research.link("maternity", rows)


def ask(research, query, code="PRJ-A", user=None):
    with research.session() as s:
        return queries.run(
            s, research.settings, research.keys.pseudonym, user or research.researcher, code, query
        )


def kept(research) -> int:
    """Rows in the query history: what a refusal must not add to."""
    path = research.settings.query_history_path
    if not path.exists():
        return 0
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM members").fetchall()[0][0]


@pytest.mark.parametrize(
    ("smokers", "answered"),
    [(0, True), (1, False), (THRESHOLD, False), (THRESHOLD + 1, True)],
    ids=["0 apart", "1 apart", "threshold apart", "threshold + 1 apart"],
)
def test_a_query_as_many_people_apart_as_there_are_smokers(research, smokers, answered):
    seed(research, (CLEAN, False, 1), (smokers, True, 1))
    research.project(variables=VARIABLES)
    ask(research, NON_SMOKERS)
    if answered:
        assert ask(research, EVERYONE).rows
    else:
        with pytest.raises(Conflict, match="nearly the same people"):
            ask(research, EVERYONE)


def test_the_order_does_not_matter_and_a_repeat_is_answered(research):
    seed(research, (CLEAN, False, 1), (1, True, 1))
    research.project(variables=VARIABLES)
    first = ask(research, EVERYONE)
    assert ask(research, EVERYONE) == first
    with pytest.raises(Conflict):
        ask(research, NON_SMOKERS)


def test_a_repeat_is_answered_when_its_groups_share_people(research):
    """Ten mothers with two deliveries are in both parity groups, which are then 3 apart;
    asked again, they are the earlier answer's own two groups, published together."""
    twice = research.participants(10)
    once = research.participants(3)
    rows = [{"study_id": i, "Parity": p} for i in twice for p in (1, 2)]
    research.link("maternity", rows + [{"study_id": i, "Parity": 1} for i in once])
    research.project(variables=VARIABLES)
    by_parity = Query("maternity", ("Parity",))
    assert ask(research, by_parity) == ask(research, by_parity)


def test_any_researcher_of_the_project_is_checked_against_all_its_answers(research):
    seed(research, (CLEAN, False, 1), (1, True, 1))
    research.project(variables=VARIABLES, members=("rita", "rob"))
    ask(research, NON_SMOKERS, user=research.researcher)
    with pytest.raises(Conflict):
        ask(research, EVERYONE, user=research.other_researcher)


def test_another_projects_answers_do_not_count(research):
    seed(research, (CLEAN, False, 1), (1, True, 1))
    research.project("PRJ-A", variables=VARIABLES)
    research.project("PRJ-B", variables=VARIABLES)
    ask(research, NON_SMOKERS, code="PRJ-A")
    assert ask(research, EVERYONE, code="PRJ-B").rows


def test_a_refusal_is_audited_says_what_to_do_and_keeps_nothing(research):
    seed(research, (CLEAN, False, 1), (2, True, 1))
    research.project(variables=VARIABLES)
    ask(research, NON_SMOKERS)
    before = kept(research)
    with pytest.raises(Conflict) as refused:
        ask(research, EVERYONE)
    assert refused.value.status_code == 409
    assert refused.value.text.template == TOO_CLOSE
    assert "broader or a narrower filter" in refused.value.message
    assert "BB-" not in refused.value.message  # never who differs
    assert kept(research) == before
    with research.session() as s:
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.seq))]
        (event,) = s.exec(select(AuditEvent).where(AuditEvent.action == "research.query.refused"))
    assert actions[-2:] == ["research.query", "research.query.refused"]
    assert event.project == "PRJ-A" and event.detail["reason"] == "differencing"
    assert event.detail["filters"] == [] and event.actor == "rita"


def test_a_group_barely_touched_by_a_wider_filter_is_refused(research):
    """Non-smokers, then everyone: the populations are 23 apart, but the parity 1 groups
    only 3 (the smokers of parity 2 are many, those of parity 1 few)."""
    seed(research, (CLEAN, False, 1), (CLEAN, False, 2), (3, True, 1), (CLEAN, True, 2))
    research.project(variables=VARIABLES)
    by_parity = Query("maternity", ("Parity",))
    ask(research, Query("maternity", ("Parity",), filters=NON_SMOKERS.filters))
    with pytest.raises(Conflict):
        ask(research, by_parity)
    assert ask(research, Query("maternity", ("Parity",), filters=(("Parity", "2"),))).rows


def test_a_group_beside_its_own_total_is_left_to_secondary_suppression(research):
    """By parity, then everyone: parity 1 is 3 short of the total, which is the result's
    own margin, protected within it."""
    seed(research, (CLEAN, False, 1), (3, False, 2))
    research.project(variables=VARIABLES)
    ask(research, Query("maternity", ("Parity",)))
    assert ask(research, EVERYONE).rows


def test_a_full_withdrawal_between_two_identical_queries_refuses_the_second(research):
    """She leaves the store, not the history: the same question one person short would
    give her values back, so it is refused."""
    mother = research.participant()
    seed(research, (CLEAN, False, 1), extra=(mother.study_id,))
    research.project(variables=VARIABLES)
    by_smoking = Query("maternity", ("Smoking_At_Booking",))
    ask(research, by_smoking)
    research.withdraw(mother, "full")
    with pytest.raises(Conflict):
        ask(research, by_smoking)


def test_a_withdrawal_that_keeps_her_data_changes_nothing(research):
    mother = research.participant()
    seed(research, (CLEAN, False, 1), extra=(mother.study_id,))
    research.project(variables=VARIABLES)
    first = ask(research, EVERYONE)
    research.withdraw(mother, "no_data")
    assert ask(research, EVERYONE) == first


def text(value) -> str:
    """A value as the query compares it (DuckDB writes booleans as true and false)."""
    return str(value).lower()


def true_cells(world: dict, query: Query, result) -> list[frozenset]:
    """Who each published count of a result is, from the known world (the population
    first): what a reader could subtract."""
    chosen = {
        w: row for w, row in world.items() if all(text(row[f]) == v for f, v in query.filters)
    }
    cells = [frozenset(chosen)]
    for published in (r for r in result.rows if r.n is not None):
        labels = list(zip(query.group_by, published.groups, strict=True))
        cells.append(
            frozenset(w for w, row in chosen.items() if all(text(row[g]) == v for g, v in labels))
        )
    return cells


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_two_answers_can_be_differenced_whatever_is_asked(research, seed):
    """A known random world, with one mother the only caesarean, and every query a
    researcher could ask of it in a random order, the classic attack among them (by
    smoking, then by smoking among the spontaneous deliveries: everyone but her). Of all
    the answers given, no two published counts (or populations) are 1 to threshold people
    apart, except where one equals a count of the other's answer (a group beside its own
    total, say), so that the two are within one answer; the attack is never answered."""
    rng = random.Random(seed)
    world = {
        who: {
            "Parity": rng.choice([1, 2]),
            "Smoking_At_Booking": rng.random() < 0.4,
            "Delivery_Mode": "spontaneous",
        }
        for who in research.participants(40)
    }
    (target,) = research.participants(1)
    world[target] = {"Parity": 1, "Smoking_At_Booking": True, "Delivery_Mode": "caesarean"}
    research.link("maternity", [{"study_id": w, **row} for w, row in world.items()])
    research.project(variables=VARIABLES)
    filters = [(), (("Delivery_Mode", "spontaneous"),)]
    filters += [(("Smoking_At_Booking", b),) for b in ("true", "false")]
    filters += [(("Parity", p),) for p in ("1", "2")]
    groupings = [(), ("Parity",), ("Smoking_At_Booking",)]
    asked = [Query("maternity", g, filters=f) for g, f in product(groupings, filters)]
    rng.shuffle(asked)
    answers = []
    for query in [Query("maternity", ("Smoking_At_Booking",)), *asked]:
        with contextlib.suppress(Conflict):
            answers.append(true_cells(world, query, ask(research, query)))
    for one, other in combinations(answers, 2):
        for mine, theirs in product(one, other):
            within_one_answer = mine in other or theirs in one
            assert within_one_answer or not 0 < len(mine ^ theirs) <= THRESHOLD
    everyone_but_her = frozenset(world) - {target}
    assert all(cells[0] != everyone_but_her for cells in answers)
