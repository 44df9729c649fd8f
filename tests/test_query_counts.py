"""Pages cost a bounded number of SQL queries, whatever the page size and the data size."""

import pytest
from django.urls import reverse

from claims.models import Route, Status
from tests.conftest import (
    CLAIM_PAGE_QUERIES,
    HOME_PAGE_QUERIES,
    LIST_PAGE_QUERIES,
    make_claim,
    make_clinic,
    make_evidence_level,
    make_indication,
    make_override,
    make_status,
    make_treatment,
)

pytestmark = pytest.mark.django_db


def build(count, jurisdictions):
    """`count` published claims over a handful of clinics, treatments and indications."""
    clinics = [make_clinic(country=code) for code in ["GB", "PH", "US", "FR"]]
    treatments = [
        make_treatment(route=route)
        for route in [Route.INTRADERMAL_INJECTION, Route.TOPICAL_INTACT_SKIN]
    ]
    for treatment in treatments:
        for jurisdiction in jurisdictions:
            make_status(treatment, jurisdiction, Status.NOT_APPROVED)
    levels = [make_evidence_level() for _ in range(3)]
    indications = [make_indication() for _ in range(3)]
    claims = [
        make_claim(
            clinic=clinics[i % 4],
            treatment=treatments[i % 2],
            evidence_level=levels[i % 3],
            indications=indications[: i % 3 + 1],
        )
        for i in range(count)
    ]
    make_override(claims[0], jurisdictions[0], Status.PROHIBITED)
    return claims


@pytest.mark.parametrize("count", [30, 120])
@pytest.mark.parametrize(
    "query",
    ["", "?route=intradermal-injection&fda=not-approved", "?q=wonderful", "?country=GB&page=2"],
)
def test_the_list_page_query_count_does_not_grow_with_data(
    client, jurisdictions, django_assert_max_num_queries, count, query
):
    build(count, jurisdictions)
    url = reverse("claims:list") + query
    if count == 30 and "page=2" in query:
        url = url.replace("&page=2", "")
    with django_assert_max_num_queries(LIST_PAGE_QUERIES):
        response = client.get(url)
    assert response.status_code == 200


def test_the_claim_page_query_count_is_bounded(
    client, jurisdictions, django_assert_max_num_queries
):
    claim = build(5, jurisdictions)[0]
    with django_assert_max_num_queries(CLAIM_PAGE_QUERIES):
        response = client.get(claim.get_absolute_url())
    assert response.status_code == 200


def test_the_home_page_query_count_is_bounded(client, jurisdictions, django_assert_max_num_queries):
    build(60, jurisdictions)
    with django_assert_max_num_queries(HOME_PAGE_QUERIES):
        response = client.get(reverse("claims:home"))
    assert response.status_code == 200
