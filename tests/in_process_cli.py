"""Run ``cohort`` inside the test process (fast, and coverage sees it): exit code, stdout
and stderr, as an operator would get them."""

import sys

from cohort.cli import main


def run_cohort(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["cohort", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err
