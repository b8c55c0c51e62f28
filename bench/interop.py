"""The REDCap-compatible API and the FHIR export against a real ``cohort serve`` on SQLite
and PostgreSQL: whole-request wall times as a REDCap client sees them, with REDCap's
cheapest call (``content=version``) measured side by side as the floor.

A midwife's token imports new women in batches of 500 (json, then xml: the two readers
side by side), imports an unchanged export of her site back (each row compared with her
record and left as it is), exports every record of her site (with and without her
identifiers, which the vault decrypts) and pulls the site's FHIR Consents as NDJSON.
``BENCH_INTEROP_SCALE`` (default 1: 4,000 women) scales the women imported."""

import json
import time
from pathlib import Path
from xml.sax.saxutils import escape

import httpx

from bench.harness import Row, median, p99, pg_database, scale
from cohort import synth
from tests.interop.redcap_world import SITE, consent_answers, flat_row, make_redcap_world
from tests.live_server import serve

SCALE = scale("interop")
BATCH = 500
BATCHES = max(1, round(4 * SCALE))  # per format: 4 x 500 x 2 formats = 4,000 women
FLOOR_RUNS = 30
EXPORT_RUNS = 5


def _women() -> list[list[dict[str, str]]]:
    """Batches of new women: one draw, so no NHS number comes twice (each draw's are
    unique, but two draws' may meet in the synthetic range)."""
    drawn = synth.mothers(seed=1000, n=2 * BATCHES * BATCH)
    rows = [flat_row(consent_answers(mother)) for mother in drawn]
    return [rows[start : start + BATCH] for start in range(0, len(rows), BATCH)]


def _xml(rows: list[dict[str, str]]) -> str:
    items = "".join(
        "<item>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in row.items()) + "</item>"
        for row in rows
    )
    return f'<?xml version="1.0" encoding="UTF-8" ?><records>{items}</records>'


class Client:
    def __init__(self, url: str, token: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=900)
        self.token = token

    def post(self, **data: str) -> tuple[float, httpx.Response]:
        start = time.perf_counter()
        response = self.http.post("/redcap/api/", data={"token": self.token, **data})
        took = time.perf_counter() - start
        response.raise_for_status()
        return took, response

    def get(self, path: str) -> float:
        start = time.perf_counter()
        response = self.http.get(path, headers={"Authorization": f"Bearer {self.token}"})
        response.raise_for_status()
        return time.perf_counter() - start


def _imports(client: Client, fmt: str, batches: list[list[dict[str, str]]]) -> list[float]:
    """Rows per second of each batch of new women, all of them recorded."""
    rates = []
    for rows in batches:
        data = json.dumps(rows) if fmt == "json" else _xml(rows)
        took, response = client.post(content="record", format=fmt, returnFormat="json", data=data)
        assert response.json() == {"count": BATCH}, response.text
        rates.append(BATCH / took)
    return rates


def _backend(name: str, root: Path, url: str) -> list[Row]:
    world = make_redcap_world(root, url, 0, 0)
    world.instance.engine.dispose()
    rows: list[Row] = []
    with serve(root, database_url=url, timeout_s=180) as base:
        midwife, manager = Client(base, world.tokens["mw"]), Client(base, world.tokens["dm"])
        floor = [midwife.post(content="version")[0] for _ in range(FLOOR_RUNS)]
        rows.append(
            Row(f"{name}: `version`, the floor", "ms", median(floor) * 1e3, p99(floor) * 1e3)
        )
        batches = _women()
        rates = {
            "json": _imports(midwife, "json", batches[:BATCHES]),
            "xml": _imports(midwife, "xml", batches[BATCHES:]),
        }
        women = 2 * BATCHES * BATCH
        rows.append(
            Row(
                f"{name}: import of new women, json, {BATCH} a request",
                "rows/s",
                median(rates["json"]),
            )
        )
        rows.append(
            Row(
                f"{name}: import of new women, xml, {BATCH} a request",
                "rows/s",
                median(rates["xml"]),
                baseline="json import",
                ratio=median(rates["xml"]) / median(rates["json"]),
            )
        )
        exported = json.loads(midwife.post(content="record", format="json")[1].text)
        back = []
        for start in range(0, BATCHES * BATCH, BATCH):
            took, response = midwife.post(
                content="record", format="json", data=json.dumps(exported[start : start + BATCH])
            )
            assert response.json() == {"count": 0}, response.text
            back.append(BATCH / took)
        rows.append(
            Row(
                f"{name}: an unchanged export imported back (each row compared with her record)",
                "rows/s",
                median(back),
                baseline="json import of new women",
                ratio=median(back) / median(rates["json"]),
            )
        )
        ids_only = [
            midwife.post(content="record", format="json", fields="study_id")[0]
            for _ in range(EXPORT_RUNS)
        ]
        full = [midwife.post(content="record", format="json")[0] for _ in range(EXPORT_RUNS)]
        as_xml = [midwife.post(content="record", format="xml")[0] for _ in range(EXPORT_RUNS)]
        rows.append(
            Row(f"{name}: export of {women:,} records, study IDs only", "s", median(ids_only))
        )
        for label, samples in (("json with identifiers", full), ("xml with identifiers", as_xml)):
            rows.append(
                Row(
                    f"{name}: export of {women:,} records, {label}",
                    "s",
                    median(samples),
                    baseline="study IDs only",
                    ratio=median(samples) / median(ids_only),
                )
            )
        fhir = [manager.get(f"/fhir/sites/{SITE}/Consent.ndjson") for _ in range(EXPORT_RUNS)]
        rows.append(Row(f"{name}: FHIR NDJSON of the site's {women:,} Consents", "s", median(fhir)))
    return rows


def run(tmp: Path) -> list[Row]:
    rows = _backend("SQLite", tmp / "sqlite" / "var", f"sqlite:///{tmp / 'interop.db'}")
    with pg_database() as pg_url:
        rows += _backend("PostgreSQL", tmp / "pg" / "var", pg_url)
    return rows
