"""``cohort init`` and ``cohort serve``: create and run an instance."""

import typer
import uvicorn

from cohort import audit
from cohort import demo as demo_seed
from cohort.cli.common import CLI_ACTOR, app, opened, settings, unit_of_work
from cohort.instance import initialise
from cohort.key_check import check_keys
from cohort.web.access_log import server_log_config


@app.command()
def init() -> None:
    """Create the data directory, keys (mode 0600), database schema and research store."""
    cfg = settings()
    created = initialise(cfg)
    if created:
        with unit_of_work() as (_, session):
            audit.record(session, actor=CLI_ACTOR, action="instance.init")
    keys = "new keys generated" if created else "existing keys kept"
    typer.echo(f"instance ready in {cfg.data_dir} ({keys})")


@app.command()
def demo(
    serve_after: bool = typer.Option(
        True, "--serve/--no-serve", help="Serve the app after seeding."
    ),
) -> None:
    """Initialise and seed a demo instance (once), print the demo logins, then serve."""
    cfg = settings()
    initialise(cfg)
    with opened() as inst:
        logins = demo_seed.seed(inst)
    typer.echo("Demo logins (also in demo-logins.json in the data directory):")
    for login in logins:
        scope = f" at {login.site}" if login.site else ""
        typer.echo(f"  {login.role:<13} {login.username:<16} {login.password}{scope}")
    if serve_after:
        typer.echo(f"Serving on http://{cfg.host}:{cfg.port}")
        serve(host=None, port=None, workers=None)


@app.command()
def serve(
    host: str = typer.Option(None, help="Address to listen on (default COHORT_HOST)."),
    port: int = typer.Option(None, help="Port to listen on (default COHORT_PORT)."),
    workers: int = typer.Option(
        None, min=1, max=32, help="Server processes (default COHORT_WORKERS, 1)."
    ),
) -> None:
    """Serve the web app and API."""
    cfg = settings()
    # Opened and its keys checked here, before uvicorn starts any worker, so a refusal is
    # one line and exit 2 whatever the worker count: in a worker it would be a traceback,
    # and uvicorn would start the worker again.
    with opened() as inst:
        check_keys(inst)
    uvicorn.run(
        "cohort.web.app:create_app",
        factory=True,
        host=host or cfg.host,
        port=port or cfg.port,
        workers=workers or cfg.workers,
        proxy_headers=True,
        log_level="info",
        access_log=False,  # its lines hold the address as sent: cohort.web.access_log
        log_config=server_log_config(),
    )
