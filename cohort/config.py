"""Deployment settings, read from the environment (prefix ``COHORT_``).

The defaults describe the embedded instance under ``./var``: a SQLite consent
database, a DuckDB research store and a key directory beside them.
"""

from functools import cached_property
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COHORT_", extra="ignore")

    data_dir: Path = Path("var")
    key_dir: Path | None = None
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Server processes: more than one uses both cores of a small machine for many midwives
    # saving at once (each process has its own connections; the database serialises).
    workers: int = 1
    secure_cookies: bool = False
    session_max_age_s: int = 8 * 3600
    login_max_failures: int = 5
    login_lockout_s: int = 15 * 60
    # Statistical disclosure control (cohort.research.disclosure): counts at or below the
    # threshold are suppressed, the rest rounded to the nearest multiple.
    sdc_threshold: int = 7
    sdc_rounding: int = 5
    # FHIR Consent (cohort.interop.fhir_consent): the approved protocol each consent follows,
    # and the base of the URIs naming the cohort's own identifiers and codes.
    fhir_policy_uri: str = "urn:cohort:protocol"
    fhir_system_base: str = "urn:cohort"
    # Installed by `make frontend`; pages work (unstyled) without them.
    frontend_dir: Path = Path(".frontend/node_modules/nhsuk-frontend/dist")
    swagger_ui_dir: Path = Path(".frontend/node_modules/swagger-ui-dist")

    @cached_property
    def keys_path(self) -> Path:
        return self.key_dir or self.data_dir / "keys"

    @cached_property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'cohort.db'}"

    @cached_property
    def research_store_path(self) -> Path:
        return self.data_dir / "research.duckdb"

    @cached_property
    def query_history_path(self) -> Path:
        """Whom each answered aggregate query counted (cohort.research.query_history)."""
        return self.data_dir / "query_history.duckdb"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")


def get_settings() -> Settings:
    return Settings()
