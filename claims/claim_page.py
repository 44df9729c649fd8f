"""A claim's page: live, or as it was at a moment (`?as_of=`), or live with what changed since
a moment (`?since=`). `claims.views.claim_detail` finds the claim and picks one."""

from django.http import QueryDict
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control

from claims.as_of import claims_as_of, parse_as_of, published_claims_as_of
from claims.changes_since import changes_since
from claims.filters import claim_links, listed_jurisdictions
from claims.history import public_changes
from claims.models import Claim, Jurisdiction, Route
from claims.schema_org import claim_review


def live_claim_page(request, claim, **extra):
    jurisdictions = listed_jurisdictions(Jurisdiction.objects.all())
    flag_records = claim.flag_records()
    flags = claim.flags(jurisdictions, flag_records)
    citations = list(claim.citations.all())
    changes = public_changes(claim, jurisdictions, flag_records)
    return render_claim_page(
        request, jurisdictions, claim, flags, citations, claim.indications.all(), changes, **extra
    )


def render_claim_page(
    request, jurisdictions, claim, flags, citations, indications, changes, **extra
):
    """A claim's page, live or as it was (`extra` then holds the banner's context). Its links
    lead to the list filtered by each of its values."""
    treatment = claim.treatment
    page_url = request.build_absolute_uri(claim.get_absolute_url())
    return render(
        request,
        "claims/claim_detail.html",
        {
            "claim": claim,
            "flags": flags,
            "citations": citations,
            "changes": changes,
            "show_questions": any(flag.calls_for_questions for flag in flags),
            "injected": Route(treatment.route).is_injection,
            "claim_review": claim_review(claim, flags, citations, page_url),
            "canonical_url": page_url,
            "links": claim_links(claim, flags, jurisdictions, related={"indications": indications}),
            **extra,
        },
    )


def claim_page_as_of(request, claim):
    """`?as_of=T`: the claim as readers saw it at T, under a banner linking to today's page,
    marked immutable (what was published at a past moment never changes). `?since=T`: today's
    page with what changed since T. The summary is only on the live page: it changes with
    every edit, and the pinned page must not."""
    as_of = parse_as_of(request.GET.get("as_of"))
    since = parse_as_of(request.GET.get("since"))
    live_url = claim.get_absolute_url()
    if as_of.is_pinned:
        canonical = QueryDict(mutable=True)
        canonical["as_of"] = as_of.canonical
        if request.GET.urlencode() != canonical.urlencode():
            return redirect(f"{live_url}?{canonical.urlencode(safe=':')}")
        return pinned_claim_page(request, claim, as_of)
    # A moment that is not one (malformed, in the future) gets today's page, saying so.
    summary = None
    if since.is_pinned:
        then = published_claims_as_of(since, ids=[claim.pk])
        summary = changes_since(then, Claim.objects.published().filter(pk=claim.pk))
    return live_claim_page(
        request,
        claim,
        notices=[*as_of.notices, *since.notices],
        since=since if since.is_pinned else None,
        changes_since=summary,
    )


def pinned_claim_page(request, claim, moment):
    then = claims_as_of(moment, ids=[claim.pk]).get(claim.pk)
    since_url = f"{claim.get_absolute_url()}?since={moment.canonical}"
    if then is None or not then.claim.is_public():
        response = render(
            request,
            "claims/claim_as_of_missing.html",
            {"claim": claim, "moment": moment, "live_url": claim.get_absolute_url()},
        )
    else:
        pinned = then.claim
        pinned.best_rank = claim.best_rank
        jurisdictions = listed_jurisdictions([flag.jurisdiction for flag in then.flags])
        flags = [flag for flag in then.flags if flag.jurisdiction in jurisdictions]
        changes = [
            change
            for change in public_changes(pinned, jurisdictions, claim.flag_records())
            if change.on <= moment.at
        ]
        response = render_claim_page(
            request,
            jurisdictions,
            pinned,
            flags,
            list(then.citations),
            then.indications,
            changes,
            moment=moment,
            live_url=since_url,
        )
    patch_cache_control(response, immutable=True)
    return response
