"""The ClaimReview JSON-LD on claim pages has the shape schema.org and search engines expect."""

import json
import re
from datetime import date

import jsonschema
import pytest

from claims.models import Citation

pytestmark = pytest.mark.django_db

ORGANIZATION = {
    "type": "object",
    "properties": {"@type": {"const": "Organization"}, "name": {"type": "string", "minLength": 1}},
    "required": ["@type", "name"],
}

# schema.org/ClaimReview, with the properties Google's fact-check markup requires.
CLAIM_REVIEW = {
    "type": "object",
    "properties": {
        "@context": {"const": "https://schema.org"},
        "@type": {"const": "ClaimReview"},
        "url": {"type": "string", "pattern": "^https?://"},
        "claimReviewed": {"type": "string", "minLength": 1},
        "author": ORGANIZATION,
        "datePublished": {"type": "string", "format": "date"},
        "itemReviewed": {
            "type": "object",
            "properties": {
                "@type": {"const": "Claim"},
                "author": ORGANIZATION,
                "appearance": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "properties": {
                            "@type": {"const": "CreativeWork"},
                            "url": {"type": "string", "pattern": "^https?://"},
                        },
                        "required": ["@type", "url"],
                    },
                },
            },
            "required": ["@type", "author", "appearance"],
        },
        "reviewRating": {
            "type": "object",
            "properties": {
                "@type": {"const": "Rating"},
                "ratingValue": {"type": "integer"},
                "worstRating": {"type": "integer"},
                "bestRating": {"type": "integer"},
                "alternateName": {"type": "string", "minLength": 1},
            },
            "required": ["@type", "ratingValue", "worstRating", "bestRating", "alternateName"],
        },
    },
    "required": [
        "@context",
        "@type",
        "url",
        "claimReviewed",
        "author",
        "datePublished",
        "itemReviewed",
        "reviewRating",
    ],
}


def claim_review(client, claim):
    response = client.get(claim.get_absolute_url())
    [script] = re.findall(
        r'<script type="application/ld\+json">(.*?)</script>', response.text, re.DOTALL
    )
    return json.loads(script)


def test_it_marks_up_a_claim_page_as_a_claim_review(client, claim):
    review = claim_review(client, claim)

    jsonschema.validate(review, CLAIM_REVIEW, format_checker=jsonschema.FormatChecker())
    rating = review["reviewRating"]
    assert rating["worstRating"] <= rating["ratingValue"] <= rating["bestRating"]
    assert review["url"] == f"http://testserver{claim.get_absolute_url()}"
    assert review["claimReviewed"] == claim.statement


def test_it_lists_only_the_write_up_as_where_the_claim_appeared(client, claim):
    # Issue 12: FDA notices and EUR-Lex were listed as places where the clinic's claim
    # appeared. They are what our review rests on: its citations.
    Citation.objects.create(
        claim=claim,
        kind=Citation.Kind.REGULATOR_NOTICE,
        title="Public Safety Notification on Exosome Products",
        url="https://example.org/fda-notice",
        accessed_on=date(2026, 11, 1),
        position=1,
    )

    review = claim_review(client, claim)

    appeared = [work["url"] for work in review["itemReviewed"]["appearance"]]
    cited = [work["url"] for work in review["citation"]]
    assert appeared == [c.url for c in claim.citations.filter(kind=Citation.Kind.WRITE_UP)]
    assert cited == ["https://example.org/fda-notice"]
