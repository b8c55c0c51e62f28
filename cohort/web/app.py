"""The web app factory: ``cohort serve`` runs ``create_app`` as a uvicorn factory."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import forms
from cohort.config import Settings, get_settings
from cohort.governance import linkage as governance_linkage
from cohort.instance import Instance, open_instance
from cohort.key_check import check_keys
from cohort.web import api_problems, errors
from cohort.web.access_log import AccessLog
from cohort.web.admission import Admission
from cohort.web.pages import STATIC_NHSUK, make_templates, page_tasks
from cohort.web.routes import (
    account,
    audit,
    consents,
    docs,
    fhir,
    governance,
    health,
    home,
    instruments,
    language,
    linkage,
    login,
    participant_consent,
    participants,
    projects,
    redcap,
    research,
    sites,
    submissions,
    users,
    withdrawals,
)
from cohort.web.security import SecurityHeaders
from cohort.web.timing import ServerTiming
from linkage_jobs import scheduler as linkage_scheduler

API_PREFIX = "/api/v1"
OWN_STATIC = Path(__file__).parent / "static"

# participants (its /participants/find) before participant_consent (/participants/{id})
PAGE_ROUTERS = (
    login,
    language,
    home,
    account,
    sites,
    users,
    consents,
    submissions,
    participants,
    participant_consent,
    withdrawals,
    instruments,
    audit,
    governance,
    linkage,
    projects,
    research,
    docs,
    redcap,
    fhir,
)
API_ROUTERS = (
    health,
    account,
    sites,
    users,
    consents,
    participant_consent,
    withdrawals,
    instruments,
    audit,
    projects,
    research,
)


def _mount_static(app: FastAPI, instance: Instance) -> None:
    """Our own scripts always; the design system and Swagger UI when installed."""
    app.mount("/static/cohort", StaticFiles(directory=OWN_STATIC), name="static-cohort")
    app.mount("/static/forms", StaticFiles(directory=forms.static_dir()), name="static-forms")
    installed = {
        STATIC_NHSUK: instance.settings.frontend_dir,
        "/static/swagger": instance.settings.swagger_ui_dir,
    }
    for prefix, directory in installed.items():
        if directory.is_dir():
            app.mount(prefix, StaticFiles(directory=directory), name=prefix.strip("/"))


def _open_checked(settings: Settings) -> Instance:
    """The configured instance, refused before serving if its keys are not the ones its
    identities were written with."""
    inst = open_instance(settings)
    try:
        check_keys(inst)
    except BaseException:
        inst.engine.dispose()
        raise
    return inst


def create_app(instance: Instance | None = None, *, schedule: bool | None = None) -> FastAPI:
    """The app on ``instance``, or on the configured one (``cohort serve``), whose keys are
    checked first. Linkage runs on its schedules when asked, or by default when serving
    the configured instance and ``COHORT_LINKAGE_SCHEDULE`` is not false."""
    owned = instance is None
    inst = instance or _open_checked(get_settings())
    scheduled = linkage_scheduler.enabled() if schedule is None and owned else bool(schedule)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.scheduler = linkage_scheduler.start_background(inst) if scheduled else None
        if owned:
            governance_linkage.warm_in_background(inst.engine)
        try:
            yield
        finally:
            if app.state.scheduler is not None:
                app.state.scheduler.shutdown(wait=False)
            if owned:
                inst.engine.dispose()

    app = FastAPI(
        title="Birth cohort platform",
        version="1",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.instance = inst
    app.state.templates = make_templates()
    app.state.frontend_available = (inst.settings.frontend_dir / "nhsuk").is_dir()
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Admission)  # requests past the limit wait here, holding no thread
    app.add_middleware(ServerTiming)  # times everything below it
    app.add_middleware(AccessLog)  # outermost: logs the status the client gets
    errors.install(app)
    for module in PAGE_ROUTERS:
        app.include_router(module.router)
    for module in API_ROUTERS:
        app.include_router(module.api, prefix=API_PREFIX, responses=api_problems.RESPONSES)
    _mount_static(app, inst)
    app.state.tasks = page_tasks(app)
    return app
