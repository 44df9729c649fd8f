"""Whole-page caching for anonymous readers, conditional GET, and invalidation on every edit."""

import gzip
from datetime import date
from urllib.parse import urlencode

import pytest
from csp.constants import NONCE
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse

from claims.cache import public_page
from claims.data_version import data_version
from claims.filters import ClaimFilter
from claims.models import Citation, RegulatoryStatus, Status
from claims.paging import PAGE_SIZE
from tests.conftest import make_claim, make_indication

pytestmark = pytest.mark.django_db


@public_page
def page_with_a_nonce(request):
    """A public page whose inline script is allowed by this visitor's CSP nonce."""
    return HttpResponse(f'<script nonce="{request.csp_nonce}">go()</script>')


# The URLconf of the tests marked `@pytest.mark.urls(__name__)`.
urlpatterns = [path("nonce/", page_with_a_nonce)]


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.PAGE_CACHE_SECONDS = 300
    settings.PAGE_MAX_AGE = 60


def public_urls(claim):
    return [
        reverse("claims:home"),
        reverse("claims:list"),
        reverse("claims:list") + f"?clinic={claim.clinic.slug}",
        claim.get_absolute_url(),
        claim.clinic.get_absolute_url(),
        claim.treatment.get_absolute_url(),
        claim.treatment.source.get_absolute_url(),
        reverse("claims:evidence"),
        reverse("claims:regulatory"),
        reverse("claims:api-claims") + f"?clinic={claim.clinic.slug}",
        reverse("claims:api-claim", args=[claim.slug]),
    ]


def queries_run(client, url, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    return response, len(queries)


def test_it_serves_the_second_anonymous_request_from_the_cache(
    client, claim, django_assert_max_num_queries
):
    for url in public_urls(claim):
        first = client.get(url)
        with django_assert_max_num_queries(1):
            second = client.get(url)
        assert first.status_code == second.status_code == 200, url
        assert second.content == first.content


def test_it_runs_the_view_every_time_when_the_page_cache_is_off(client, claim, settings):
    settings.PAGE_CACHE_SECONDS = 0
    url = reverse("claims:list")
    client.get(url)

    _response, count = queries_run(client, url)

    assert count > 1


def test_it_keys_pages_by_the_full_query_string(client, claim):
    other = make_claim(title="A claim from another clinic")
    mine = client.get(reverse("claims:list") + f"?clinic={claim.clinic.slug}")

    theirs = client.get(reverse("claims:list") + f"?clinic={other.clinic.slug}")

    assert claim.title in mine.text and other.title not in mine.text
    assert other.title in theirs.text and claim.title not in theirs.text


def test_it_shows_an_edited_claim_at_once(client, claim):
    url = claim.get_absolute_url()
    client.get(url)

    claim.title = "A corrected title"
    claim.save()

    assert "A corrected title" in client.get(url).text
    assert "A corrected title" in client.get(reverse("claims:list")).text


def test_it_shows_a_changed_treatment_status_at_once(client, claim, fda):
    url = claim.get_absolute_url()
    assert str(Status.COSMETIC.label) not in client.get(url).text

    status = RegulatoryStatus.objects.get(treatment=claim.treatment, jurisdiction=fda)
    status.status = Status.COSMETIC
    status.appearance_claim = True  # a lawful cosmetic is sold for appearance (constraint)
    status.save()

    assert str(Status.COSMETIC.label) in client.get(url).text


def test_it_shows_new_indications_and_deleted_citations_at_once(client, claim):
    url = claim.get_absolute_url()
    cited = claim.citations.get()
    Citation.objects.create(
        claim=claim,
        kind=Citation.Kind.PAPER,
        title="A second source",
        url="https://example.org/second",
        accessed_on=date(2026, 11, 1),
    )
    client.get(url)

    claim.indications.add(make_indication(name="Melasma"))
    cited.delete()

    page = client.get(url).text
    assert "Melasma" in page
    assert cited.url not in page


def test_it_bumps_the_data_version_again_when_an_edit_commits(
    claim, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        claim.save()
    saved = data_version()

    for callback in callbacks:
        callback()

    assert data_version() != saved


def test_it_never_stores_pages_for_logged_in_users(client, editor, claim):
    url = reverse("claims:list")
    client.get(url)
    client.force_login(editor)

    response, count = queries_run(client, url)

    assert count > 1
    assert response["Cache-Control"] == "private, no-store" or set(
        response["Cache-Control"].replace(" ", "").split(",")
    ) >= {"private", "no-store"}
    assert "ETag" not in response


def test_it_never_shows_an_editors_draft_preview_to_anonymous_readers(client, editor, fda, eu):
    draft = make_claim(published=False, title="Draft under review")
    client.force_login(editor)
    assert client.get(draft.get_absolute_url()).status_code == 200

    client.logout()

    assert client.get(draft.get_absolute_url()).status_code == 404


def test_it_lets_browsers_and_cdns_keep_anonymous_pages(client, claim):
    response = client.get(reverse("claims:list"))

    directives = set(response["Cache-Control"].replace(" ", "").split(","))
    assert directives == {"public", "max-age=60"}
    assert response["ETag"]
    assert response["Last-Modified"]


def test_it_sends_stored_pages_gzipped_to_clients_that_accept_gzip(client, claim):
    url = reverse("claims:list")
    client.get(url)

    response = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})

    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert claim.title in gzip.decompress(response.content).decode()


def test_it_sends_stored_pages_plain_to_clients_that_do_not(client, claim):
    url = reverse("claims:list")
    client.get(url, headers={"Accept-Encoding": "gzip"})

    response = client.get(url)

    assert not response.has_header("Content-Encoding")
    assert claim.title in response.text


