"""The access log names the route a request matched, never the address as sent: paths
and queries can carry an NHS number or a study ID."""

import logging

import pytest

from cohort.web import access_log

NHS_NUMBER = "9434765919"


@pytest.mark.parametrize(
    ("address", "line"),
    [
        (f"/fhir/Consent/{NHS_NUMBER}", "GET /fhir/Consent/{consent_id} 401"),
        (f"/api/v1/participants/BB-{NHS_NUMBER}", "GET /api/v1/participants/{study_id} 401"),
        (f"/fhir/Consent?patient={NHS_NUMBER}", "GET /fhir/Consent 401"),
        (f"/static/cohort/{NHS_NUMBER}.css", "GET /static/cohort/… 404"),
        (f"/nothing/here/{NHS_NUMBER}", "GET (no route) 404"),
        ("/", "GET / "),
    ],
)
def test_a_request_is_logged_by_its_route_template(client, caplog, address, line):
    with caplog.at_level(logging.INFO, logger=access_log.log.name):
        client.get(address, follow_redirects=False)
    logged = [r.getMessage() for r in caplog.records if r.name == access_log.log.name]
    assert len(logged) == 1 and logged[0].startswith(line), logged
    assert NHS_NUMBER not in logged[0]
