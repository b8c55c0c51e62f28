"""A Babel extraction method for data dictionaries, so instrument text enters the catalogs
like any other UI string (as REDCap's multi-language management keeps one translation per
label). Babel splits a section header at its first colon, so name the method in
``[extractors]`` first (as babel.cfg does)::

    [extractors]
    redcap_dictionary = forms.extract:extract_dictionary

    [redcap_dictionary: forms/instruments/**.csv]

Each message is a section header, label, note or choice label, located by its spreadsheet
row and commented with the field it belongs to, for the translator.
"""

from collections.abc import Iterator
from typing import Any, BinaryIO

from forms.dictionary import parse
from forms.spec import FormSpec

ExtractionResult = tuple[int, str | None, str, list[str]]


def instrument_texts(spec: FormSpec) -> Iterator[tuple[int, str, str]]:
    """(row, text, where it appears) for every translatable text of ``spec``, in form order:
    what the catalogs extract and what a run-time translation file asks for."""
    for field in spec.fields:
        where = f"{spec.name}.{field.name}"
        texts = [
            (field.section_header, f"{where}: section header"),
            (field.label, f"{where}: label"),
            (field.note, f"{where}: note"),
            *((choice.label, f"{where}: choice {choice.code}") for choice in field.choices),
        ]
        for text, comment in texts:
            if text:
                yield field.row, text, comment


def extract_dictionary(
    fileobj: BinaryIO, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[ExtractionResult]:
    """Babel's extractor interface; a malformed dictionary fails the extraction loudly."""
    spec = parse(fileobj.read(), version="unpublished")
    for row, text, comment in instrument_texts(spec):
        yield row, None, text, [comment]
