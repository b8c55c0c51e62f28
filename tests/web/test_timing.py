"""Every response says how long the server spent on it."""

import re
import time

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cohort.web.timing import ServerTiming


def test_server_timing_header_reports_the_app_duration():
    app = FastAPI()
    app.add_middleware(ServerTiming)

    @app.get("/slow")
    def slow() -> dict:
        time.sleep(0.05)
        return {}

    header = TestClient(app).get("/slow").headers["server-timing"]
    duration = float(re.fullmatch(r"app;dur=([0-9.]+)", header).group(1))
    assert 50 <= duration < 1000
