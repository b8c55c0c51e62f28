"""REDCap's three wire formats (json, csv, xml) for what the API returns, its error
shapes in each, and reading the rows of a record import in any of them."""

import csv
import io
import json
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from cohort.csv_cells import write_csv
from cohort.errors import CohortError

FORMATS = ("json", "csv", "xml")
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" ?>'
NOT_A_FORMAT = "The format '{value}' is not valid: use json, csv or xml"
NOT_ROWS = "The data are not a list of records (objects of field name to value)"
BAD_JSON = "The data are not valid JSON: {problem}"
BAD_CSV = "The data are not valid CSV: {problem}"
BAD_XML = "The data are not valid XML: {problem}"
XML_ENTITIES = "entity and document type declarations are not accepted"
XML_SHAPE = "give <records> holding one <item> per record, each field an element of text"


def check_format(value: str, field: str = "format") -> str:
    if value not in FORMATS:
        raise CohortError(NOT_A_FORMAT.format(value=value[:20]), field=field)
    return value


def _csv(rows: list[dict], columns: list[str] | None, root: str) -> str:
    header = columns if columns is not None else list(rows[0]) if rows else []
    if not header:
        return ""
    cells = [header, *([row.get(c, "") for c in header] for row in rows)]
    return write_csv(cells, dictionary=root == "metadata")


def _xml(rows: list[dict], root: str) -> str:
    items = (
        "<item>" + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in row.items()) + "</item>"
        for row in rows
    )
    return f"{XML_HEAD}\n<{root}>{''.join(items)}</{root}>"


def render(rows: list[dict], fmt: str, root: str, columns: list[str] | None = None) -> str:
    """Rows as REDCap writes them in ``fmt``; ``columns`` heads an empty CSV."""
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False)
    if fmt == "csv":
        return _csv(rows, columns, root)
    return _xml(rows, root)


def render_one(item: dict, fmt: str, root: str) -> str:
    """A single object (project information, an import count): JSON as an object."""
    return json.dumps(item, ensure_ascii=False) if fmt == "json" else render([item], fmt, root)


def render_ids(ids: list[str], fmt: str) -> str:
    """Record ids, as an import returns them: a JSON array, else one per row."""
    if fmt == "json":
        return json.dumps(ids)
    return render([{"id": i} for i in ids], fmt, "ids", ["id"])


def error_body(message: str, fmt: str) -> str:
    """An error in REDCap's shape for ``fmt`` (what PyCap and REDCapR look for)."""
    if fmt == "json":
        return json.dumps({"error": message}, ensure_ascii=False)
    if fmt == "csv":
        return f"ERROR: {message}"
    return f"{XML_HEAD}\n<hash>\n  <error>{escape(message)}</error>\n</hash>"


def _cell(value: object) -> str:
    """A JSON value as REDCap takes it: booleans as "True"/"False", numbers as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | str):
        return str(value)
    raise CohortError(NOT_ROWS, field="data")


def _csv_rows(data: str) -> list[dict[str, str]]:
    try:
        return [
            {str(k): v or "" for k, v in row.items() if k is not None}
            for row in csv.DictReader(io.StringIO(data))
        ]
    except csv.Error as exc:
        raise CohortError(BAD_CSV.format(problem=exc), field="data") from None


def _json_rows(data: str) -> list[dict[str, str]]:
    try:
        parsed = json.loads(data)
    except json.JSONDecodeError as exc:
        raise CohortError(BAD_JSON.format(problem=exc.msg), field="data") from None
    if not isinstance(parsed, list) or not all(isinstance(row, dict) for row in parsed):
        raise CohortError(NOT_ROWS, field="data")
    return [{str(k): _cell(v) for k, v in row.items()} for row in parsed]


def _xml_record(item: Element) -> dict[str, str]:
    if item.tag != "item" or any(len(field) for field in item):
        raise CohortError(BAD_XML.format(problem=XML_SHAPE), field="data")
    return {field.tag: field.text or "" for field in item}


def _xml_rows(data: str) -> list[dict[str, str]]:
    """REDCap's flat XML (``<records><item><field>value</field>…</item></records>``),
    parsed by defusedxml: a document declaring entities (a billion laughs, an external
    file) is refused before anything is expanded."""
    try:
        root = fromstring(data.encode(), forbid_dtd=True)
    except DefusedXmlException:
        raise CohortError(BAD_XML.format(problem=XML_ENTITIES), field="data") from None
    except ParseError as exc:
        raise CohortError(BAD_XML.format(problem=exc.msg), field="data") from None
    if root.tag != "records":
        raise CohortError(BAD_XML.format(problem=XML_SHAPE), field="data")
    return [_xml_record(item) for item in root]


READERS = {"csv": _csv_rows, "json": _json_rows, "xml": _xml_rows}


def read_rows(data: str, fmt: str) -> list[dict[str, str]]:
    """The records of an import, every value a string."""
    return READERS[check_format(fmt)](data)
