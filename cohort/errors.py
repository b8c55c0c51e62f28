"""The one user-facing error type: its message is shown as is, so it must say what was
wrong, where, and what to do. The CLI prints it on one line (exit 2), the API returns it
as a 4xx JSON body, forms show it beside the field."""


class CohortError(Exception):
    """A refusal caused by the caller's input or the deployment's state; nothing changed."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(CohortError):
    status_code = 404


class Conflict(CohortError):
    status_code = 409


class Forbidden(CohortError):
    status_code = 403
