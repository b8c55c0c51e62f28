"""``cohort backup`` and ``cohort restore``: consistent backups of a running instance."""

from pathlib import Path

import typer

from cohort import backup as backups
from cohort.cli.common import CLI_ACTOR, app, opened, settings
from cohort.keys import KeyProblem, load_keys


@app.command("backup")
def backup_command(
    path: Path = typer.Argument(..., help="New backup directory (must not exist yet)."),
) -> None:
    """Back up the database and research store while the service keeps running (not keys)."""
    with opened() as inst:
        manifest = backups.backup(inst, path, actor=CLI_ACTOR)
    typer.echo(
        f"backup written to {path} ({', '.join(manifest.files)}), audit chain at event "
        f"{manifest.audit_seq}; keys are not included: back up {inst.settings.keys_path} "
        "separately"
    )


@app.command("restore")
def restore_command(
    path: Path = typer.Argument(..., help="Backup directory written by 'cohort backup'."),
) -> None:
    """Restore a backup into a new, empty instance; exit 1 if its audit chain is broken."""
    cfg = settings()
    restored = backups.restore(path, cfg, actor=CLI_ACTOR)
    typer.echo(f"restored the backup of {restored.manifest.created_at} into {cfg.data_dir}")
    typer.echo(str(restored.chain), err=not restored.chain.ok)
    try:
        load_keys(cfg.keys_path)
    except KeyProblem:
        typer.echo(f"keys are not in a backup: restore them to {cfg.keys_path} before serving")
    if not restored.chain.ok:
        raise typer.Exit(1)
