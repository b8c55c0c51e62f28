"""At most ``IN_FLIGHT`` requests of one server process at work at once; the rest wait
their turn here, in the order they came.

FastAPI runs each request's database work on one pool of threads (anyio's, 40 of them).
With more requests than that, all of them waiting for a database connection (SQLite has
one writer, PostgreSQL's pool thirty), the request that holds a connection can find no
thread left to finish on: every one waits out the pool's timeout and nothing is saved
(under 64 midwives on SQLite, no save of a whole minute was answered). Waiting here
costs no thread."""

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

IN_FLIGHT = 32  # below the thread pool's 40, so a thread is always free to finish on


class Admission:
    def __init__(self, app: ASGIApp, limit: int = IN_FLIGHT) -> None:
        self.app = app
        self.limit = limit
        self._turns: anyio.Semaphore | None = None  # made in the server's event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._turns is None:
            self._turns = anyio.Semaphore(self.limit)
        async with self._turns:
            await self.app(scope, receive, send)
