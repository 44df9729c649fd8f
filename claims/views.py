import re

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Subquery
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static

from claims.cache import cached_facet_counts, public_page
from claims.filters import ClaimFilter, claim_links, list_url, listed_jurisdictions
from claims.history import public_changes
from claims.models import (
    Claim,
    ClaimRevision,
    Clinic,
    EvidenceLevel,
    ExosomeSource,
    Jurisdiction,
    RegulatoryStatus,
    Route,
    Status,
    Treatment,
)
from claims.schema_org import claim_review

PAGE_SIZE = 25
CORRECTIONS_SHOWN = 50  # the newest, on /method/; each claim's page lists all of its own


def rows_with_flags(claims, jurisdictions):
    """Pair each claim with its flags, computed from prefetched rows: no query per claim."""
    return [(claim, claim.flags(jurisdictions)) for claim in claims]


def get_public_claim(request, slug):
    """A claim's page: published and retracted claims for everyone, drafts only for editors."""
    top_of_scale = EvidenceLevel.objects.order_by("-rank").values("rank")[:1]
    claim = get_object_or_404(
        Claim.objects.with_facts().annotate(best_rank=Subquery(top_of_scale)), slug=slug
    )
    if claim.state in (Claim.State.DRAFT, Claim.State.IN_REVIEW) and not (
        request.user.is_authenticated and request.user.has_perm("claims.view_claim")
    ):
        raise Http404("No claim here.")
    return claim


# ASCII digits only: str.isdigit() also accepts "²" and "①", which int() then refuses.
PAGE_NUMBER = re.compile(r"[0-9]{1,9}")
LAST_PAGE_NUMBER = 999_999_999  # the largest PAGE_NUMBER reads; the OpenAPI document says so


# What claims a clinic's, a treatment's or a source's own page is reached through.
CLAIM_PATHS = {Clinic: "clinic", Treatment: "treatment", ExosomeSource: "treatment__source"}


def public_references(model):
    """The clinics, treatments or sources whose page is public: those a public (published or
    retracted) claim names, whose pages link to them. One with only drafts is under
    investigation, and its name and editor's note are not for readers yet. The sitemap and
    the regulatory page list the same rows."""
    claims = Claim.objects.public().filter(**{CLAIM_PATHS[model]: OuterRef("pk")})
    return model.objects.filter(Exists(claims))


def get_public_reference(request, queryset, slug):
    """An entity's page: public ones for everyone, any for editors (as drafts are)."""
    if not (request.user.is_authenticated and request.user.has_perm("claims.view_claim")):
        queryset = queryset.filter(pk__in=public_references(queryset.model).values("pk"))
    return get_object_or_404(queryset, slug=slug)


def requested_page(raw_page):
    """The page number asked for, or (1, notice) when it is not a positive whole number."""
    if raw_page is None or raw_page == "":
        return 1, None
    if PAGE_NUMBER.fullmatch(raw_page) and int(raw_page) >= 1:
        return int(raw_page), None
    return 1, "Ignored the page number: it is not a positive whole number."


def evidence_map(jurisdictions):
    """The home page's grid: evidence levels (strongest first) against each jurisdiction's
    statuses, every cell the number of published claims there and a link to them."""
    levels = list(EvidenceLevel.objects.order_by("-rank"))
    counts = Claim.objects.published().count_by_evidence_and_flag(jurisdictions)
    columns = []
    for jurisdiction in jurisdictions:
        recorded = {status for _level, j, status in counts if j == jurisdiction.pk}
        columns.append((jurisdiction, [status for status in Status if status.value in recorded]))
    rows = []
    for level in levels:
        cells = []
        for jurisdiction, statuses in columns:
            for status in statuses:
                count = counts.get((level.pk, jurisdiction.pk, status.value), 0)
                url = list_url(
                    jurisdictions, evidence=[level.code], **{jurisdiction.code: [status]}
                )
                cells.append((jurisdiction, status, count, url))
        rows.append((level, cells))
    return {"columns": columns, "rows": rows}


