"""How form text reaches Babel: messages are marked with ``N_`` where they are defined and
translated with the caller's ``gettext`` where they are shown, so one form class can be
built per language and the catalogs stay the single place for translations."""

from collections.abc import Callable

Gettext = Callable[[str], str]


def identity(text: str) -> str:
    """The gettext of the source language: every text as written."""
    return text


def N_(message: str) -> str:
    """Mark ``message`` for extraction (``N_`` is a Babel default keyword); it is
    translated later, where it is shown."""
    return message
