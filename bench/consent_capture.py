"""Consent capture against a real ``cohort serve``: the form page's render and a save
(server time from the Server-Timing header, median and p99), on SQLite and PostgreSQL.
Many midwives saving at once is the load benchmark's (bench/load.py).

Baselines, interleaved request by request: the health check (the framework's floor) for
the page render; a decline (same path, no identity, no vault) for the consent save; the
page in English for the page in Urdu, whose every text comes from a translation uploaded
at run time (``forms.uploaded_translations``) rather than the catalogs."""

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

from bench.harness import Row, median, p99, pg_database, scale, scaled
from bench.load import consent_answers, decline_answers
from cohort import demo, synth
from cohort.auth.tokens import issue_token
from cohort.auth.users import get_user
from cohort.capture import FORM
from cohort.config import Settings
from cohort.db import session_scope
from cohort.instance import initialise, open_instance
from cohort.web.ui_language import COOKIE
from forms import registry, uploaded_translations
from tests.live_server import serve

SEQUENTIAL = scaled(200, scale("consent"))
MIDWIFE = "midwife.brd"
SERVER_TIMING = re.compile(r"app;dur=([0-9.]+)")


@dataclass
class Target:
    url: str
    token: str
    password: str
    settings: Settings


def _server_ms(response: httpx.Response) -> float:
    """Server time of a response, redirects it followed included."""
    response.raise_for_status()
    return sum(
        float(SERVER_TIMING.search(r.headers["server-timing"]).group(1))
        for r in (*response.history, response)
    )


def _mothers(seed: int) -> Iterator[synth.SynthMother]:
    # Seeds far from the demo's, so no NHS number is already enrolled.
    return synth.iter_mothers(seed, SEQUENTIAL * 2, today=date.today())


def _prepare(data: Path, database_url: str | None) -> tuple[Settings, str, str]:
    settings = Settings(data_dir=data, database_url=database_url)
    initialise(settings)
    inst = open_instance(settings)
    logins = {x.username: x.password for x in demo.seed(inst)}
    with session_scope(inst.engine) as s:
        token = issue_token(s, get_user(s, MIDWIFE), "bench", actor="bench")
        spec = registry.current(s, FORM)
        urdu = uploaded_translations.read(s, uploaded_translations.template(spec, "ur"))
        uploaded_translations.store(s, urdu, "bench")
    inst.engine.dispose()
    return settings, token, logins[MIDWIFE]


def _signed_in(client: httpx.Client, password: str) -> None:
    page = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    signed_in = client.post(
        "/login", data={"username": MIDWIFE, "password": password, "csrf_token": csrf}
    )
    if signed_in.status_code != 303:
        raise RuntimeError(f"sign-in refused: {signed_in.status_code}")


def _post(client: httpx.Client, path: str, token: str, answers: dict) -> httpx.Response:
    return client.post(
        path,
        json=answers,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
    )


def _sequential(target: Target, name: str) -> list[Row]:
    people = _mothers(11)
    render, urdu, health, save, decline = [], [], [], [], []
    with (
        httpx.Client(base_url=target.url, timeout=30) as client,
        httpx.Client(base_url=target.url, timeout=30, cookies={COOKIE: "ur"}) as in_urdu,
    ):
        _signed_in(client, target.password)
        _signed_in(in_urdu, target.password)
        for _ in range(SEQUENTIAL):
            render.append(_server_ms(client.get("/consents/new", follow_redirects=True)))
            urdu.append(_server_ms(in_urdu.get("/consents/new", follow_redirects=True)))
            health.append(_server_ms(client.get("/api/v1/health")))
            save.append(
                _server_ms(
                    _post(client, "/api/v1/consents", target.token, consent_answers(next(people)))
                )
            )
            decline.append(
                _server_ms(
                    _post(client, "/api/v1/declines", target.token, decline_answers(next(people)))
                )
            )
    return [
        Row(
            f"{name}: consent form page, server time",
            "ms",
            median(render),
            p99(render),
            "health check",
            median(render) / median(health),
        ),
        Row(
            f"{name}: consent form page in Urdu from an uploaded translation, server time",
            "ms",
            median(urdu),
            p99(urdu),
            "the page in English",
            median(urdu) / median(render),
        ),
        Row(
            f"{name}: save a consent (API), server time",
            "ms",
            median(save),
            p99(save),
            "save a decline (no identity)",
            median(save) / median(decline),
        ),
    ]


def run(tmp: Path) -> list[Row]:
    rows: list[Row] = []
    with pg_database() as pg_url:
        for name, url in (("SQLite", None), ("PostgreSQL", pg_url)):
            data = tmp / name
            settings, token, password = _prepare(data, url)
            with serve(data, database_url=url) as base:
                rows += _sequential(Target(base, token, password, settings), name)
    return rows
