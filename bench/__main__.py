"""``make bench``: run every benchmark and rewrite the generated part of docs/benchmarks.md."""

import sys
import tempfile
from pathlib import Path

from bench import spine
from bench.harness import Row, machine

DOC = Path(__file__).parent.parent / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
SUITES = {"Platform spine": spine.run}


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:,.2f}"


def _table(rows: list[Row]) -> str:
    lines = [
        "| measure | unit | median | p99 | baseline (side by side) | ratio to baseline |",
        "|---|---|---:|---:|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.unit} | {_fmt(r.median)} | {_fmt(r.p99)} | {r.baseline or ''} "
            f"| {_fmt(r.ratio)} |"
        )
    return "\n".join(lines)


def main() -> None:
    sections = [f"Machine: {machine()}."]
    for title, suite in SUITES.items():
        with tempfile.TemporaryDirectory() as tmp:
            rows = suite(Path(tmp))
        sections.append(f"### {title}\n\n{_table(rows)}")
        print(sections[-1], flush=True)
    doc = DOC.read_text()
    head, _, rest = doc.partition(BEGIN)
    _, _, tail = rest.partition(END)
    body = "\n\n".join(sections)
    DOC.write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}")


if __name__ == "__main__":
    sys.exit(main())
