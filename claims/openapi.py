"""The OpenAPI 3.1 description of the API and the downloads: the shapes' schemas
(claims/shapes.py) and the paths that answer with them."""

from django.conf import settings

from claims.facets import facet_specs, openapi_parameters
from claims.filters import ClaimFilter, Sort
from claims.paging import LAST_PAGE_NUMBER, PAGE_SIZE
from claims.responses import ERROR_SCHEMA, export_paths
from claims.shapes import (
    CITATION_SCHEMA,
    CONFERENCE_SCHEMA,
    FACET_OPTION_SCHEMA,
    FLAG_SCHEMA,
    NAMED_SCHEMA,
    claim_detail_schema,
    claim_page_schema,
    claim_schema,
    closed_object,
    ref,
)


def openapi(server_url):
    """The OpenAPI 3.1 description. Filter parameters, flag columns and facets come from the
    facet registry (claims.facets) and the Jurisdiction table, so a new regulator or facet
    needs no change here."""
    claim_filter = ClaimFilter()
    codes = [j.code for j in claim_filter.jurisdictions]
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
        "paths": paths(list_parameters(claim_filter)),
        "components": {
            "schemas": {
                "Named": NAMED_SCHEMA,
                "Conference": CONFERENCE_SCHEMA,
                "Flag": FLAG_SCHEMA,
                "FullFlag": FLAG_SCHEMA,
                "Citation": CITATION_SCHEMA,
                "Claim": claim_schema(codes),
                "ClaimDetail": claim_detail_schema(codes),
                "FacetOption": FACET_OPTION_SCHEMA,
                "ClaimPage": claim_page_schema(
                    [spec.param for spec in facet_specs(claim_filter.jurisdictions)]
                ),
                "Error": ERROR_SCHEMA,
            }
        },
    }


# --- The list's parameters, from the facet registry and the jurisdictions --------------------


def list_parameters(claim_filter):
    """The query parameters every list endpoint takes: the search, one per facet (each
    jurisdiction's flag among them) and the sort. The API takes the /claims/ page's parameters
    and treats them as that page does (a shared link means the same thing in every format): an
    unknown value is ignored and named in `notices`, never refused. So the facets' parameters
    list known values as examples, not as an enum the API does not enforce."""

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

    return [
        {
            "name": "q",
            "in": "query",
            "description": "Words to search for in the claims.",
            "schema": {"type": "string"},
        },
        *openapi_parameters(claim_filter.jurisdictions),
        {
            "name": "sort",
            "in": "query",
            "description": "Order of the results; relevance only with q. Any other value "
            "is ignored with a notice, and the default order is used.",
            "schema": string_of(list(Sort.ORDERINGS), "Others are ignored with a notice."),
        },
    ]


# --- Paths ---------------------------------------------------------------------------------


def json_content(schema):
    return {"application/json": {"schema": schema}}


def error(description):
    return {"description": description, "content": json_content(ref("Error"))}


TOTAL_COUNT_HEADER = {
    "X-Total-Count": {
        "description": "How many claims the download holds, counted as it starts.",
        "schema": {"type": "integer", "minimum": 0},
    }
}


def paths(filter_parameters):
    page_parameter = {
        "name": "page",
        "in": "query",
        "description": f"Page number; {PAGE_SIZE} claims a page. A page past the last one "
        "answers 404.",
        "schema": {"type": "integer", "minimum": 1, "maximum": LAST_PAGE_NUMBER},
    }
    # Any endpoint, before its view runs (claims/middleware.py).
    common_errors = {
        "414": error(
            f"The query string is longer than {settings.MAX_QUERY_STRING_LENGTH} characters."
        ),
        "503": error("The database is unavailable for a moment; see Retry-After."),
    }
    exports = {
        "json": {
            "operationId": "exportClaimsJson",
            "summary": "All matching published claims as one streamed JSON document",
            "parameters": filter_parameters,
            "responses": {
                "200": {
                    "description": "Every matching claim; not paginated. `count`, last, is the "
                    "number of claims written: a download cut short has none, or one that "
                    "differs from the X-Total-Count header.",
                    "headers": TOTAL_COUNT_HEADER,
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
        },
        "csv": {
            "operationId": "exportClaimsCsv",
            "summary": "All matching published claims as a streamed CSV file",
            "parameters": filter_parameters,
            "responses": {
                "200": {
                    "description": "UTF-8 with a byte order mark. One column per field of a "
                    "claim, plus `<code>_status`, `<code>_overridden`, `<code>_explanation`, "
                    "`<code>_source_url` and `<code>_checked_on` per jurisdiction; lists are "
                    "separated by “; ”. Cells that a spreadsheet would read as a formula start "
                    "with an apostrophe. A download is complete when it has X-Total-Count rows "
                    "under its header row.",
                    "headers": TOTAL_COUNT_HEADER,
                    "content": {"text/csv": {"schema": {"type": "string"}}},
                },
                **common_errors,
            },
        },
    }
    return {
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
                    "400": error(f"The page is not a whole number from 1 to {LAST_PAGE_NUMBER}."),
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
        # KeyError here for a download that export_paths() lists and this does not describe.
        **{path: {"get": exports[format_]} for format_, path in export_paths().items()},
    }
