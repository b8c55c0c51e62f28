"""Fixtures for the forms specs: dictionaries written as a spreadsheet would save them, and
the browser port of the branching logic run under Node on the same cases as Python."""

import csv
import io
import json
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

import forms
from forms.dictionary import COLUMNS, HEADERS

KEYS = [key for key, _ in COLUMNS]
DEFAULTS = {"form_name": "f", "field_type": "text", "field_label": "A question"}
SHIPPED = Path(forms.__file__).parent / "instruments" / "babi_consent.csv"

NODE_HARNESS = """
const port = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
const asMap = (o) =>
  new Map(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? new Set(v) : v]));
const run = {
  evaluate: (c) => port.evaluate(c.expr, asMap(c.values)),
  visibleFields: (c) => [...port.visibleFields(new Map(c.branchings), asMap(c.values))].sort(),
};
console.log(JSON.stringify(cases.map((c) => run[c.call](c))));
"""


def dictionary_csv(
    *fields: dict[str, str], columns: Sequence[str] = KEYS, short_names: bool = False
) -> str:
    """A dictionary with one row per field (the first on spreadsheet row 2); columns not
    named in a field take DEFAULTS or stay empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([key if short_names else HEADERS[key] for key in columns])
    for field in fields:
        writer.writerow([{**DEFAULTS, **field}.get(key, "") for key in columns])
    return out.getvalue()


def as_json_values(values: dict) -> dict:
    return {k: sorted(v) if not isinstance(v, str) else v for k, v in values.items()}


@pytest.fixture
def browser_port() -> Callable[[list[dict]], list]:
    """Run cases (``{"call": "evaluate" | "visibleFields", ...}``) through branching.js."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node is not installed: the JavaScript port is not checked here")

    def run(cases: list[dict]) -> list:
        result = subprocess.run(
            [node, "-e", NODE_HARNESS, str(forms.static_dir() / "branching.js")],
            input=json.dumps(cases),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return json.loads(result.stdout)

    return run
