"""schema.org ClaimReview for a claim page: what was claimed, by whom, where it appeared, and
our rating — the evidence level on the scale's 1..N ranks, with the regulators' flags in
words. The rating scale is published on /evidence/."""

from django.utils.translation import gettext as _

from claims.models import Citation

# Where a claim was made: the write-up or the talk reporting it. Everything else a claim
# cites (regulators, papers, press) is what our review rests on: the review's citations.
APPEARANCE_KINDS = {Citation.Kind.WRITE_UP, Citation.Kind.CONFERENCE_TALK}
# Google's fact-check markup shows claimReviewed in a snippet and wants it short.
CLAIM_REVIEWED_LENGTH = 75


def short_claim(claim):
    """What was claimed, in at most CLAIM_REVIEWED_LENGTH characters: the statement if it
    fits, else the claim's title, else the statement cut at a word boundary."""
    for text in (claim.statement.strip(), claim.title.strip()):
        if text and len(text) <= CLAIM_REVIEWED_LENGTH:
            return text
    text = " ".join((claim.statement.strip() or claim.title.strip()).split())
    if len(text) <= CLAIM_REVIEWED_LENGTH:
        return text
    cut = text[: CLAIM_REVIEWED_LENGTH - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:—-") + "…"


def date_claimed(claim):
    """When the claim entered public discourse: its own date, else the first day of the
    congress it was made at; None when neither is known (we do not guess one)."""
    if claim.made_on:
        return claim.made_on
    if claim.conference and claim.conference.starts_on:
        return claim.conference.starts_on
    return None


def rating_explanation(level, best_rank):
    """A sentence, as schema.org wants, not a link: the level, its place on the scale, and
    what it means."""
    sentence = _(
        "The evidence shown for this claim is rated “%(level)s”, %(rank)d of %(best)d on "
        "Claimwatch's evidence scale, where %(best)d is the strongest."
    ) % {"level": level.name, "rank": level.rank, "best": best_rank}
    definition = level.definition.strip()
    if definition:
        sentence += f" {definition}" if definition.endswith(".") else f" {definition}."
    return sentence


def creative_work(citation):
    return {"@type": "CreativeWork", "url": citation.url, "name": citation.title}


def claim_review(claim, flags, citations, page_url):
    """`claim` must carry `best_rank`, the top of the evidence scale (see claim_detail)."""
    flags_in_words = "; ".join(f"{f.jurisdiction.short_label}: {f.status.label}" for f in flags)
    appearances = [
        creative_work(citation) for citation in citations if citation.kind in APPEARANCE_KINDS
    ]
    review = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": page_url,
        "claimReviewed": short_claim(claim),
        "author": {"@type": "Organization", "name": "Claimwatch"},
        "itemReviewed": {
            "@type": "Claim",
            "author": {"@type": "Organization", "name": claim.clinic.name},
            "appearance": appearances,
        },
        "citation": [
            creative_work(citation)
            for citation in citations
            if citation.kind not in APPEARANCE_KINDS
        ],
    }
    if claim.published_at:
        review["datePublished"] = claim.published_at.date().isoformat()
    if appearances:
        # Citations come in the editors' order, the first one being where the claim was made.
        review["itemReviewed"]["firstAppearance"] = appearances[0]
    claimed_on = date_claimed(claim)
    if claimed_on:
        review["itemReviewed"]["datePublished"] = claimed_on.isoformat()
    level = claim.evidence_level
    if level:
        review["reviewRating"] = {
            "@type": "Rating",
            "name": _("Evidence: %(level)s") % {"level": level.name},
            "ratingValue": level.rank,
            "worstRating": 1,
            "bestRating": claim.best_rank,
            "alternateName": _("Evidence: %(level)s. %(flags)s.")
            % {"level": level.name, "flags": flags_in_words},
            "ratingExplanation": rating_explanation(level, claim.best_rank),
        }
    return review
