"""What the bad-input corpora share: the hostile values, an instance per backend, and
the state a refused input must leave as it found it."""

from sqlmodel import select

from cohort.db import session_scope
from cohort.models import AuditHead, Consent, Identity, Instrument, Participant, Site, User
from tests.conftest import _fresh_pg_url
from tests.web.conftest import make_instance

TEN_MB = "A" * (10 * 1024 * 1024)


def instance_per_backend(request, tmp_path_factory, prefix: str):
    """A fresh instance on the backend the module fixture is parametrized with."""
    data = tmp_path_factory.mktemp(f"{prefix}-{request.param}")
    url = (
        f"sqlite:///{data / 'cohort.db'}"
        if request.param == "sqlite"
        else _fresh_pg_url(request.getfixturevalue("pg_cluster"))
    )
    return make_instance(data / "var", url)


def state(instance) -> tuple:
    """Row counts of what an input could add, and the audit chain's head."""
    with session_scope(instance.engine) as db:
        counts = tuple(
            len(db.exec(select(model.id)).all())
            for model in (Participant, Identity, Consent, Instrument, User, Site)
        )
        head = db.get(AuditHead, 1)
        return (*counts, head.seq if head else 0)
