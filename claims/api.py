"""The read-only JSON API: the /claims/ URL contract as data.

Plain Django views. A claim has one JSON shape, `claim_data`, shared by the API and the JSON
export; `openapi()` describes it, and the tests check real responses against that description.
"""

from functools import wraps

from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views import defaults

from claims.cache import public_page
from claims.filters import ClaimFilter, Sort
from claims.models import (
    Citation,
    Claim,
    ClaimStatusOverride,
    Indication,
    Jurisdiction,
    Origin,
    Route,
    Status,
)
from claims.views import PAGE_SIZE, requested_page


def json_response(data, status=200):
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def json_error(status, message):
    return json_response({"error": message}, status=status)


def read_only(view):
    """GET and HEAD only (anything else gets a JSON 405), readable from any origin: the
    data is public."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method in ("GET", "HEAD"):
            response = view(request, *args, **kwargs)
        else:
            response = json_error(405, "Only GET is allowed: this API is read-only.")
            response["Allow"] = "GET, HEAD"
        response["Access-Control-Allow-Origin"] = "*"
        return response

    # Nothing here writes, so a POST gets the JSON 405 rather than an HTML CSRF failure.
    wrapper.csrf_exempt = True
    return wrapper


def wants_json_errors(request):
    return request.path.startswith(reverse("claims:api")) or request.path in {
        reverse("claims:export-csv"),
        reverse("claims:export-json"),
    }


def page_not_found(request, exception):
    if wants_json_errors(request):
        return json_error(404, "Nothing here: see /api/openapi.json for the endpoints.")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if wants_json_errors(request):
        return json_error(500, "Something went wrong on our side. Please try again later.")
    return defaults.server_error(request)


# --- One claim as data ---------------------------------------------------------------------


def claims_as_data(queryset, jurisdictions):
    """`queryset` with everything `claim_data` reads: each jurisdiction's flag, and whether
    the claim overrides it, computed in SQL; indications and citations prefetched (per chunk
    when iterated). No query runs per claim."""
    annotations = {}
    for jurisdiction in jurisdictions:
        annotations[f"status_{jurisdiction.pk}"] = Claim.objects.flag_expression(jurisdiction)
        annotations[f"overridden_{jurisdiction.pk}"] = Exists(
            ClaimStatusOverride.objects.filter(claim=OuterRef("pk"), jurisdiction=jurisdiction)
        )
    # Lists by to_attr, not managers: `.all()` on a prefetched manager clones a queryset per
    # call, which dominated a 100k-claim export. Long texts no output shows stay unread.
    return (
        queryset.annotate(**annotations)
        .defer("search_document", "context_note", "outcome")
        .select_related("clinic", "treatment__source", "evidence_level")
        .prefetch_related(
            Prefetch("indications", Indication.objects.only("slug", "name"), "indication_list"),
            Prefetch("citations", Citation.objects.only("claim_id", "url"), "citation_list"),
        )
    )


def annotated_flags(claim, jurisdictions):
    """The short flags of a claim loaded through `claims_as_data`."""
    flags = {}
    for jurisdiction in jurisdictions:
        status = Status(getattr(claim, f"status_{jurisdiction.pk}"))
        flags[jurisdiction.code] = {
            "status": status.value,
            "label": status.label,
            "overridden": getattr(claim, f"overridden_{jurisdiction.pk}"),
        }
    return flags


def claim_data(claim, flags, absolute_uri):
    """The JSON shape of a claim. `flags` maps a jurisdiction code to its flag block; the
    claim carries `indication_list` and `citation_list` (see `claims_as_data`)."""
    treatment, source, level = claim.treatment, claim.treatment.source, claim.evidence_level
    return {
        "slug": claim.slug,
        "url": absolute_uri(claim.get_absolute_url()),
        "title": claim.title,
        "statement": claim.statement,
        "clinic": {"slug": claim.clinic.slug, "name": claim.clinic.name},
        "country": claim.clinic.country.code or None,
        "treatment": {"slug": treatment.slug, "name": treatment.name},
        "route": treatment.route,
        "source": {"slug": source.slug, "name": source.name},
        "origin": source.origin,
        "indications": [{"slug": i.slug, "name": i.name} for i in claim.indication_list],
        "evidence_level": {"code": level.code, "name": level.name} if level else None,
        "flags": flags,
        "citation_urls": [citation.url for citation in claim.citation_list],
        "published_at": claim.published_at,
        "updated_at": claim.updated_at,
    }


def full_flag_data(flag):
    return {
        "status": flag.status.value,
        "label": flag.status.label,
        "overridden": flag.overridden,
        "explanation": flag.explanation,
        "source_url": flag.source_url,
        "checked_on": flag.checked_on,
        "override_reason": flag.override_reason,
    }


def citation_data(citation):
    return {
        "kind": citation.kind,
        "title": citation.title,
        "publisher": citation.publisher,
        "url": citation.url,
        "accessed_on": citation.accessed_on,
        "note": citation.note,
    }


# --- Views ----------------------------------------------------------------------------------


@read_only
@public_page
def claim_list(request):
    page_number, page_notice = requested_page(request.GET.get("page"))
    if page_notice:
        return json_error(400, "“page” must be a positive whole number.")
    claim_filter = ClaimFilter(request.GET, request=request)
    jurisdictions = claim_filter.jurisdictions
    paginator = Paginator(claims_as_data(claim_filter.ordered_qs, jurisdictions), PAGE_SIZE)
    if page_number > paginator.num_pages:
        return json_error(
            404, f"There is no page {page_number}: the last page is {paginator.num_pages}."
        )
    page = paginator.page(page_number)

    def api_url(number):
        query = claim_filter.canonical_query(page=number)
        path = reverse("claims:api-claims")
        return request.build_absolute_uri(f"{path}?{query}" if query else path)

    return json_response(
        {
            "count": paginator.count,
            "summary": claim_filter.summary(paginator.count),
            "canonical_url": request.build_absolute_uri(claim_filter.url(page=page_number)),
            "next": api_url(page.next_page_number()) if page.has_next() else None,
            "previous": api_url(page.previous_page_number()) if page.has_previous() else None,
            "notices": claim_filter.notices,
            "facets": {
                facet.param: [
                    {
                        "value": option.value,
                        "label": option.label,
                        "count": option.count,
                        "selected": option.selected,
                    }
                    for option in facet.options
                ]
                for facet in claim_filter.facets()
            },
            "results": [
                claim_data(claim, annotated_flags(claim, jurisdictions), request.build_absolute_uri)
                for claim in page.object_list
            ],
        }
    )


@read_only
@public_page
def claim_detail(request, slug):
    claim = (
        Claim.objects.public().for_display().prefetch_related("citations").filter(slug=slug).first()
    )
    if claim is None:
        return json_error(404, "No published claim has this slug.")
    flags = claim.flags(Jurisdiction.objects.all())
    claim.indication_list = list(claim.indications.all())
    claim.citation_list = list(claim.citations.all())
    data = claim_data(
        claim,
        {flag.jurisdiction.code: full_flag_data(flag) for flag in flags},
        request.build_absolute_uri,
    )
    data["state"] = claim.state
    data["citations"] = [citation_data(citation) for citation in claim.citation_list]
    return json_response(data)


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
        },
    )


# --- OpenAPI --------------------------------------------------------------------------------


def openapi(server_url):
    """The OpenAPI 3.1 description. Filter parameters, flag columns and facets come from the
    FilterSet and the Jurisdiction table, so a new regulator needs no change here."""
    claim_filter = ClaimFilter()
    jurisdictions = claim_filter.jurisdictions
    codes = [j.code for j in jurisdictions]
    statuses = [status.value for status in Status]
    enums = {"route": Route.values, "origin": Origin.values, **dict.fromkeys(codes, statuses)}

    def ref(name):
        return {"$ref": f"#/components/schemas/{name}"}

    def nullable(type_, **extra):
        return {"type": [type_, "null"], **extra}

    def closed_object(properties, required=None):
        return {
            "type": "object",
            "properties": properties,
            "required": list(properties) if required is None else required,
            "additionalProperties": False,
        }

    named = closed_object({"slug": {"type": "string"}, "name": {"type": "string"}})
    flag = {
        "status": {"type": "string", "enum": statuses},
        "label": {"type": "string"},
        "overridden": {"type": "boolean"},
    }
    full_flag = {
        **flag,
        "explanation": {"type": "string"},
        "source_url": {"type": "string"},
        "checked_on": nullable("string", format="date"),
        "override_reason": {"type": "string"},
    }
    claim = {
        "slug": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "statement": {"type": "string"},
        "clinic": ref("Named"),
        "country": nullable("string", description="ISO 3166-1 alpha-2 code."),
        "treatment": ref("Named"),
        "route": {"type": "string", "enum": Route.values},
        "source": ref("Named"),
        "origin": {"type": "string", "enum": Origin.values},
        "indications": {"type": "array", "items": ref("Named")},
        "evidence_level": {
            "oneOf": [
                closed_object({"code": {"type": "string"}, "name": {"type": "string"}}),
                {"type": "null"},
            ]
        },
        "flags": closed_object({code: ref("Flag") for code in codes}),
        "citation_urls": {"type": "array", "items": {"type": "string", "format": "uri"}},
        "published_at": nullable("string", format="date-time"),
        "updated_at": {"type": "string", "format": "date-time"},
    }
    claim_detail = {
        **claim,
        "flags": closed_object({code: ref("FullFlag") for code in codes}),
        "state": {"type": "string", "enum": [Claim.State.PUBLISHED, Claim.State.RETRACTED]},
        "citations": {"type": "array", "items": ref("Citation")},
    }
    facet_option = closed_object(
        {
            "value": {"type": "string"},
            "label": {"type": "string"},
            "count": {"type": "integer", "minimum": 0},
            "selected": {"type": "boolean"},
        }
    )
    params = [spec[:2] for spec in claim_filter.facet_specs()]
    claim_page = closed_object(
        {
            "count": {"type": "integer", "minimum": 0},
            "summary": {"type": "string"},
            "canonical_url": {
                "type": "string",
                "format": "uri",
                "description": "The /claims/ page showing the same claims.",
            },
            "next": nullable("string", format="uri"),
            "previous": nullable("string", format="uri"),
            "notices": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Parameters that were ignored, and why.",
            },
            "facets": closed_object(
                {param: {"type": "array", "items": ref("FacetOption")} for param, _ in params}
            ),
            "results": {"type": "array", "items": ref("Claim"), "maxItems": PAGE_SIZE},
        }
    )

    def list_parameter(param, label):
        items = {"type": "string"}
        if param in enums:
            items["enum"] = enums[param]
        return {
            "name": param,
            "in": "query",
            "description": f"{label}. Several values are OR'ed; unknown values are ignored "
            "with a notice.",
            "schema": {"type": "array", "items": items},
            "style": "form",
            "explode": True,
        }

    filter_parameters = [
        {
            "name": "q",
            "in": "query",
            "description": "Words to search for in the claims.",
            "schema": {"type": "string"},
        },
        *(list_parameter(param, label) for param, label in params),
        {
            "name": "sort",
            "in": "query",
            "description": "Order of the results; relevance only with q.",
            "schema": {"type": "string", "enum": list(Sort.ORDERINGS)},
        },
    ]
    page_parameter = {
        "name": "page",
        "in": "query",
        "description": f"Page number; {PAGE_SIZE} claims a page.",
        "schema": {"type": "integer", "minimum": 1},
    }

    def error(description):
        return {"description": description, "content": json_content(ref("Error"))}

    def json_content(schema):
        return {"application/json": {"schema": schema}}

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Claimwatch API",
            "version": "1",
            "description": "Read-only. Claims about exosome treatments, with each regulator's "
            "flag and the evidence level. Every endpoint takes the /claims/ page's parameters: "
            "values of one parameter are OR'ed, different parameters AND'ed. GET from any "
            "origin (CORS). Errors are JSON objects with an `error` message.",
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/api/claims/": {
                "get": {
                    "operationId": "listClaims",
                    "summary": "Published claims matching the filters, a page at a time",
                    "parameters": [*filter_parameters, page_parameter],
                    "responses": {
                        "200": {
                            "description": "One page of claims, with facet counts.",
                            "content": json_content(ref("ClaimPage")),
                        },
                        "400": error("The page is not a positive whole number."),
                        "404": error("The page is past the last one."),
                    },
                }
            },
            "/api/claims/{slug}/": {
                "get": {
                    "operationId": "getClaim",
                    "summary": "One claim, with each regulator's status and the citations",
                    "parameters": [
                        {
                            "name": "slug",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "A published or retracted claim.",
                            "content": json_content(ref("ClaimDetail")),
                        },
                        "404": error("No published claim has this slug."),
                    },
                }
            },
            "/claims.json": {
                "get": {
                    "operationId": "exportClaimsJson",
                    "summary": "All matching published claims as one streamed JSON array",
                    "parameters": filter_parameters,
                    "responses": {
                        "200": {
                            "description": "Every matching claim; not paginated.",
                            "content": json_content({"type": "array", "items": ref("Claim")}),
                        }
                    },
                }
            },
            "/claims.csv": {
                "get": {
                    "operationId": "exportClaimsCsv",
                    "summary": "All matching published claims as a streamed CSV file",
                    "parameters": filter_parameters,
                    "responses": {
                        "200": {
                            "description": "UTF-8 with a byte order mark. One column per "
                            "field of a claim, plus `<code>_status` and `<code>_overridden` "
                            "per jurisdiction; lists are separated by “; ”. Cells that a "
                            "spreadsheet would read as a formula start with an apostrophe.",
                            "content": {"text/csv": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Named": named,
                "Flag": closed_object(flag),
                "FullFlag": closed_object(full_flag),
                "Citation": closed_object(
                    {
                        "kind": {"type": "string", "enum": Citation.Kind.values},
                        "title": {"type": "string"},
                        "publisher": {"type": "string"},
                        "url": {"type": "string", "format": "uri"},
                        "accessed_on": {"type": "string", "format": "date"},
                        "note": {"type": "string"},
                    }
                ),
                "Claim": closed_object(claim),
                "ClaimDetail": closed_object(claim_detail),
                "FacetOption": facet_option,
                "ClaimPage": claim_page,
                "Error": closed_object({"error": {"type": "string"}}),
            }
        },
    }
