"""A throwaway PostgreSQL cluster on loopback, started and stopped by the test suite.

initdb + pg_ctl on a free port, trust auth on 127.0.0.1 only, data in a temp dir.
When the suite runs as root (CI containers), the server runs as the ``postgres``
system user, since PostgreSQL refuses to run as root.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from glob import glob
from pathlib import Path


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"))), None
    )
    if not found:
        raise RuntimeError(f"{name} not found: run 'make test', which installs PostgreSQL")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    datadir: Path
    port: int
    run_as: list[str]

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://cohort@127.0.0.1:{self.port}/{dbname}"

    def ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.run_as, _pg_bin("pg_ctl"), "-D", str(self.datadir), *args],
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        self.ctl("stop", "-m", "immediate")
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def start_cluster(*, durable: bool = False) -> Cluster:
    """Tests trade durability for speed (fsync off); benchmarks ask for ``durable``."""
    base = Path(tempfile.mkdtemp(prefix="cohort-pg-"))
    datadir = base / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            subprocess.run(["useradd", "--system", "postgres"], check=True)
            pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *run_as,
            _pg_bin("initdb"),
            "-D",
            str(datadir),
            "-U",
            "cohort",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    cluster = Cluster(datadir, port, run_as)
    opts = (
        f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={base} "
        "-c max_connections=200"
    )
    if not durable:
        opts += " -c fsync=off -c synchronous_commit=off"
    cluster.ctl("start", "-w", "-o", opts, "-l", str(base / "server.log"))
    return cluster
