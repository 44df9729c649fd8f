"""The read-only JSON API: the /claims/ URL contract as data.

Plain Django views. A claim has one JSON shape, `claim_data`, read through `claims_as_data` by
the API and the exports; `openapi()` describes it, and the tests check real responses against
that description.
"""

from collections import defaultdict
from functools import wraps
from itertools import islice

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import F
from django.db.models.lookups import In
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views import defaults

from claims.cache import cached_facet_counts, public_page
from claims.facets import openapi_parameters
from claims.filters import ClaimFilter, Sort
from claims.models import (
    Citation,
    Claim,
    Jurisdiction,
    Origin,
    Route,
    Status,
)
from claims.text import with_query
from claims.views import LAST_PAGE_NUMBER, PAGE_SIZE, requested_page


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

# Claims `claims_as_data` reads per database round trip; each chunk's indications and
# citations take one query each.
CHUNK_SIZE = 2000
# What the JSON shape reads from a claim's row and the rows it points to.
CLAIM_VALUES = (
    "pk",
    "slug",
    "title",
    "statement",
    "quote",
    "quote_source",
    "outcome",
    "context_note",
    "unverified",
    "made_on",
    "clinic__slug",
    "clinic__name",
    "clinic__country",
    "treatment__slug",
    "treatment__name",
    "treatment__route",
    "treatment__source__slug",
    "treatment__source__name",
    "treatment__source__origin",
    "evidence_level__code",
    "evidence_level__name",
    "evidence_level__ocebm_equivalent",
    "conference__slug",
    "conference__name",
    "conference__starts_on",
    "conference__ends_on",
    "conference__dates_note",
    "presentation__slug",
    "presentation__title",
    "published_at",
    "updated_at",
)


def claims_as_data(queryset, jurisdictions, absolute_uri):
    """Each claim of `queryset`, in its order, in the JSON shape (`claim_data`). Claims are
    read as plain values, not model instances, through a server-side cursor a chunk at a
    time, and each chunk's indications and citations in one query each: memory stays flat
    however many claims there are, and no query runs per claim."""
    claim_url = claim_url_builder(absolute_uri)
    rows = claim_values(queryset, jurisdictions).iterator(CHUNK_SIZE)
    while chunk := list(islice(rows, CHUNK_SIZE)):
        claim_ids = [row["pk"] for row in chunk]
        indications = indications_by_claim(claim_ids)
        citation_urls = citation_urls_by_claim(claim_ids)
        for row in chunk:
            yield claim_data(
                row,
                short_flags(row, jurisdictions),
                indications[row["pk"]],
                citation_urls[row["pk"]],
                claim_url(row["slug"]),
            )


def flag_name(jurisdiction):
    """What `claim_values` calls the flag in `jurisdiction`."""
    return f"status_{jurisdiction.pk}"


# What a flag carries besides its status, read from the claim's override if it has one, else
# from its treatment's status: the same caveats a reader of the claim's page gets.
FLAG_FIELDS = ("explanation", "source_url", "source_title", "checked_on")


def claim_values(queryset, jurisdictions):
    """`queryset` as dicts of `CLAIM_VALUES`, plus each jurisdiction's flag, and the
    override's and the treatment's status record there (their fields None without one),
    all read through `with_flag`'s joins rather than subqueries per claim."""
    flag_values = []
    for jurisdiction in jurisdictions:
        name = flag_name(jurisdiction)
        queryset = queryset.with_flag(jurisdiction, name, select=True)
        # `with_flag` joins the claim's override as `<name>_override` and the treatment's
        # status as `<name>_inherited`.
        flag_values += [name, f"{name}_override__status", f"{name}_override__reason"]
        for record in ("override", "inherited"):
            flag_values += [f"{name}_{record}__{field}" for field in FLAG_FIELDS]
    return queryset.values(*CLAIM_VALUES, *flag_values)


