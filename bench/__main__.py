"""``make bench`` (or ``python -m bench [suite ...]``): run the benchmarks and rewrite each
suite's block in docs/benchmarks.md with its figures, the machine and the date."""

import sys
import tempfile
from pathlib import Path

from bench import (
    consent_capture,
    governance,
    governance_linkage,
    interop,
    linkage,
    load,
    research,
    save_profile,
    spine,
)
from bench.harness import Row, machine

DOC = Path(__file__).parent.parent / "docs" / "benchmarks.md"
SUITES = {
    "spine": ("Platform spine", spine.run),
    "consent": ("Consent capture", consent_capture.run),
    "load": ("Load: many midwives saving at once", load.run),
    "save-profile": ("Load: where a consent save's time goes", save_profile.run),
    "linkage": ("Linkage: 100,000 mothers x 1,000,000-row health file", linkage.run),
    "governance": ("Governance dashboard", governance.run),
    "governance-linkage": ("Governance dashboard: linkage coverage", governance_linkage.run),
    "research": ("Researcher extracts and aggregate queries", research.run),
    "interop": ("Interoperability: the REDCap API and FHIR export", interop.run),
}


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:,.2f}"


def _section(title: str, rows: list[Row]) -> str:
    lines = [
        f"### {title}",
        "",
        f"Machine: {machine()}.",
        "",
        "| measure | unit | median | p99 | baseline (side by side) | ratio to baseline |",
        "|---|---|---:|---:|---|---:|",
    ]
    lines += [
        f"| {r.name} | {r.unit} | {_fmt(r.median)} | {_fmt(r.p99)} | {r.baseline or ''} "
        f"| {_fmt(r.ratio)} |"
        for r in rows
    ]
    return "\n".join(lines)


def _replace_block(doc: str, key: str, body: str) -> str:
    begin, end = f"<!-- bench:{key}:begin -->", f"<!-- bench:{key}:end -->"
    if begin not in doc:
        return f"{doc.rstrip()}\n\n{begin}\n{body}\n{end}\n"
    head, _, rest = doc.partition(begin)
    _, _, tail = rest.partition(end)
    return f"{head}{begin}\n{body}\n{end}{tail}"


def main(names: list[str]) -> int:
    unknown = set(names) - set(SUITES)
    if unknown:
        print(
            f"bench: unknown suite(s) {', '.join(sorted(unknown))}; "
            f"choose from {', '.join(SUITES)}",
            file=sys.stderr,
        )
        return 2
    for key in names or list(SUITES):
        title, suite = SUITES[key]
        with tempfile.TemporaryDirectory() as tmp:
            body = _section(title, suite(Path(tmp)))
        print(body, flush=True)
        DOC.write_text(_replace_block(DOC.read_text(), key, body))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
