from django.http import Http404
from django.shortcuts import get_object_or_404, render

from claims.models import (
    Claim,
    Clinic,
    EvidenceLevel,
    ExosomeSource,
    Jurisdiction,
    Status,
    Treatment,
)


def rows_with_flags(claims):
    """Pair each claim with its flags, computed from prefetched rows: no query per claim."""
    jurisdictions = list(Jurisdiction.objects.all())
    return [(claim, claim.flags(jurisdictions)) for claim in claims]


def get_public_claim(request, slug):
    """A claim's page: published and retracted claims for everyone, drafts only for staff."""
    claim = get_object_or_404(Claim.objects.for_display(), slug=slug)
    if claim.state in (Claim.State.DRAFT, Claim.State.IN_REVIEW) and not (
        request.user.is_authenticated and request.user.has_perm("claims.view_claim")
    ):
        raise Http404("No claim here.")
    return claim


def home(request):
    latest = Claim.objects.published().for_display()[:12]
    return render(request, "claims/home.html", {"rows": rows_with_flags(latest)})


def claim_list(request):
    claims = Claim.objects.published().for_display()
    return render(request, "claims/claim_list.html", {"rows": rows_with_flags(claims)})


def claim_detail(request, slug):
    claim = get_public_claim(request, slug)
    flags = claim.flags(Jurisdiction.objects.all())
    return render(
        request,
        "claims/claim_detail.html",
        {
            "claim": claim,
            "flags": flags,
            "citations": claim.citations.all(),
            "show_questions": any(flag.is_warning for flag in flags),
        },
    )


def entity_page(request, model, slug, claim_filter):
    entity = get_object_or_404(model, slug=slug)
    claims = Claim.objects.published().filter(**{claim_filter: entity}).for_display()
    return render(
        request,
        "claims/entity_detail.html",
        {"entity": entity, "kind": model._meta.verbose_name, "rows": rows_with_flags(claims)},
    )


def clinic_detail(request, slug):
    return entity_page(request, Clinic, slug, "clinic")


def treatment_detail(request, slug):
    return entity_page(request, Treatment, slug, "treatment")


def source_detail(request, slug):
    return entity_page(request, ExosomeSource, slug, "treatment__source")


def evidence_scale(request):
    return render(request, "claims/evidence.html", {"levels": EvidenceLevel.objects.all()})


def regulatory(request):
    return render(
        request,
        "claims/regulatory.html",
        {"statuses": list(Status), "jurisdictions": Jurisdiction.objects.all()},
    )