def short_flags(values, jurisdictions):
    """Each jurisdiction's flag block, from a row of `claim_values`: the same block a
    claim's own API page gives (`full_flag_data`)."""
    flags = {}
    for jurisdiction in jurisdictions:
        name = flag_name(jurisdiction)
        status = Status(values[name])
        overridden = values[f"{name}_override__status"] is not None
        record = "override" if overridden else "inherited"
        fields = {field: values[f"{name}_{record}__{field}"] for field in FLAG_FIELDS}
        flags[jurisdiction.code] = {
            "status": status.value,
            "label": status.label,
            "overridden": overridden,
            "explanation": fields["explanation"] or "",
            "source_url": fields["source_url"] or "",
            "source_title": fields["source_title"] or "",
            "checked_on": fields["checked_on"],
            "override_reason": (values[f"{name}_override__reason"] or "") if overridden else "",
        }
    return flags


class InIds(In):
    """`field IN ids`, which PostgreSQL receives as `field = ANY(ids)`: one array parameter,
    where binding an IN list of a chunk's 2,000 ids took longer than running the query."""

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, list(self.rhs))


def indications_by_claim(claim_ids):
    """{claim id: its indications' (slug, name), by name}"""
    indications = defaultdict(list)
    tags = (
        Claim.indications.through.objects.filter(InIds(F("claim_id"), claim_ids))
        .order_by("indication__name", "indication__slug")
        .values_list("claim_id", "indication__slug", "indication__name")
    )
    for claim_id, slug, name in tags:
        indications[claim_id].append((slug, name))
    return indications


def citation_urls_by_claim(claim_ids):
    """{claim id: its citations' URLs, in the citations' order}"""
    urls = defaultdict(list)
    citations = (
        Citation.objects.filter(InIds(F("claim_id"), claim_ids))
        .order_by("position", "pk")
        .values_list("claim_id", "url")
    )
    for claim_id, url in citations:
        urls[claim_id].append(url)
    return urls


def claim_url_builder(absolute_uri):
    """slug -> the absolute URL of the claim's page, from one reverse(): claims' URLs differ
    only by the slug, and a reverse() per claim cost more than the rest of its row."""
    placeholder = "slug"
    url = absolute_uri(reverse("claims:detail", args=[placeholder]))
    before, after = url.rsplit(placeholder, 1)
    return lambda slug: f"{before}{slug}{after}"


def claim_data(values, flags, indications, citation_urls, url):
    """The JSON shape of a claim: `values` is its row from `claim_values`, `flags` maps a
    jurisdiction code to its flag block, `indications` are (slug, name) pairs."""
    return {
        "slug": values["slug"],
        "url": url,
        "title": values["title"],
        "statement": values["statement"],
        "quote": values["quote"],
        "quote_source": values["quote_source"],
        "outcome": values["outcome"],
        "context_note": values["context_note"],
        "unverified": values["unverified"],
        "made_on": values["made_on"],
        "clinic": {"slug": values["clinic__slug"], "name": values["clinic__name"]},
        "country": values["clinic__country"] or None,
        "treatment": {"slug": values["treatment__slug"], "name": values["treatment__name"]},
        "route": values["treatment__route"],
        "source": {
            "slug": values["treatment__source__slug"],
            "name": values["treatment__source__name"],
        },
        "origin": values["treatment__source__origin"],
        "indications": [{"slug": slug, "name": name} for slug, name in indications],
        "evidence_level": (
            {
                "code": values["evidence_level__code"],
                "name": values["evidence_level__name"],
                "ocebm_equivalent": values["evidence_level__ocebm_equivalent"],
            }
            if values["evidence_level__code"] is not None
            else None
        ),
        "conference": (
            {
                "slug": values["conference__slug"],
                "name": values["conference__name"],
                "starts_on": values["conference__starts_on"],
                "ends_on": values["conference__ends_on"],
                "dates_note": values["conference__dates_note"],
            }
            if values["conference__slug"] is not None
            else None
        ),
        "presentation": (
            {"slug": values["presentation__slug"], "name": values["presentation__title"]}
            if values["presentation__slug"] is not None
            else None
        ),
        "flags": flags,
        "citation_urls": citation_urls,
        "published_at": values["published_at"],
        "updated_at": values["updated_at"],
    }


