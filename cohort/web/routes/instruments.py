"""Instrument dictionaries: data managers publish a new version (checked by
``cohort.consent_instrument``, as ``cohort forms import`` is) and download any published
one exactly as uploaded; the page ``/instruments`` and ``/api/v1/instruments``. The page
also shows how much of each current version is translated into each language, gives the
translators' PO file of each, and takes a filled-in one back
(``forms.uploaded_translations``, as ``cohort forms translations`` does).

A refused upload stores nothing and says why: every problem of a malformed dictionary,
each naming its row and column; a taken version (409); an empty, oversized or non-UTF-8
file. The API returns the same as ``{"detail", "field", "problems"}``.
"""

from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, field_validator
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from cohort import consent_instrument, i18n
from cohort.errors import CohortError, NotFound
from cohort.models import Instrument
from cohort.web import ui_language
from cohort.web.deps import DataManager, DbSession, PostedForm
from cohort.web.pages import error_message, render, sentence
from forms import dictionary, registry, uploaded_translations
from forms.dictionary import FORM_NAME, DictionaryError
from forms.i18n import N_, Gettext

router = APIRouter(include_in_schema=False)
api = APIRouter(tags=["instruments"])

MAX_BYTES = 2 * 1024 * 1024
TITLE = N_("Instrument dictionaries")
NO_FILE = N_("choose a data dictionary file (CSV) to upload")
EMPTY = N_("the file is empty: choose a data dictionary saved as CSV UTF-8")
TOO_BIG = N_("the file is larger than 2 MB: check it is a data dictionary")
NO_PO_FILE = N_("choose a translation file (PO) to upload")


class InstrumentOut(BaseModel):
    name: str
    version: str
    published_at: datetime
    published_by: str
    sha256: str
    current: bool

    @field_validator("published_at")
    @classmethod
    def _in_utc(cls, at: datetime) -> datetime:
        """SQLite hands timestamps back without a zone (they were written in UTC); the
        document promises an RFC 3339 date-time, which has one."""
        return at if at.tzinfo else at.replace(tzinfo=UTC)


class ProblemOut(BaseModel):
    row: int | None
    column: str | None
    message: str


def _listing(db: Session) -> list[InstrumentOut]:
    rows = registry.versions(db)
    current = {row.name: row.id for row in rows}  # oldest first: the last one wins
    return [
        InstrumentOut.model_validate({**row.model_dump(), "current": current[row.name] == row.id})
        for row in rows
    ]


async def _upload(db: Session, form: FormData, actor: str, gettext=None) -> Instrument:
    """Publish the posted file as the posted version; CohortError says what was wrong."""
    say = gettext or (lambda text: text)
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise CohortError(say(NO_FILE), field="file")
    data = await file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise CohortError(say(TOO_BIG), field="file")
    if not data.strip():
        raise CohortError(say(EMPTY), field="file")
    version = str(form.get("version", "")).strip()
    try:
        text = dictionary.decode(data)
    except DictionaryError as exc:
        exc.field = "file"
        raise
    try:
        return consent_instrument.publish(db, text, version=version, actor=actor)
    except DictionaryError as exc:
        exc.field = exc.field or "file"
        raise


def _problems(exc: CohortError, gettext: Gettext) -> list[str]:
    """Every refusal of the upload, in the data manager's language."""
    if isinstance(exc, DictionaryError):
        return [sentence(problem.translated(gettext)) for problem in exc.problems]
    return [error_message(exc, gettext)]


def _translations(db: Session, listing: list[InstrumentOut]) -> list[dict]:
    """Each current version's coverage: a row per language, with its translators' file."""
    tables = []
    for row in listing:
        if row.current:
            spec = uploaded_translations.attach(db, registry.get(db, row.name, row.version))
            covered = uploaded_translations.coverage(spec)
            languages = [
                {"language": i18n.LANGUAGES[code], "done": done, "of": of}
                for code, (done, of) in covered.items()
            ]
            tables.append({"name": row.name, "version": row.version, "languages": languages})
    return tables


def _page(request: Request, db: Session, status_code: int = 200, **context) -> Response:
    listing = _listing(db)
    return render(
        request,
        "instruments.html",
        status_code=status_code,
        title=i18n.gettext(ui_language.current(request))(TITLE),
        instruments=listing,
        translations=_translations(db, listing),
        **context,
    )


