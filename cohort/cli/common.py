"""The root Typer app and the helpers every command group shares."""

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlmodel import Session

from cohort.config import Settings, get_settings
from cohort.db import session_scope
from cohort.instance import Instance, open_instance

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Birth-cohort consent and e-cohort platform.",
    pretty_exceptions_enable=False,
)

CLI_ACTOR = "cli"


def settings() -> Settings:
    return get_settings()


@contextmanager
def opened() -> Iterator[Instance]:
    inst = open_instance(settings())
    try:
        yield inst
    finally:
        inst.engine.dispose()


@contextmanager
def unit_of_work() -> Iterator[tuple[Instance, Session]]:
    """An opened instance and one transaction on it, committed on success."""
    with opened() as inst, session_scope(inst.engine) as session:
        yield inst, session
