"""REDCap-format instruments: the data dictionary parser (``dictionary``), the
branching-logic evaluator (``branching``), the WTForms builder (``builder``) and the
published versions (``registry``). The shipped instruments are in ``instruments/``."""

from pathlib import Path


def static_dir() -> Path:
    """The folder of ``branching.js``, for the web app to mount as static files."""
    return Path(__file__).parent / "static"
