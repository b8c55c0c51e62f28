"""Once per token: repeats get the first result, refusals leave nothing, and two copies
arriving together still save one record."""

import threading

import pytest
from sqlmodel import Session, select

from cohort import idempotency
from cohort.db import session_scope
from cohort.errors import CohortError, Conflict
from cohort.models import Site, Submission
from tests.consent_world import count_rows, token


def add_site(session: Session, code: str) -> dict[str, object]:
    site = Site(code=code, name=code.title())
    session.add(site)
    session.flush()
    return {"site_id": site.id}


def run(world, key, code, *, user=None, action="site"):
    with session_scope(world.engine) as s:
        return idempotency.once(
            s, key, user=user or world.midwife, action=action, record=lambda: add_site(s, code)
        )


def test_a_repeat_returns_the_first_result_and_records_nothing(world):
    key = token()
    first, again = run(world, key, "AAA"), run(world, key, "BBB")
    assert not first.replayed and again.replayed and again.result == first.result
    with Session(world.engine) as s:
        assert "BBB" not in s.exec(select(Site.code)).all()
    assert count_rows(world.engine, Submission) == 1


@pytest.mark.parametrize("other", ["user", "action"])
def test_a_token_is_bound_to_its_user_and_action(world, other):
    key = token()
    run(world, key, "AAA")
    with pytest.raises(Conflict) as refused:
        if other == "user":
            run(world, key, "BBB", user=world.other_midwife)
        else:
            run(world, key, "BBB", action="another")
    assert refused.value.field == "submission_token"


def test_a_refusal_leaves_neither_record_nor_token_even_when_the_caller_commits(world):
    key = token()

    def refuse(session: Session) -> dict[str, object]:
        add_site(session, "CCC")
        raise CohortError("no")

    # the refusal is caught inside the transaction, which then commits (as a page showing
    # the error does)
    with session_scope(world.engine) as s, pytest.raises(CohortError):
        idempotency.once(s, key, user=world.midwife, action="site", record=lambda: refuse(s))
    assert count_rows(world.engine, Submission) == 0 and count_rows(world.engine, Site) == 2
    assert not run(world, key, "CCC").replayed


def test_two_copies_at_the_same_moment_save_one_record(world):
    key, results, errors = token(), [], []
    start = threading.Barrier(2)

    def send(code: str) -> None:
        try:
            start.wait()
            results.append(run(world, key, code))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(code,)) for code in ("AAA", "BBB")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(r.replayed for r in results) == [False, True]
    assert results[0].result == results[1].result
    assert count_rows(world.engine, Site) == 3 and count_rows(world.engine, Submission) == 1


def test_new_tokens_are_well_formed_and_distinct():
    tokens = {idempotency.new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(idempotency.TOKEN.fullmatch(t) for t in tokens)
