"""Finding and killing the processes of a ``cohort serve`` or a CLI command, as a power
cut or the out-of-memory killer would: SIGKILL, no chance to clean up."""

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

from bench.load import Load, Midwife, run_load

PROC = Path("/proc")


def _ppid(pid: int) -> int | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _cmdline(pid: int) -> list[str]:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (uvicorn's workers are its children)."""
    pids = [int(p.name) for p in PROC.iterdir() if p.name.isdigit()]
    family, grew = {pid}, True
    while grew:
        below = {p for p in pids if _ppid(p) in family} - family
        family |= below
        grew = bool(below)
    return sorted(family)


def server_processes(url: str) -> list[int]:
    """The supervisor serving ``url`` (found by its --port) and its workers."""
    port = str(urlsplit(url).port)
    supervisor = next(
        int(p.name)
        for p in PROC.iterdir()
        if p.name.isdigit() and "serve" in (cmd := _cmdline(int(p.name))) and port in cmd
    )
    return descendants(supervisor)


def kill_hard(pids: list[int]) -> None:
    """SIGKILL each, then wait until none of them is left serving."""
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not any(_alive(pid) for pid in pids), timeout_s=30, what="the kill")


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie waiting for its parent."""
    try:
        state = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout_s} s")
        time.sleep(0.05)


@contextmanager
def load_in_background(url: str, team: list[Midwife], **kw) -> Iterator[Load]:
    """The load generator running on a thread of its own; stopped and joined on exit."""
    load = Load()
    failure: list[BaseException] = []

    def work() -> None:
        try:
            run_load(url, team, load=load, **kw)
        except BaseException as exc:  # handed to the test below
            failure.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        yield load
    finally:
        load.stopping = True
        thread.join(timeout=120)
    if failure:
        raise failure[0]
