"""Linkage for data managers: the runs page (each source's latest run, progress while one
runs, quarantined files), a run's detail with its rejected rows, and the clerical review
queue where grey-zone pairs are accepted or rejected.

The review page shows identifiers (the pair's side-by-side comparison, decrypted from the
vault), so it is for data managers only and each showing is audited.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from cohort import audit, i18n
from cohort.errors import NotFound
from cohort.models import ClericalPair, LinkageRun, User
from cohort.web import ui_language
from cohort.web.deps import DataManager, DbSession, InstanceDep, requires
from cohort.web.pages import render
from forms.i18n import N_
from linkage_jobs import clerical, lock, run_history, scheduler
from linkage_jobs.spec import load_specs

router = APIRouter(include_in_schema=False)

TITLE = N_("Linkage")
REVIEW_TITLE = N_("Clerical review")
REVIEW_PAGE_SIZE = 10
REFRESH_S = 5
LinkageViewer = Annotated[User, Depends(requires("data_manager", "admin"))]
OUTCOME_TAGS = {
    "running": "nhsuk-tag--blue",
    "succeeded": "nhsuk-tag--green",
    "quarantined": "nhsuk-tag--orange",
    "failed": "nhsuk-tag--red",
    "skipped_duplicate": "nhsuk-tag--grey",
}
OUTCOME_LABELS = {
    "running": N_("Running"),
    "succeeded": N_("Succeeded"),
    "quarantined": N_("Quarantined"),
    "failed": N_("Failed"),
    "skipped_duplicate": N_("Already linked"),
}
DONE = {
    "accepted": N_("The pair was accepted and the record linked."),
    "rejected": N_("The pair was rejected: nothing was linked."),
    "withdrawn": clerical.NO_LONGER_CONSENTED,
}


def _gettext(request: Request):
    return i18n.gettext(ui_language.current(request))


@router.get("/linkage", summary=TITLE)
def runs_page(request: Request, user: LinkageViewer, db: DbSession, instance: InstanceDep):
    specs = load_specs()
    latest = run_history.latest_runs(db)
    running = any(run.outcome == "running" for run in latest.values())
    sources = [
        {
            "spec": spec,
            "run": latest.get(name),
            "next_run": scheduler.next_run(spec),
            "quarantined": run_history.quarantined(instance.settings, spec),
        }
        for name, spec in specs.items()
    ]
    return render(
        request,
        "linkage.html",
        title=_gettext(request)(TITLE),
        sources=sources,
        recent=run_history.recent_runs(db),
        pending=run_history.pending_review(db),
        holders=lock.holders(db),
        refresh=REFRESH_S if running else None,
        tags=OUTCOME_TAGS,
        outcomes=OUTCOME_LABELS,
    )


@router.get("/linkage/run")
def run_page(request: Request, user: LinkageViewer, db: DbSession, id: int = 0):
    run = db.get(LinkageRun, id)
    if run is None:
        raise NotFound(f"there is no linkage run {id}")
    specs = load_specs()
    return render(
        request,
        "linkage_run.html",
        title=_gettext(request)("Linkage run %(id)s") % {"id": run.id},
        run=run,
        spec=specs.get(run.source),
        refresh=REFRESH_S if run.outcome == "running" else None,
        tags=OUTCOME_TAGS,
        outcomes=OUTCOME_LABELS,
    )


def _shown(db: Session, instance, pairs: list[ClericalPair]) -> list[dict]:
    return [
        {"pair": pair, "lines": clerical.open_comparison(db, instance.keys, pair)} for pair in pairs
    ]


@router.get("/linkage/review")
def review_page(
    request: Request, user: DataManager, db: DbSession, instance: InstanceDep, done: str = ""
):
    pairs = clerical.pending_pairs(db)
    page = pairs[:REVIEW_PAGE_SIZE]
    if page:
        audit.record(
            db,
            actor=user.username,
            action="linkage.clerical_view",
            detail={"pairs": [pair.id for pair in page]},
        )
    specs = load_specs()
    gettext = _gettext(request)
    return render(
        request,
        "linkage_review.html",
        title=gettext(REVIEW_TITLE),
        shown=_shown(db, instance, page),
        waiting=len(pairs),
        titles={name: spec.title for name, spec in specs.items()},
        done=gettext(DONE[done]) if done in DONE else None,
    )


@router.post("/linkage/review")
def decide(
    user: DataManager,
    db: DbSession,
    instance: InstanceDep,
    pair_id: Annotated[int, Form()] = 0,
    decision: Annotated[str, Form()] = "",
) -> Response:
    pair = db.get(ClericalPair, pair_id)
    specs = load_specs()
    if pair is None or pair.source not in specs:
        raise NotFound(f"there is no clerical pair {pair_id} waiting for review")
    decided = clerical.decide(
        db,
        instance.settings.research_store_path,
        specs[pair.source],
        pair_id,
        decision,
        actor=user.username,
    )
    done = "withdrawn" if decision == "accepted" and decided.decision == "rejected" else decision
    return RedirectResponse(f"/linkage/review?done={done}", status_code=303)
