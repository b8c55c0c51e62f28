"""The shipped catalogs as tests read them: each language's .po parsed, compiled into a
temporary folder as `make catalogs` does, and served from there by cohort.i18n, so a
spec reads the committed translations, never a stale or missing .mo file.

Import the fixtures into a test module to use them (``from tests.catalogs import ...``).
"""

from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from cohort import i18n

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
SHIPPED = sorted(code for code in i18n.LANGUAGES if code != i18n.DEFAULT)


@cache
def shipped_catalogs() -> dict[str, Catalog]:
    found = {}
    for code in SHIPPED:
        with (TRANSLATIONS / code / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").open("rb") as po:
            found[code] = read_po(po, locale=code, domain=i18n.DOMAIN)
    return found


@pytest.fixture(scope="session")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("translations")
    for code, catalog in shipped_catalogs().items():
        target = root / code / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo"
        target.parent.mkdir(parents=True)
        with target.open("wb") as mo:
            write_mo(mo, catalog)
    return root


@pytest.fixture
def served_from(compiled: Path, monkeypatch: pytest.MonkeyPatch):
    """cohort.i18n answers from the freshly compiled catalogs for this test."""
    monkeypatch.setattr(i18n, "CATALOGS", compiled)
    i18n.translations.cache_clear()
    yield compiled
    i18n.translations.cache_clear()
