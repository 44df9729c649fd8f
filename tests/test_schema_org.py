"""The ClaimReview JSON-LD on claim pages has the shape schema.org and search engines expect."""

import json
import re
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from django.core.management import call_command

from claims.models import Citation, Claim, Conference
from claims.schema_org import CLAIM_REVIEWED_LENGTH

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "seed.json"

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
        "claimReviewed": {"type": "string", "minLength": 1, "maxLength": CLAIM_REVIEWED_LENGTH},
        "author": ORGANIZATION,
        "datePublished": {"type": "string", "format": "date"},
        "itemReviewed": {
            "type": "object",
            "properties": {
                "@type": {"const": "Claim"},
                "author": ORGANIZATION,
                "datePublished": {"type": "string", "format": "date"},
                "firstAppearance": {"$ref": "#/$defs/creativeWork"},
                "appearance": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"$ref": "#/$defs/creativeWork"},
                },
            },
            "required": ["@type", "author", "datePublished", "firstAppearance", "appearance"],
        },
        "reviewRating": {
            "type": "object",
            "properties": {
                "@type": {"const": "Rating"},
                "name": {"type": "string", "minLength": 1},
                "ratingValue": {"type": "integer"},
                "worstRating": {"type": "integer"},
                "bestRating": {"type": "integer"},
                "alternateName": {"type": "string", "minLength": 1},
                # A sentence, not a link to the scale.
                "ratingExplanation": {
                    "type": "string",
                    "pattern": "\\.$",
                    "not": {"pattern": "^https?://"},
                },
            },
            "required": [
                "@type",
                "name",
                "ratingValue",
                "worstRating",
                "bestRating",
                "alternateName",
                "ratingExplanation",
            ],
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
    "$defs": {
        "creativeWork": {
            "type": "object",
            "properties": {
                "@type": {"const": "CreativeWork"},
                "url": {"type": "string", "pattern": "^https?://"},
            },
            "required": ["@type", "url"],
        }
    },
}


def claim_review(client, claim):
    response = client.get(claim.get_absolute_url())
    [script] = re.findall(
        r'<script type="application/ld\+json">(.*?)</script>', response.text, re.DOTALL
    )
    return json.loads(script)


def test_it_marks_up_a_claim_page_as_a_claim_review(client, claim):
    claim.made_on = date(2024, 2, 1)
    claim.save()

    review = claim_review(client, claim)

    jsonschema.validate(review, CLAIM_REVIEW, format_checker=jsonschema.FormatChecker())
    rating = review["reviewRating"]
    assert rating["worstRating"] <= rating["ratingValue"] <= rating["bestRating"]
    assert review["url"] == f"http://testserver{claim.get_absolute_url()}"
    assert review["claimReviewed"] == claim.statement
    assert review["itemReviewed"]["datePublished"] == "2024-02-01"
    assert review["itemReviewed"]["firstAppearance"]["url"] == claim.citations.get().url
    assert review["reviewRating"]["name"] == f"Evidence: {claim.evidence_level.name}"
    assert review["reviewRating"]["ratingExplanation"].startswith(
        f"The evidence shown for this claim is rated “{claim.evidence_level.name}”"
    )


def test_it_dates_a_claim_without_its_own_date_by_its_congress(client, claim):
    claim.conference = Conference.objects.create(
        slug="congress", name="A congress", starts_on=date(2024, 1, 30), ends_on=date(2024, 2, 1)
    )
    claim.save()

    assert claim_review(client, claim)["itemReviewed"]["datePublished"] == "2024-01-30"


def test_it_gives_no_claim_date_when_none_is_known(client, claim):
    assert "datePublished" not in claim_review(client, claim)["itemReviewed"]


def test_it_uses_the_title_when_the_statement_is_too_long(client, claim):
    claim.statement = "Exosomes " + "regrow hair and erase every scar " * 5
    claim.title = "Exosomes regrow hair"
    claim.save()

    assert claim_review(client, claim)["claimReviewed"] == "Exosomes regrow hair"


def test_it_cuts_a_long_statement_at_a_word_boundary_when_the_title_is_long_too(client, claim):
    claim.statement = "Exosomes " + "regrow hair and erase every scar " * 5
    claim.title = "T" * 100
    claim.save()

    reviewed = claim_review(client, claim)["claimReviewed"]

    assert len(reviewed) <= CLAIM_REVIEWED_LENGTH
    assert reviewed.endswith("…")
    assert claim.statement.startswith(reviewed.removesuffix("…"))
    assert claim.statement[len(reviewed) - 1] == " "  # cut between words, not inside one


def test_it_marks_up_every_seeded_claim_page_with_the_recommended_fields(client):
    call_command("loaddata", str(SEED), verbosity=0)
    claims = list(Claim.objects.published())
    assert claims

    for claim in claims:
        review = claim_review(client, claim)
        rating = review["reviewRating"]
        assert len(review["claimReviewed"]) <= CLAIM_REVIEWED_LENGTH, claim.slug
        assert review["itemReviewed"]["firstAppearance"]["url"].startswith("http"), claim.slug
        assert rating["name"], claim.slug
        assert rating["ratingExplanation"].endswith("."), claim.slug
        assert "://" not in rating["ratingExplanation"], claim.slug
        known = bool(claim.made_on or (claim.conference and claim.conference.starts_on))
        assert ("datePublished" in review["itemReviewed"]) == known, claim.slug


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
