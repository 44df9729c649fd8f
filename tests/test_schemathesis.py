"""Schemathesis against the API's own OpenAPI document: requests generated from the document,
valid ones and (where a query string can carry them) invalid ones, with every check it has
(no server error, documented status codes, content types, headers and response schemas,
valid data accepted, invalid data refused, unsupported methods refused). The document is
the contract; this test is what keeps the API and the document one thing.

The app is called in-process through WSGI, on the seed, with a bounded number of examples."""

from pathlib import Path

import hypothesis
import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import reverse
from schemathesis.generation.modes import GenerationMode

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "seed.json"
EXAMPLES = 30  # a request for each, per endpoint and per mode (valid, invalid)


@pytest.fixture
def api_schema(db, settings):
    call_command("loaddata", str(SEED), verbosity=0)
    settings.ALLOWED_HOSTS = ["localhost"]  # the WSGI test client's host
    # Django closes the connection after a request, as it should; here it would close the
    # test's transaction. Its own test client disconnects these signals the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    schema = schemathesis.openapi.from_wsgi(reverse("claims:api-openapi"), get_wsgi_application())
    # Values, valid or not, can add up to an address longer than MAX_QUERY_STRING_LENGTH, which
    # every endpoint documents answering 414, before it reads them: the contract either way.
    for check in ("positive_data_acceptance", "negative_data_rejection"):
        config = getattr(schema.config.checks, check)
        config.expected_statuses = [*config.expected_statuses, "414"]
    try:
        yield schema
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# Hypothesis drives the cases directly: schemathesis.pytest's parametrize does not run on
# pytest 9.2 (it reads a node attribute pytest removed).
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_it_keeps_the_contract_its_openapi_document_states(api_schema, mode):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {operation.path for operation in operations} >= {"/api/claims/", "/claims.json"}

    for operation in operations:

        @hypothesis.settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        def keeps_the_contract(case):
            # The WSGI client, unlike an HTTP one, does not undo the site's gzip.
            case.call_and_validate(headers={"Accept-Encoding": "identity"})

        keeps_the_contract()