def _csv(db: Session, name: str, version: str) -> Response:
    """The published bytes; names that are not a form name and version are simply absent."""
    if not FORM_NAME.fullmatch(name) or not registry.VERSION.fullmatch(version):
        raise NotFound(f"no instrument {name} version {version} is published")
    data = registry.export(db, name, version).encode()
    filename = f"{name}-{version}.csv"
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/instruments", summary=TITLE)
def instruments_page(
    request: Request,
    user: DataManager,
    db: DbSession,
    published: str = "",
    version: str = "",
    translated: str = "",
) -> Response:
    done = {"name": published, "version": version} if published and version else None
    language = i18n.LANGUAGES.get(translated)
    took = {"name": published, "version": version, "language": language} if language else None
    return _page(request, db, published=None if took else done, translated=took, form={})


@router.post("/instruments")
async def upload_page(
    request: Request, user: DataManager, db: DbSession, form: PostedForm
) -> Response:
    gettext = i18n.gettext(ui_language.current(request))
    try:
        instrument = await _upload(db, form, user.username, gettext)
    except CohortError as exc:
        db.rollback()
        target = "#" + (exc.field or "file")
        return _page(
            request,
            db,
            status_code=exc.status_code,
            form={"version": str(form.get("version", ""))},
            error=exc,
            errors=True,
            error_list=[{"text": text, "href": target} for text in _problems(exc, gettext)],
        )
    query = urlencode({"published": instrument.name, "version": instrument.version})
    return RedirectResponse(f"/instruments?{query}", status_code=303)


async def _upload_translations(
    db: Session, form: FormData, actor: str
) -> uploaded_translations.Upload:
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise CohortError(NO_PO_FILE, field="file")
    upload = uploaded_translations.read(db, await file.read(uploaded_translations.MAX_BYTES + 1))
    uploaded_translations.store(db, upload, actor)
    return upload


@router.post("/instruments/translations")
async def translations_upload_page(
    request: Request, user: DataManager, db: DbSession, form: PostedForm
) -> Response:
    try:
        upload = await _upload_translations(db, form, user.username)
    except CohortError as exc:
        db.rollback()
        gettext = i18n.gettext(ui_language.current(request))
        return _page(
            request,
            db,
            status_code=exc.status_code,
            form={},
            translation_error=exc,
            errors=True,
            error_list=[{"text": error_message(exc, gettext), "href": "#translations-file"}],
        )
    spec = upload.spec
    query = urlencode(
        {"published": spec.name, "version": spec.version, "translated": upload.language}
    )
    return RedirectResponse(f"/instruments?{query}", status_code=303)


@router.get("/instruments/{name}/{version}/translations/{language}.po")
def translations_template_page(
    name: str, version: str, language: str, user: DataManager, db: DbSession
) -> Response:
    """The translators' file; names that are not a form, version and language are absent."""
    known = FORM_NAME.fullmatch(name) and registry.VERSION.fullmatch(version)
    if not known or language not in uploaded_translations.LANGUAGES:
        raise NotFound(f"no translation file {name} {version} {language[:8]}")
    spec = uploaded_translations.attach(db, registry.get(db, name, version))
    return Response(
        uploaded_translations.template(spec, language),
        media_type="text/x-gettext-translation; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-{version}-{language}.po"'},
    )


@router.get("/instruments/{name}/{version}/dictionary.csv")
def download_page(name: str, version: str, user: DataManager, db: DbSession) -> Response:
    return _csv(db, name, version)


@api.get("/instruments")
def instruments(user: DataManager, db: DbSession) -> list[InstrumentOut]:
    """Every published instrument version, by form name, oldest first."""
    return _listing(db)


@api.get("/instruments/{name}/{version}", response_class=Response)
def instrument_csv(name: str, version: str, user: DataManager, db: DbSession) -> Response:
    """A published data dictionary, byte for byte as it was uploaded (text/csv)."""
    return _csv(db, name, version)


@api.post("/instruments", status_code=201, response_model=InstrumentOut)
async def publish_instrument(user: DataManager, db: DbSession, form: PostedForm) -> Response:
    """Publish a REDCap data dictionary (multipart: ``file``, ``version``) as a new version
    of its form. Refused whole (4xx ``{"detail", "field", "problems"}``) if malformed."""
    try:
        instrument = await _upload(db, form, user.username)
    except CohortError as exc:
        db.rollback()
        problems = [
            ProblemOut(row=p.row, column=p.column, message=p.message).model_dump()
            for p in getattr(exc, "problems", ())
        ]
        body = {"detail": exc.message, "field": exc.field, "problems": problems}
        return JSONResponse(body, exc.status_code)
    listed = {(i.name, i.version): i for i in _listing(db)}
    return JSONResponse(listed[(instrument.name, instrument.version)].model_dump(mode="json"), 201)