def full_flag_data(flag):
    return {
        "status": flag.status.value,
        "label": flag.status.label,
        "overridden": flag.overridden,
        "explanation": flag.explanation,
        "source_url": flag.source_url,
        "source_title": flag.source_title,
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
                for facet in claim_filter.facets(cached_facet_counts)
            },
            "results": list(
                claims_as_data(page.object_list, jurisdictions, request.build_absolute_uri)
            ),
        }
    )


@read_only
@public_page
def claim_detail(request, slug):
    claim = Claim.objects.public().only("state", "treatment_id").filter(slug=slug).first()
    if claim is None:
        return json_error(404, "No published claim has this slug.")
    jurisdictions = list(Jurisdiction.objects.all())
    [data] = claims_as_data(
        Claim.objects.filter(pk=claim.pk), jurisdictions, request.build_absolute_uri
    )
    # The list's shape, with each flag in full.
    flags = claim.flags(jurisdictions, claim.flag_records())
    data["flags"] = {flag.jurisdiction.code: full_flag_data(flag) for flag in flags}
    data["state"] = claim.state
    data["citations"] = [citation_data(citation) for citation in claim.citations.all()]
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
            "last_page_number": LAST_PAGE_NUMBER,
        },
    )


# --- OpenAPI --------------------------------------------------------------------------------