@public_page
def home(request):
    jurisdictions = listed_jurisdictions(Jurisdiction.objects.all())
    latest = Claim.objects.published().for_display()[:5]
    return render(
        request,
        "claims/home.html",
        {
            "rows": rows_with_flags(latest, jurisdictions),
            "map": evidence_map(jurisdictions),
            "total": Claim.objects.published().count(),
            "clinic_count": Clinic.objects.filter(
                Exists(Claim.objects.published().filter(clinic=OuterRef("pk")))
            ).count(),
        },
    )


@public_page
def claim_list(request):
    claim_filter = ClaimFilter(request.GET, request=request)
    page_number, page_notice = requested_page(request.GET.get("page"))
    notices = claim_filter.notices + ([page_notice] if page_notice else [])

    paginator = Paginator(claim_filter.ordered_qs.for_display(), PAGE_SIZE)
    if page_number > paginator.num_pages:
        page_number = paginator.num_pages
        if not notices:
            return redirect(claim_filter.url(page=page_number))
        notices.append(f"There are only {paginator.num_pages} pages: showing the last one.")

    canonical_query = claim_filter.canonical_query(page=page_number)
    if not notices and list(request.GET.lists()) != list(QueryDict(canonical_query).lists()):
        return redirect(claim_filter.url(page=page_number))

    page = paginator.page(page_number)
    summary = claim_filter.summary(paginator.count)
    rows = rows_with_flags(page.object_list, claim_filter.jurisdictions)
    shown = {flag.status for _, flags in rows for flag in flags}
    context = {
        "filter": claim_filter,
        "facets": claim_filter.facets(cached_facet_counts),
        "chips": claim_filter.chips(),
        "notices": notices,
        "summary": summary,
        "page": page,
        "page_links": [
            (number, claim_filter.url(page=number) if number != Paginator.ELLIPSIS else None)
            for number in paginator.get_elided_page_range(page_number, on_each_side=2)
        ],
        "previous_url": claim_filter.url(page=page.previous_page_number())
        if page.has_previous()
        else None,
        "next_url": claim_filter.url(page=page.next_page_number()) if page.has_next() else None,
        "rows": rows,
        # The flags' meanings in words, for readers who never see a hover tooltip.
        "statuses_shown": [status for status in Status if status in shown],
        "canonical_url": request.build_absolute_uri(claim_filter.url(page=page_number)),
    }
    return render(request, "claims/claim_list.html", context)


@public_page
def claim_detail(request, slug):
    claim = get_public_claim(request, slug)
    jurisdictions = listed_jurisdictions(Jurisdiction.objects.all())
    flag_records = claim.flag_records()
    flags = claim.flags(jurisdictions, flag_records)
    citations = list(claim.citations.all())
    treatment = claim.treatment
    page_url = request.build_absolute_uri(claim.get_absolute_url())
    return render(
        request,
        "claims/claim_detail.html",
        {
            "claim": claim,
            "flags": flags,
            "citations": citations,
            "changes": public_changes(claim, jurisdictions, flag_records),
            "show_questions": any(flag.calls_for_questions for flag in flags),
            "injected": Route(treatment.route).is_injection,
            "claim_review": claim_review(claim, flags, citations, page_url),
            "canonical_url": page_url,
            "links": claim_links(claim, flags, jurisdictions),
        },
    )


def entity_page(request, entity, param, facts, statuses=()):
    """An entity, its facts, and its newest published claims with a link to all of them
    in the filtered list (the same ClaimFilter, so the count matches the list's)."""
    claim_filter = ClaimFilter(
        QueryDict(f"{param}={entity.slug}"), jurisdictions=Jurisdiction.objects.all()
    )
    jurisdictions = claim_filter.jurisdictions
    claims = claim_filter.ordered_qs.for_display()
    total = claims.count()
    return render(
        request,
        "claims/entity_detail.html",
        {
            "entity": entity,
            "kind": entity._meta.verbose_name,
            "facts": facts,
            "statuses": statuses,
            "total": total,
            "rows": rows_with_flags(claims[:PAGE_SIZE], jurisdictions),
            "list_url": claim_filter.url(),
            "canonical_url": request.build_absolute_uri(entity.get_absolute_url()),
        },
    )


