"""Run the real ``cohort`` command in a subprocess against a throwaway instance."""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

RunCli = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def cli(tmp_path: Path) -> RunCli:
    """``cli("user", "list")`` runs ``cohort user list`` with COHORT_DATA_DIR in tmp_path."""
    env = {**os.environ, "COHORT_DATA_DIR": str(tmp_path / "var")}
    env.pop("COHORT_DATABASE_URL", None)

    def run(*args: str, input: str | None = None, extra_env: dict | None = None):
        return subprocess.run(
            [sys.executable, "-c", "from cohort.cli import main; main()", *args],
            env={**env, **(extra_env or {})},
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run