def test_it_answers_304_while_the_etag_holds(client, claim):
    url = claim.get_absolute_url()
    etag = client.get(url)["ETag"]

    not_modified = client.get(url, headers={"If-None-Match": etag})

    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag


def test_it_answers_200_once_an_edit_changes_the_etag(client, claim):
    url = claim.get_absolute_url()
    etag = client.get(url)["ETag"]

    claim.title = "Edited since"
    claim.save()
    response = client.get(url, headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert response["ETag"] != etag
    assert "Edited since" in response.text


def test_it_answers_304_to_if_modified_since(client, claim):
    url = reverse("claims:home")
    last_modified = client.get(url)["Last-Modified"]

    response = client.get(url, headers={"If-Modified-Since": last_modified})

    assert response.status_code == 304


def test_it_gives_each_url_its_own_etag(client, claim):
    first = client.get(reverse("claims:list"))["ETag"]

    second = client.get(reverse("claims:list") + f"?clinic={claim.clinic.slug}")["ETag"]

    assert first != second


def counting_view(secret):
    """A public page that puts a per-visitor secret in its HTML; counts how often it runs."""
    calls = []

    @public_page
    def view(request):
        calls.append(request)
        return HttpResponse(f"<form>{secret(request)}</form>")

    return view, calls


def anonymous_get(rf, url):
    request = rf.get(url)
    request.user = AnonymousUser()
    return request


@pytest.mark.parametrize(
    "secret",
    [get_token, lambda request: setattr(request, "_csp_nonce", "n0nce") or "n0nce"],
    ids=["csrf-token", "csp-nonce"],
)
def test_it_never_stores_a_page_carrying_a_visitors_secret(rf, secret):
    view, calls = counting_view(secret)

    view(anonymous_get(rf, "/form/"))
    view(anonymous_get(rf, "/form/"))

    assert len(calls) == 2


def script_nonce(response):
    """The nonce the response's Content-Security-Policy allows scripts with, or None."""
    for directive in response["Content-Security-Policy"].split(";"):
        name, *sources = directive.split()
        if name == "script-src":
            nonces = [s for s in sources if s.startswith("'nonce-")]
            return nonces[0].removeprefix("'nonce-").removesuffix("'") if nonces else None
    return None


@pytest.mark.urls(__name__)
def test_it_never_hands_one_visitors_csp_nonce_to_another(client, settings):
    # Through the real middleware: a django-csp upgrade that keeps the nonce elsewhere than
    # the `request._csp_nonce` the cache looks for would make the second visitor's page the
    # first's, with a nonce their header does not allow.
    policy = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    with_nonce = {**policy, "script-src": [*policy["script-src"], NONCE]}
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": with_nonce}

    first, second = client.get("/nonce/"), client.get("/nonce/")

    nonces = [script_nonce(first), script_nonce(second)]
    assert None not in nonces and nonces[0] != nonces[1]
    assert first.text == f'<script nonce="{nonces[0]}">go()</script>'
    assert second.text == f'<script nonce="{nonces[1]}">go()</script>'


def test_it_serves_cached_pages_with_the_same_nonce_free_policy_to_every_visitor(
    client, claim, django_assert_max_num_queries
):
    # The site's own pages use no nonce, so a cached copy has none to leak.
    url = reverse("claims:list")
    first = client.get(url)
    with django_assert_max_num_queries(1):  # the cached copy
        second = client.get(url)

    assert first["Content-Security-Policy"] == second["Content-Security-Policy"]
    assert "nonce-" not in second["Content-Security-Policy"]
    assert 'nonce="' not in second.content.decode()


def facet_counting_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return [query["sql"] for query in queries if "facet_param" in query["sql"]]


def clinic_counts(client, url):
    facets = client.get(url).json()["facets"]
    return {option["value"]: option["count"] for option in facets["clinic"]}


def list_url(page=1, **params):
    """The list's canonical URL for `params`, which it would otherwise redirect to."""
    query = ClaimFilter(QueryDict(urlencode(params))).canonical_query(page)
    return reverse("claims:list") + f"?{query}"


def test_it_counts_facets_once_for_every_sort_and_page_of_a_filtered_list(client, claim):
    for _ in range(PAGE_SIZE):
        make_claim(treatment=claim.treatment, clinic=claim.clinic)
    treatment = claim.treatment.slug

    assert len(facet_counting_queries(client, list_url(treatment=treatment))) == 1
    assert facet_counting_queries(client, list_url(treatment=treatment, page=2)) == []
    for sort in ("clinic", "strongest-evidence", "weakest-evidence"):
        assert facet_counting_queries(client, list_url(treatment=treatment, sort=sort)) == []
    other_filters = list_url(treatment=treatment, clinic=claim.clinic.slug)
    assert len(facet_counting_queries(client, other_filters)) == 1


def test_it_recounts_facets_once_an_edit_changes_the_data(client, claim):
    url = reverse("claims:api-claims") + f"?treatment={claim.treatment.slug}"
    assert clinic_counts(client, url) == {claim.clinic.slug: 1}

    other = make_claim(treatment=claim.treatment)

    assert clinic_counts(client, url + "&sort=clinic") == {
        claim.clinic.slug: 1,
        other.clinic.slug: 1,
    }


def test_it_recounts_facets_every_time_when_the_page_cache_is_off(client, claim, settings):
    settings.PAGE_CACHE_SECONDS = 0
    treatment = claim.treatment.slug

    assert len(facet_counting_queries(client, list_url(treatment=treatment))) == 1
    assert len(facet_counting_queries(client, list_url(treatment=treatment, sort="clinic"))) == 1
