"""A real ``cohort serve`` process on a free loopback port, for browser journeys, load
tests and benchmarks: the same command an operator runs, not an in-process stand-in."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / ".frontend" / "node_modules"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(
    data_dir: Path, database_url: str | None = None, timeout_s: float = 60, workers: int = 1
) -> Iterator[str]:
    """Serve the instance in ``data_dir`` (initialised already) with ``workers`` processes;
    yields its base URL. The server's output goes to ``server-<port>.log`` beside the data
    directory."""
    port = free_port()
    env = {
        **os.environ,
        "COHORT_DATA_DIR": str(data_dir),
        "COHORT_FRONTEND_DIR": str(FRONTEND / "nhsuk-frontend" / "dist"),
        "COHORT_SWAGGER_UI_DIR": str(FRONTEND / "swagger-ui-dist"),
    }
    env.pop("COHORT_DATABASE_URL", None)
    if database_url:
        env["COHORT_DATABASE_URL"] = database_url
    command = [sys.executable, "-c", "from cohort.cli import main; main()"]
    log_path = data_dir.parent / f"server-{port}.log"  # a file: a full pipe would stall it
    log = log_path.open("wb")
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"cohort serve did not start: {log_path.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
