"""Requests past the in-flight limit wait their turn, in the order they came, without
holding a thread; every one of them is answered."""

import anyio

from cohort.web.admission import Admission


def test_at_most_the_limit_are_at_work_and_the_rest_go_in_arrival_order():
    at_work, most, started = 0, 0, []

    async def app(scope, receive, send):
        nonlocal at_work, most
        at_work += 1
        most = max(most, at_work)
        started.append(scope["path"])
        await anyio.sleep(0.01)
        at_work -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})

    answered = []
    gate = Admission(app, limit=3)

    async def request(n: int) -> None:
        async def send(message):
            answered.append((n, message["status"]))

        await gate({"type": "http", "path": f"/{n}"}, None, send)

    async def crowd() -> None:
        async with anyio.create_task_group() as tasks:
            for n in range(10):
                tasks.start_soon(request, n)
                await anyio.sleep(0)  # each arrives after the one before

    anyio.run(crowd)
    assert most == 3
    assert started == [f"/{n}" for n in range(10)]
    assert sorted(answered) == [(n, 200) for n in range(10)]
