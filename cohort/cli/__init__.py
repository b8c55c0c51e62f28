"""The ``cohort`` command line.

Bad arguments and refused operations print one line on stderr and exit with code 2;
nothing is changed. Each command group lives in its own module beside this one.
"""

import sys

import typer

from cohort.cli.common import app
from cohort.errors import CohortError


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as exc:
        message = " ".join(exc.format_message().split())
        print(f"cohort: {message}", file=sys.stderr)
        sys.exit(2)
    except CohortError as exc:
        print(f"cohort: {exc.message}", file=sys.stderr)
        sys.exit(2)
    # Outside standalone mode an Exit comes back as the return value.
    sys.exit(code if isinstance(code, int) else 0)


# Command groups register themselves on import.
from cohort.cli import (  # noqa: E402,F401
    audit,
    backup,
    consents,
    forms,
    governance,
    instance,
    keys,
    link,
    projects,
    sites,
    synth,
    users,
)
