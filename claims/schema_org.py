"""schema.org ClaimReview for a claim page: what was claimed, by whom, where it appeared, and
our rating — the evidence level on the scale's 1..N ranks, with the regulators' flags in
words. The rating scale is published on /evidence/."""

from claims.models import Citation

# Where a claim was made: the write-up or the talk reporting it. Everything else a claim
# cites (regulators, papers, press) is what our review rests on: the review's citations.
APPEARANCE_KINDS = {Citation.Kind.WRITE_UP, Citation.Kind.CONFERENCE_TALK}


def creative_work(citation):
    return {"@type": "CreativeWork", "url": citation.url, "name": citation.title}


def claim_review(claim, flags, citations, page_url, evidence_scale_url):
    """`claim` must carry `best_rank`, the top of the evidence scale (see claim_detail)."""
    flags_in_words = "; ".join(f"{f.jurisdiction.short_label}: {f.status.label}" for f in flags)
    review = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": page_url,
        "claimReviewed": claim.statement,
        "author": {"@type": "Organization", "name": "Claimwatch"},
        "itemReviewed": {
            "@type": "Claim",
            "author": {"@type": "Organization", "name": claim.clinic.name},
            "appearance": [
                creative_work(citation)
                for citation in citations
                if citation.kind in APPEARANCE_KINDS
            ],
        },
        "citation": [
            creative_work(citation)
            for citation in citations
            if citation.kind not in APPEARANCE_KINDS
        ],
    }
    if claim.published_at:
        review["datePublished"] = claim.published_at.date().isoformat()
    if claim.made_on:
        review["itemReviewed"]["datePublished"] = claim.made_on.isoformat()
    if claim.evidence_level:
        review["reviewRating"] = {
            "@type": "Rating",
            "ratingValue": claim.evidence_level.rank,
            "worstRating": 1,
            "bestRating": claim.best_rank,
            "alternateName": f"Evidence: {claim.evidence_level.name}. {flags_in_words}.",
            "ratingExplanation": evidence_scale_url,
        }
    return review