@public_page
def clinic_detail(request, slug):
    clinic = get_public_reference(request, Clinic.objects.all(), slug)
    facts = [
        ("Kind", clinic.get_kind_display(), None),
        ("City", clinic.city or "Not known", None),
        ("Country", clinic.country.name if clinic.country else "Not known", None),
    ]
    if clinic.website:
        facts.append(("Website", clinic.website, clinic.website))
    return entity_page(request, clinic, "clinic", facts)


@public_page
def treatment_detail(request, slug):
    treatment = get_public_reference(request, Treatment.objects.select_related("source"), slug)
    facts = [
        ("Route", treatment.get_route_display(), None),
        ("Exosome source", treatment.source.name, treatment.source.get_absolute_url()),
        ("Origin", treatment.source.get_origin_display(), None),
    ]
    if treatment.combined_procedure:
        facts.append(("Combined with", treatment.combined_procedure, None))
    if treatment.product:
        facts.append(("Product or brand", treatment.product, None))
    statuses = treatment.regulatory_statuses.select_related("jurisdiction")
    return entity_page(request, treatment, "treatment", facts, statuses)


@public_page
def source_detail(request, slug):
    source = get_public_reference(request, ExosomeSource.objects.all(), slug)
    facts = [
        ("Category", source.get_category_display(), None),
        ("Origin", source.get_origin_display(), None),
    ]
    return entity_page(request, source, "source", facts)


@public_page
def evidence_scale(request):
    # Strongest first, as on the home page's grid and in the "strongest evidence" sort.
    return render(
        request, "claims/evidence.html", {"levels": EvidenceLevel.objects.order_by("-rank")}
    )


@public_page
def regulatory(request):
    """What each status means, and for each jurisdiction which statuses we have recorded:
    for each, the treatments, why, on which source, checked when. Only treatments a public
    claim uses are listed."""
    records = (
        RegulatoryStatus.objects.filter(treatment__in=public_references(Treatment).values("pk"))
        .select_related("treatment")
        .order_by("jurisdiction", "status", "treatment__name")
    )
    by_jurisdiction = {}
    for record in records:
        entry = by_jurisdiction.setdefault(record.jurisdiction_id, {}).setdefault(
            record.status_choice, []
        )
        entry.append(record)
    jurisdictions = [
        (jurisdiction, by_jurisdiction.get(jurisdiction.pk, {}))
        for jurisdiction in Jurisdiction.objects.all()
    ]
    return render(
        request,
        "claims/regulatory.html",
        {"statuses": list(Status), "jurisdictions": jurisdictions},
    )


@public_page
def method(request):
    """How we work: who curates, how a flag is decided, the evidence scale, corrections."""
    return render(
        request,
        "claims/method.html",
        {
            "levels": EvidenceLevel.objects.order_by("-rank"),
            "statuses": list(Status),
            "jurisdictions": Jurisdiction.objects.all(),
            "retracted": Claim.objects.filter(state=Claim.State.RETRACTED).order_by("slug"),
            "corrections": ClaimRevision.objects.corrections()
            .select_related("claim", "reviewed_by")
            .order_by("-reviewed_at")[:CORRECTIONS_SHOWN],
            "corrections_email": settings.CORRECTIONS_EMAIL,
        },
    )


@public_page
def safety(request):
    """What is known and not known about the safety of exosome treatments, linked from
    every claim about an injected use."""
    injected = [route for route in Route if route.is_injection]
    return render(
        request,
        "claims/safety.html",
        {
            "injected_claims": Claim.objects.published()
            .filter(treatment__route__in=injected)
            .order_by("title")
        },
    )


@public_page
def about_exosomes(request):
    """What exosomes are and where they come from (which decides the EU's human-derived
    question), with the trial counts and their caveats."""
    return render(request, "claims/exosomes.html")


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; send them to the site's icon.
    Temporary, as the icon's hashed name changes with its content."""
    response = redirect(static("claims/favicon.svg"))
    response["Cache-Control"] = "public, max-age=86400"
    return response
