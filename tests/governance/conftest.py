import pytest

from cohort.db import session_scope
from forms import registry
from tests.governance.seed import make_network


@pytest.fixture
def net(engine):
    return make_network(engine)


@pytest.fixture
def published_form(engine):
    """The shipped consent form, whose choices name the codes."""
    with session_scope(engine) as s:
        registry.ensure_default(s)
