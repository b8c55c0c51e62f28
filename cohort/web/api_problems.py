"""How the API documents its refusals: every 4xx and 503 answer under ``/api/v1`` is
``{"detail", "field"}`` (``cohort.web.errors``), never FastAPI's default
validation-error shape, so the OpenAPI document says exactly what a client will get."""

from pydantic import BaseModel


class Problem(BaseModel):
    detail: str
    field: str | None


REFUSALS = {
    400: "The request is not valid: `detail` says why, `field` names the field",
    401: "No API token, or one that is not valid",
    403: "Your role cannot use this",
    404: "Not found, or outside your site or projects",
    409: "Conflicts with what is already recorded",
    422: "A parameter or the body does not have the expected shape",
    503: "The database is not accepting changes, or the service is too busy: nothing was "
    "saved; retry after `Retry-After` seconds (a save with the same Idempotency-Key)",
}
RESPONSES: dict[int | str, dict] = {
    status: {"model": Problem, "description": description}
    for status, description in REFUSALS.items()
}
