"""Query budgets (tests/conftest.py) hold at thousands of claims: for any page that lists
claims, and for claim pages, whatever the data size. (Timings are the benchmark's business:
`make bench`.)"""

import pytest
from django.core.management import call_command
from django.urls import reverse

from claims.models import Claim, Indication
from tests.conftest import ANY_LIST_PAGE_QUERIES, CLAIM_PAGE_QUERIES

pytestmark = pytest.mark.django_db

CLAIMS = 2000
# How many published claims' pages are opened: spread evenly over the set, the same ones on
# every run.
SAMPLED_CLAIMS = 5


@pytest.fixture
def thousands_of_claims(settings):
    settings.PAGE_CACHE_SECONDS = 0  # count the view's own queries, not the cache's
    call_command("generate_claims", "--count", str(CLAIMS), "--seed", "2", verbosity=0)
    return Claim.objects.published()


def list_urls(claims):
    claim = claims.filter(slug__startswith="syn-").select_related("clinic", "treatment__source")[0]
    indication = Indication.objects.filter(claims__in=claims).first()
    base = reverse("claims:list")
    return [
        base,
        f"{base}?page=7",
        f"{base}?route=intradermal-injection&origin=human&fda=not-approved",
        f"{base}?q=exosomes",
        f"{base}?q=synthetic+serum&sort=strongest-evidence",
        f"{base}?country={claim.clinic.country.code}&evidence=case-series&eu=prohibited",
        f"{base}?indication={indication.slug}&sort=clinic",
        f"{base}?treatment={claim.treatment.slug}&source={claim.treatment.source.slug}",
        reverse("claims:home"),
        claim.clinic.get_absolute_url(),
        claim.treatment.get_absolute_url(),
        claim.treatment.source.get_absolute_url(),
    ]


def test_every_list_page_stays_within_its_query_budget(
    client, thousands_of_claims, django_assert_max_num_queries
):
    for url in list_urls(thousands_of_claims):
        with django_assert_max_num_queries(ANY_LIST_PAGE_QUERIES):
            response = client.get(url)
        assert response.status_code == 200, url


def test_claim_pages_stay_within_their_query_budget(
    client, thousands_of_claims, django_assert_max_num_queries
):
    published = list(thousands_of_claims.order_by("pk").values_list("pk", flat=True))
    step = len(published) // SAMPLED_CLAIMS
    claims = Claim.objects.filter(pk__in=published[::step][:SAMPLED_CLAIMS])
    retracted = Claim.objects.filter(state=Claim.State.RETRACTED, slug__startswith="syn-")
    for claim in [*claims, retracted.first()]:
        with django_assert_max_num_queries(CLAIM_PAGE_QUERIES):
            response = client.get(claim.get_absolute_url())
        assert response.status_code == 200, claim.slug
