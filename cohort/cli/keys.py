"""``cohort keys``: vault key rotation."""

import typer

from cohort.cli.common import CLI_ACTOR, app, opened
from cohort.key_rotation import BATCH_SIZE, rotate

keys_app = typer.Typer(no_args_is_help=True, help="Key commands (never print key material).")
app.add_typer(keys_app, name="keys")


@keys_app.command("rotate")
def rotate_command(
    batch_size: int = typer.Option(
        BATCH_SIZE, min=1, help="Identity rows re-encrypted per committed transaction."
    ),
) -> None:
    """Re-encrypt every identity row under a new vault key; re-run to finish an interrupted one."""
    with opened() as inst:
        report = rotate(inst.engine, inst.settings, batch_size, actor=CLI_ACTOR)
    typer.echo(str(report))
