"""A load-test instance on each database: four sites and a team of midwives, ready to
serve with ``tests.live_server.serve``."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.load import START_S, Midwife, prepare  # noqa: F401  (START_S: for the specs)
from cohort.config import Settings
from cohort.instance import Instance, open_instance

TEAM = 4


@dataclass
class Deployment:
    data_dir: Path
    database_url: str
    team: list[Midwife]

    @property
    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, database_url=self.database_url)


@contextmanager
def opened(settings: Settings) -> Iterator[Instance]:
    inst = open_instance(settings)
    try:
        yield inst
    finally:
        inst.engine.dispose()


@pytest.fixture
def deployment(db_url: str, tmp_path: Path) -> Deployment:
    """SQLite or PostgreSQL (the ``db_url`` fixture's two runs)."""
    data_dir = tmp_path / "data"
    return Deployment(data_dir, db_url, prepare(data_dir, db_url, TEAM))
