"""Timing and reporting shared by every benchmark: medians and p99 over repeated runs,
ratios against a baseline measured side by side, and the machine they ran on."""

import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from cohort.db import make_engine, migrate
from tests.pg_cluster import start_cluster


@dataclass
class Row:
    name: str
    unit: str
    median: float
    p99: float | None = None
    baseline: str | None = None
    ratio: float | None = None


def scale(suite: str, default: float = 1.0) -> float:
    """The size a suite runs at: ``BENCH_<SUITE>_SCALE`` for that suite alone, else
    ``BENCH_SCALE`` for every suite, else its own default (a few minutes here)."""
    name = f"BENCH_{suite.upper().replace('-', '_')}_SCALE"
    setting = os.environ.get(name) or os.environ.get("BENCH_SCALE") or str(default)
    try:
        value = float(setting)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise SystemExit(f"a benchmark's scale must be a number above 0, not {setting!r}")
    return value


def scaled(n: int, factor: float) -> int:
    """``n`` at ``factor``, never below 1."""
    return max(1, round(n * factor))


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    """Wall seconds of each of ``runs`` calls after one warm-up call."""
    fn()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def machine() -> str:
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {os.cpu_count()} cores, "
        f"{mem_gib:.0f} GiB, Python {platform.python_version()}, {platform.system()}"
    )


@contextmanager
def pg_database() -> Iterator[str]:
    """A durable (fsync on) PostgreSQL cluster on loopback; yields its URL."""
    cluster = start_cluster(durable=True)
    try:
        yield cluster.url()
    finally:
        cluster.stop()


@contextmanager
def backends(tmp: Path) -> Iterator[dict[str, Engine]]:
    """A fresh migrated SQLite file and a fresh PostgreSQL database."""
    with pg_database() as pg_url:
        engines = {
            "SQLite": make_engine(f"sqlite:///{tmp / 'bench.db'}"),
            "PostgreSQL": make_engine(pg_url),
        }
        try:
            for engine in engines.values():
                migrate(engine)
            yield engines
        finally:
            for engine in engines.values():
                engine.dispose()
