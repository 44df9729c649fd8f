"""The JSON shapes of the API and the downloads, each builder with its schema beside it.

A claim has one shape, `claim_data`, read through `claims_as_data` by the API's list and the
JSON and CSV downloads; a claim's own API page adds its flags in full and its citations
(`claim_detail_data`). Each `*_schema` describes the shape built just above it for the OpenAPI
document (claims/openapi.py), and tests/test_shapes.py checks that the two name the same keys.
"""

from itertools import islice

from claims.models import Citation, Claim, Origin, Route, Status
from claims.paging import PAGE_SIZE
from claims.rows import (
    FLAG_FIELDS,
    citation_urls_by_claim,
    claim_url_builder,
    claim_values,
    flag_name,
    indications_by_claim,
)

# --- The JSON Schema the shapes are described in -------------------------------------------


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


# --- Claims, a chunk at a time ---------------------------------------------------------------

# Claims `claims_as_data` reads per database round trip; each chunk's indications and
# citations take one query each.
CHUNK_SIZE = 2000


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


# --- A flag ----------------------------------------------------------------------------------


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


# Every flag carries its caveats, in lists and exports too: the explanation, the source and
# when it was checked ("" and null when no status is recorded: “Not assessed”). The list's
# flags (`short_flags`) and a claim's own (`full_flag_data`) have this one shape.
FLAG_SCHEMA = closed_object(
    {
        "status": {"type": "string", "enum": Status.values},
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
)


# --- A claim -------------------------------------------------------------------------------


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


# A clinic, treatment, source or indication in `claim_data`.
NAMED_SCHEMA = closed_object({"slug": {"type": "string"}, "name": {"type": "string"}})
CONFERENCE_SCHEMA = closed_object(
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
)


def claim_schema(codes):
    """`claim_data`'s schema, with a flag for each jurisdiction code."""
    return closed_object(
        {
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
    )


# --- A claim's own API page ----------------------------------------------------------------


def claim_detail_data(claim, jurisdictions, absolute_uri):
    """`claim_data`, with each flag in full and the citations."""
    [data] = claims_as_data(Claim.objects.filter(pk=claim.pk), jurisdictions, absolute_uri)
    flags = claim.flags(jurisdictions, claim.flag_records())
    data["flags"] = {flag.jurisdiction.code: full_flag_data(flag) for flag in flags}
    data["state"] = claim.state
    data["citations"] = [citation_data(citation) for citation in claim.citations.all()]
    return data


def claim_detail_schema(codes):
    return closed_object(
        {
            **claim_schema(codes)["properties"],
            "flags": closed_object({code: ref("FullFlag") for code in codes}),
            "state": {"type": "string", "enum": [Claim.State.PUBLISHED, Claim.State.RETRACTED]},
            "citations": {"type": "array", "items": ref("Citation")},
        }
    )


def citation_data(citation):
    return {
        "kind": citation.kind,
        "title": citation.title,
        "publisher": citation.publisher,
        "url": citation.url,
        "accessed_on": citation.accessed_on,
        "note": citation.note,
    }


CITATION_SCHEMA = closed_object(
    {
        "kind": {"type": "string", "enum": Citation.Kind.values},
        "title": {"type": "string"},
        "publisher": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
        "accessed_on": {"type": "string", "format": "date"},
        "note": {"type": "string"},
    }
)


# --- A page of the API's list ----------------------------------------------------------------


def claim_page_data(
    *, count, summary, canonical_url, next_url, previous_url, notices, facets, results
):
    """A page of claims (`results`, in `claim_data`'s shape) with the filter's facets and
    where the neighbouring pages are."""
    return {
        "count": count,
        "summary": summary,
        "canonical_url": canonical_url,
        "next": next_url,
        "previous": previous_url,
        "notices": notices,
        "facets": {
            facet.param: [facet_option_data(option) for option in facet.options] for facet in facets
        },
        "results": results,
    }


def claim_page_schema(facet_params):
    return closed_object(
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
                {param: {"type": "array", "items": ref("FacetOption")} for param in facet_params}
            ),
            "results": {"type": "array", "items": ref("Claim"), "maxItems": PAGE_SIZE},
        }
    )


def facet_option_data(option):
    return {
        "value": option.value,
        "label": option.label,
        "count": option.count,
        "selected": option.selected,
    }


FACET_OPTION_SCHEMA = closed_object(
    {
        "value": {"type": "string"},
        "label": {"type": "string"},
        "count": {"type": "integer", "minimum": 0},
        "selected": {"type": "boolean"},
    }
)
