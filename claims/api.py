"""The read-only JSON API: the /claims/ URL contract as data, and the page that explains it.

Plain Django views. The shapes they answer with are built in claims/shapes.py, which the
downloads share, and described in the OpenAPI document (claims/openapi.py); the tests check
real responses against that description.
"""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse

from claims.cache import cached_facet_counts, public_page
from claims.filters import ClaimFilter
from claims.models import Claim, Jurisdiction, Route, Status
from claims.openapi import openapi
from claims.paging import LAST_PAGE_NUMBER, PAGE_SIZE, requested_page
from claims.responses import json_error, json_response, read_only
from claims.shapes import claim_detail_data, claim_page_data, claims_as_data
from claims.text import with_query


@read_only
@public_page
def claim_list(request):
    page_number, page_notice = requested_page(request.GET.get("page"))
    # The page's own links never send an empty page; a client that does has a bug to be told of.
    if page_notice or request.GET.get("page") == "":
        return json_error(400, "“page” must be a positive whole number.")
    claim_filter = ClaimFilter(request.GET, request=request)
    jurisdictions = claim_filter.jurisdictions
    paginator = Paginator(claim_filter.ordered_qs, PAGE_SIZE)
    if page_number > paginator.num_pages:
        return json_error(
            404, f"There is no page {page_number}: the last page is {paginator.num_pages}."
        )
    page = paginator.page(page_number)

    def api_url(number):
        query = claim_filter.canonical_query(page=number)
        path = reverse("claims:api-claims")
        return request.build_absolute_uri(with_query(path, query))

    return json_response(
        claim_page_data(
            count=paginator.count,
            summary=claim_filter.summary(paginator.count),
            canonical_url=request.build_absolute_uri(claim_filter.url(page=page_number)),
            next_url=api_url(page.next_page_number()) if page.has_next() else None,
            previous_url=api_url(page.previous_page_number()) if page.has_previous() else None,
            notices=claim_filter.notices,
            facets=claim_filter.facets(cached_facet_counts),
            results=list(
                claims_as_data(page.object_list, jurisdictions, request.build_absolute_uri)
            ),
        )
    )


@read_only
@public_page
def claim_detail(request, slug):
    claim = Claim.objects.public().only("state", "treatment_id").filter(slug=slug).first()
    if claim is None:
        return json_error(404, "No published claim has this slug.")
    jurisdictions = list(Jurisdiction.objects.all())
    return json_response(claim_detail_data(claim, jurisdictions, request.build_absolute_uri))


@read_only
def openapi_document(request):
    return json_response(openapi(request.build_absolute_uri("/").rstrip("/")))


def api_page(request):
    claim_filter = ClaimFilter()
    example = {"route": [Route.INTRADERMAL_INJECTION]}
    if claim_filter.jurisdictions:
        example[claim_filter.jurisdictions[0].code] = [Status.NOT_APPROVED]
    query = claim_filter.canonical_query(**example)
    example_slug = Claim.objects.published().values_list("slug", flat=True).first()

    def url(name):
        return request.build_absolute_uri(f"{reverse(name)}?{query}")

    return render(
        request,
        "claims/api.html",
        {
            "list_url": url("claims:api-claims"),
            "detail_url": request.build_absolute_uri(
                reverse("claims:api-claim", args=[example_slug or "SLUG"])
            ),
            "csv_url": url("claims:export-csv"),
            "json_url": url("claims:export-json"),
            "feed_url": url("claims:feed"),
            "openapi_url": request.build_absolute_uri(reverse("claims:api-openapi")),
            "page_size": PAGE_SIZE,
            "last_page_number": LAST_PAGE_NUMBER,
        },
    )
