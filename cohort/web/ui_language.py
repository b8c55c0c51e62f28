"""The language the service speaks to staff (the UI language), kept in a cookie per browser
so it holds from the sign-in page on; anything but a cohort language reads as English.
The woman's language is a different thing: it is an answer on the consent form."""

from fastapi import Request, Response

from cohort import i18n
from cohort.errors import CohortError
from forms.i18n import N_

COOKIE = "cohort_ui_language"
ONE_YEAR = 365 * 24 * 3600
UNKNOWN = N_("Choose one of the languages listed")


def current(request: Request) -> str:
    return i18n.language(request.cookies.get(COOKIE)).code


def check(code: str) -> str:
    if code not in i18n.LANGUAGES:
        raise CohortError(UNKNOWN, field="ui_language")
    return code


def remember(response: Response, request: Request, code: str) -> None:
    response.set_cookie(
        COOKIE,
        check(code),
        max_age=ONE_YEAR,
        httponly=True,
        samesite="strict",
        secure=request.app.state.instance.settings.secure_cookies or request.url.scheme == "https",
        path="/",
    )


def choices() -> list[dict[str, str]]:
    """The switcher's options, each in its own language, so anyone can find hers."""
    return [{"value": code, "text": lang.native_name} for code, lang in i18n.LANGUAGES.items()]