def openapi(server_url):
    """The OpenAPI 3.1 description. Filter parameters, flag columns and facets come from the
    facet registry (claims.facets) and the Jurisdiction table, so a new regulator or facet
    needs no change here."""
    claim_filter = ClaimFilter()
    jurisdictions = claim_filter.jurisdictions
    codes = [j.code for j in jurisdictions]
    statuses = [status.value for status in Status]
    # The API takes the /claims/ page's parameters and treats them as that page does (a shared
    # link means the same thing in every format): an unknown value is ignored and named in
    # `notices`, never refused. So the facets' parameters list known values as examples, not
    # as an enum the API does not enforce.
    facet_parameters = openapi_parameters(jurisdictions)

    def string_of(values, description):
        return (
            {
                "type": "string",
                "examples": list(values),
                "description": f"{description} Known values: {', '.join(values)}.",
            }
            if values
            else {"type": "string"}
        )

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
    # Every flag carries its caveats, in lists and exports too: the explanation, the source
    # and when it was checked ("" and null when no status is recorded: “Not assessed”).
    flag = {
        "status": {"type": "string", "enum": statuses},
        "label": {"type": "string"},
        "overridden": {"type": "boolean"},
        "explanation": {"type": "string"},
        "source_url": {"type": "string"},
        "source_title": {"type": "string"},
        "checked_on": nullable("string", format="date"),
        "override_reason": {
            "type": "string",
            "description": "Why this claim's flag differs from its treatment's; \"\" if not.",
        },
    }
    full_flag = flag
    claim = {
        "slug": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "statement": {"type": "string", "description": "The claim, in our words."},
        "quote": {
            "type": "string",
            "description": "The passage of our source the claim comes from, word for word.",
        },
        "quote_source": {"type": "string", "description": "Who wrote the quoted passage."},
        "outcome": {"type": "string", "description": "The outcome reported, if any."},
        "context_note": {"type": "string", "description": "Our context for readers."},
        "unverified": {
            "type": "string",
            "description": 'What we found no independent source for; "" if nothing.',
        },
        "made_on": nullable("string", format="date"),
        "clinic": ref("Named"),
        "country": nullable("string", description="ISO 3166-1 alpha-2 code."),
        "treatment": ref("Named"),
        "route": {"type": "string", "enum": Route.values},
        "source": ref("Named"),
        "origin": {"type": "string", "enum": Origin.values},
        "indications": {"type": "array", "items": ref("Named")},
        "evidence_level": {
            "oneOf": [
                closed_object(
                    {
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "ocebm_equivalent": {"type": "string"},
                    }
                ),
                {"type": "null"},
            ]
        },
        "conference": {"oneOf": [ref("Conference"), {"type": "null"}]},
        "presentation": {"oneOf": [ref("Named"), {"type": "null"}]},
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
                {
                    parameter["name"]: {"type": "array", "items": ref("FacetOption")}
                    for parameter in facet_parameters
                }
            ),
            "results": {"type": "array", "items": ref("Claim"), "maxItems": PAGE_SIZE},
        }
    )

    filter_parameters = [
        {
            "name": "q",
            "in": "query",
            "description": "Words to search for in the claims.",
            "schema": {"type": "string"},
        },
        *facet_parameters,
        {
            "name": "sort",
            "in": "query",
            "description": "Order of the results; relevance only with q. Any other value "
            "is ignored with a notice, and the default order is used.",
            "schema": string_of(list(Sort.ORDERINGS), "Others are ignored with a notice."),
        },
    ]
    page_parameter = {
        "name": "page",
        "in": "query",
        "description": f"Page number; {PAGE_SIZE} claims a page. A page past the last one "
        "answers 404.",
        "schema": {"type": "integer", "minimum": 1, "maximum": LAST_PAGE_NUMBER},
    }

    def error(description):
        return {"description": description, "content": json_content(ref("Error"))}

    def json_content(schema):
        return {"application/json": {"schema": schema}}

    total_count_header = {
        "X-Total-Count": {
            "description": "How many claims the download holds, counted as it starts.",
            "schema": {"type": "integer", "minimum": 0},
        }
    }

    # Any endpoint, before its view runs (claims/middleware.py).
    common_errors = {
        "414": error(
            f"The query string is longer than {settings.MAX_QUERY_STRING_LENGTH} characters."
        ),
        "503": error("The database is unavailable for a moment; see Retry-After."),
    }

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
                        "400": error(
                            f"The page is not a whole number from 1 to {LAST_PAGE_NUMBER}."
                        ),
                        "404": error("The page is past the last one."),
                        **common_errors,
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
                            # Django's slug converter: any other path is not this endpoint.
                            "schema": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "A published or retracted claim.",
                            "content": json_content(ref("ClaimDetail")),
                        },
                        "404": error("No published claim has this slug."),
                        **common_errors,
                    },
                }
            },
            "/claims.json": {
                "get": {
                    "operationId": "exportClaimsJson",
                    "summary": "All matching published claims as one streamed JSON document",
                    "parameters": filter_parameters,
                    "responses": {
                        "200": {
                            "description": "Every matching claim; not paginated. `count`, "
                            "last, is the number of claims written: a download cut short has "
                            "none, or one that differs from the X-Total-Count header.",
                            "headers": total_count_header,
                            "content": json_content(
                                closed_object(
                                    {
                                        "claims": {"type": "array", "items": ref("Claim")},
                                        "count": {"type": "integer", "minimum": 0},
                                    }
                                )
                            ),
                        },
                        **common_errors,
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
                            "field of a claim, plus `<code>_status`, `<code>_overridden`, "
                            "`<code>_explanation`, `<code>_source_url` and `<code>_checked_on` "
                            "per jurisdiction; lists are separated by “; ”. Cells that a "
                            "spreadsheet would read as a formula start with an apostrophe. "
                            "A download is complete when it has X-Total-Count rows under its "
                            "header row.",
                            "headers": total_count_header,
                            "content": {"text/csv": {"schema": {"type": "string"}}},
                        },
                        **common_errors,
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Named": named,
                "Conference": closed_object(
                    {
                        "slug": {"type": "string"},
                        "name": {"type": "string"},
                        "starts_on": nullable("string", format="date"),
                        "ends_on": nullable("string", format="date"),
                        "dates_note": {
                            "type": "string",
                            "description": "What is unverified about the dates or venue.",
                        },
                    }
                ),
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
