"""The platform's independent secrets, from the key directory (mode 0600) or the environment.

- vault keys (AES-256-GCM), one file each under ``vault/<key id>.key``; ``vault/current``
  names the one new ciphertexts use, the others stay readable for rotation;
- the lookup key (HMAC-SHA256 blind index of NHS numbers, linkage keys);
- the extract pseudonym key (per-project pseudonyms);
- the session key (signs login cookies and CSRF tokens).

Environment instead of files: ``COHORT_VAULT_KEYS="id:base64,id2:base64"`` (the first is
current) and ``COHORT_LOOKUP_KEY``, ``COHORT_PSEUDONYM_KEY``, ``COHORT_SESSION_KEY``
(base64). Key material is never logged, printed or put in an error message.
"""

import base64
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cohort.errors import CohortError

SINGLE_KEYS = ("lookup", "pseudonym", "session")


@dataclass(frozen=True)
class KeyRing:
    vault: dict[str, bytes] = field(repr=False)
    current_vault_id: str
    lookup: bytes = field(repr=False)
    pseudonym: bytes = field(repr=False)
    session: bytes = field(repr=False)

    @property
    def current_vault_key(self) -> bytes:
        return self.vault[self.current_vault_id]


class KeyProblem(CohortError):
    """A missing, unreadable or malformed key: the service must not start."""


def _write_secret(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64encode(data) + b"\n")
        f.flush()
        os.fsync(f.fileno())


def _read_secret(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise KeyProblem(
            f"key file {path.name} is missing from the key directory: run 'cohort init' "
            "or restore it from the key backup"
        ) from None
    except OSError as exc:
        raise KeyProblem(f"key file {path.name} cannot be read ({exc.strerror})") from None
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except ValueError:
        raise KeyProblem(f"key file {path.name} is not valid base64") from None
    if len(key) != 32:
        raise KeyProblem(f"key file {path.name} must hold a 256-bit key")
    return key


def new_vault_key(key_dir: Path) -> str:
    """Add a vault key and make it current; older keys stay for reading."""
    key_id = "k" + secrets.token_hex(4)
    vault_dir = key_dir / "vault"
    _write_secret(vault_dir / f"{key_id}.key", secrets.token_bytes(32))
    tmp = vault_dir / "current.tmp"
    tmp.write_text(key_id + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, vault_dir / "current")
    return key_id


def init_keys(key_dir: Path) -> bool:
    """Create any key that does not exist yet; never overwrite one. True if any was made."""
    made = False
    if not (key_dir / "vault" / "current").exists():
        new_vault_key(key_dir)
        made = True
    for name in SINGLE_KEYS:
        path = key_dir / f"{name}.key"
        if not path.exists():
            _write_secret(path, secrets.token_bytes(32))
            made = True
    return made


def _env_key(name: str) -> bytes | None:
    value = os.environ.get(f"COHORT_{name.upper()}_KEY")
    if value is None:
        return None
    try:
        key = base64.b64decode(value, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise KeyProblem(f"COHORT_{name.upper()}_KEY must be a base64 256-bit key")
    return key


def _env_vault() -> tuple[dict[str, bytes], str] | None:
    value = os.environ.get("COHORT_VAULT_KEYS")
    if not value:
        return None
    keys: dict[str, bytes] = {}
    for item in value.split(","):
        key_id, sep, b64 = item.strip().partition(":")
        try:
            key = base64.b64decode(b64, validate=True)
        except ValueError:
            key = b""
        if not sep or not key_id.isalnum() or len(key) != 32:
            raise KeyProblem("COHORT_VAULT_KEYS must be 'id:base64key' items, comma-separated")
        keys[key_id] = key
    return keys, next(iter(keys))


def key_source(key_dir: Path, name: str) -> str:
    """Where key ``name`` ("vault" or one of SINGLE_KEYS) is read from, for messages: its
    environment variable when that is set, else the key directory."""
    variable = "COHORT_VAULT_KEYS" if name == "vault" else f"COHORT_{name.upper()}_KEY"
    return variable if os.environ.get(variable) else str(key_dir)


def load_keys(key_dir: Path) -> KeyRing:
    env_vault = _env_vault()
    if env_vault:
        vault, current = env_vault
    else:
        vault_dir = key_dir / "vault"
        try:
            current = (vault_dir / "current").read_text().strip()
        except FileNotFoundError:
            raise KeyProblem(
                "no vault key found: run 'cohort init' or set COHORT_VAULT_KEYS"
            ) from None
        vault = {p.stem: _read_secret(p) for p in sorted(vault_dir.glob("*.key"))}
        if current not in vault:
            raise KeyProblem(f"the current vault key {current} is missing from the key directory")
    singles = {
        name: _env_key(name) or _read_secret(key_dir / f"{name}.key") for name in SINGLE_KEYS
    }
    return KeyRing(vault=vault, current_vault_id=current, **singles)
