"""``cohort link``: run partner-data linkage now, on schedule, see its runs, retrain models.

``run`` exits 1 when any file was quarantined or failed (so a wrapper notices), 0
otherwise; a source another process is running is reported and left alone.
"""

import typer
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlmodel import Session, select

from cohort.cli.common import CLI_ACTOR, app, opened
from cohort.errors import CohortError
from cohort.models import LinkageRun
from linkage_jobs import scheduler, synth_deliveries
from linkage_jobs.lock import SourceBusy
from linkage_jobs.runner import run_source, train_source
from linkage_jobs.spec import SourceSpec, load_specs

link_app = typer.Typer(no_args_is_help=True, help="Partner-data linkage commands.")
app.add_typer(link_app, name="link")

STATUS_ROWS = 20
TROUBLE = ("quarantined", "failed")


def _chosen(specs: dict[str, SourceSpec], source: str | None, every: bool) -> list[SourceSpec]:
    if every == (source is not None):
        raise CohortError("name one SOURCE or give --all (see 'cohort link sources')")
    if every:
        return list(specs.values())
    if source not in specs:
        raise CohortError(
            f"no source named {source!r}: the sources are {', '.join(specs)}", field="source"
        )
    return [specs[source]]


def _matched(run: LinkageRun) -> str:
    return "/".join(str(run.matched.get(m, 0)) for m in ("exact", "probabilistic", "clerical"))


def _quality(run: LinkageRun) -> str:
    if not run.quality:
        return ""
    q = run.quality
    return (
        f"; against the synthetic ground truth: precision {q['precision']:.4f}, "
        f"recall {q['recall']:.4f}, F1 {q['f1']:.4f}"
    )


def describe(run: LinkageRun) -> str:
    """One line per run, as an operator reads it."""
    if run.outcome == "succeeded":
        rate = f"{run.match_rate:.1%}" if run.match_rate is not None else "-"
        return (
            f"{run.source}: {run.file_name}: succeeded: {run.rows_read} read, "
            f"{run.rows_rejected} rejected, matched exact/probabilistic/clerical "
            f"{_matched(run)} ({rate}), {run.consent_filtered} consent-filtered, "
            f"{run.rows_written} written{_quality(run)}"
        )
    if run.outcome == "skipped_duplicate":
        return f"{run.source}: {run.file_name}: skipped: this file was already linked"
    return f"{run.source}: {run.file_name}: {run.outcome}: {run.error}"


@link_app.command("run")
def run_command(
    source: str = typer.Argument(None, help="The source to run (see 'cohort link sources')."),
    every: bool = typer.Option(False, "--all", help="Run every source."),
) -> None:
    """Link the files waiting in the inbox of one source, or of all of them, now."""
    specs = _chosen(load_specs(), source, every)
    trouble = False
    with opened() as inst:
        for spec in specs:
            try:
                runs = run_source(inst, spec, actor=CLI_ACTOR)
            except SourceBusy as exc:
                typer.echo(exc.message, err=True)
                continue
            if not runs:
                typer.echo(f"{spec.name}: no files waiting in {spec.inbox}")
            for run in runs:
                typer.echo(describe(run), err=run.outcome in TROUBLE)
                trouble |= run.outcome in TROUBLE
    if trouble:
        raise typer.Exit(1)


@link_app.command("status")
def status_command(
    limit: int = typer.Option(STATUS_ROWS, help="How many of the latest runs to list."),
) -> None:
    """The latest linkage runs, newest first."""
    if limit < 1:
        raise CohortError(f"--limit must be 1 or more, not {limit}")
    with opened() as inst, Session(inst.engine) as session:
        runs = session.exec(select(LinkageRun).order_by(LinkageRun.id.desc()).limit(limit)).all()
    if not runs:
        typer.echo("no linkage runs yet: 'cohort link run --all' runs every source now")
        return
    header = ("run", "started (UTC)", "source", "outcome", "read", "rejected", "e/p/c", "written")
    rows = [
        (
            str(run.id),
            run.started_at.strftime("%Y-%m-%d %H:%M"),
            run.source,
            run.outcome if run.outcome != "running" else f"running {run.percent}%",
            str(run.rows_read),
            str(run.rows_rejected),
            _matched(run),
            str(run.rows_written),
        )
        for run in runs
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@link_app.command("sources")
def sources_command() -> None:
    """The partner sources this instance links (linkage_jobs/sources/*.toml)."""
    for spec in load_specs().values():
        due = scheduler.next_run(spec)
        typer.echo(
            f"{spec.name}: {spec.title} ({spec.kind}, {spec.subject}, {spec.format}); "
            f"inbox {spec.inbox}; schedule '{spec.schedule}', next {due:%Y-%m-%d %H:%M %Z}"
        )


@link_app.command("train")
def train_command(
    source: str = typer.Argument(help="The source whose model to retrain."),
) -> None:
    """Retrain a source's linkage model on its newest file; later runs use the new one."""
    (spec,) = _chosen(load_specs(), source, False)
    with opened() as inst:
        model = train_source(inst, spec, actor=CLI_ACTOR)
    typer.echo(f"{spec.name}: model {model.version} trained on {model.training_rows} rows")


@link_app.command("schedule")
def schedule_command() -> None:
    """Run every source on its schedule until stopped (Ctrl-C), without the web app."""
    specs = load_specs()
    with opened() as inst:
        for spec in specs.values():
            typer.echo(f"{spec.name}: next at {scheduler.next_run(spec):%Y-%m-%d %H:%M %Z}")
        blocking = scheduler.lead(BlockingScheduler(timezone=scheduler.TIMEZONE), inst, specs)
        try:
            blocking.start()
        except (KeyboardInterrupt, SystemExit):
            blocking.shutdown(wait=True)


@link_app.command("synth")
def synth_command(
    seed: int = typer.Option(..., help="Seed: the same seed gives the same files."),
    rows: int = typer.Option(None, help="Rows per file (default: 1.2 per participant)."),
) -> None:
    """Write a synthetic file for every source into its inbox, from this instance's own
    participants, with the ground truth outside the inboxes (synth/truth/<source>/<the
    file's SHA-256>.csv), so each file's run reports its precision and recall."""
    if seed < 0:
        raise CohortError(f"--seed must be 0 or more, not {seed}")
    if rows is not None and not 1 <= rows <= synth_deliveries.MAX_ROWS:
        raise CohortError(f"--rows must be between 1 and {synth_deliveries.MAX_ROWS:,}, not {rows}")
    with opened() as inst:
        delivered = synth_deliveries.deliver(inst, load_specs(), seed=seed, rows=rows)
    for delivery in delivered:
        typer.echo(
            f"{delivery.source}: {delivery.rows} rows in {delivery.file} (truth: {delivery.truth})"
        )
