from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Subquery
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from claims.as_of import cached_for_long_when_pinned
from claims.cache import cached_facet_counts, public_page
from claims.claim_page import claim_page_as_of, live_claim_page
from claims.filters import ClaimFilter, list_url, listed_jurisdictions
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
from claims.notices import carried_notices, redirect_with_notices
from claims.paging import PAGE_SIZE, requested_page
from claims.search import search, suggestion
from claims.text import with_query

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
    if request.GET:  # the home page takes no parameters: one URL, one cached page
        return redirect("claims:home")
    jurisdictions = listed_jurisdictions(Jurisdiction.objects.all())
    latest = Claim.objects.published().for_display()[:5]
    return render(
        request,
        "claims/home.html",
        {
            "rows": rows_with_flags(latest, jurisdictions),
            "map": evidence_map(jurisdictions),
            "regulators": ", ".join(j.short_label for j in jurisdictions),
            "total": Claim.objects.published().count(),
            "clinic_count": Clinic.objects.filter(
                Exists(Claim.objects.published().filter(clinic=OuterRef("pk")))
            ).count(),
        },
    )


def without_search(claim_filter):
    """Where the claims are under the other filters, for a search that found none: the same
    filters without the search, so that its facets count (and link to) what is there."""
    return ClaimFilter(
        QueryDict(claim_filter.canonical_query(page=None, q=[], sort=[])),
        jurisdictions=claim_filter.jurisdictions,
    )


def did_you_mean(claim_filter, unsearched):
    """The list URL of the search respelt with the claims' own words, when that finds claims
    under the other filters; else None."""
    respelt = suggestion(claim_filter.state["q"][0])
    if respelt is None or not search(unsearched.qs, respelt).exists():
        return None
    return respelt, claim_filter.url(q=[respelt])


@public_page
def claim_list(request):
    claim_filter = ClaimFilter(request.GET, request=request)
    page_number, page_notice = requested_page(request.GET.get("page"))
    notices = claim_filter.notices + ([page_notice] if page_notice else [])

    paginator = Paginator(claim_filter.ordered_qs.for_display(), PAGE_SIZE)
    if page_number > paginator.num_pages:
        page_number = paginator.num_pages
        if notices:
            notices.append(
                ngettext(
                    "There is only %(pages)d page: showing the last one.",
                    "There are only %(pages)d pages: showing the last one.",
                    paginator.num_pages,
                )
                % {"pages": paginator.num_pages}
            )

    # Anything else than the canonical URL redirects there, so the address a reader copies
    # is clean; what was ignored goes along, outside the URL and the cached page.
    canonical_query = claim_filter.canonical_query(page=page_number)
    if list(request.GET.lists()) != list(QueryDict(canonical_query).lists()):
        return redirect_with_notices(request, claim_filter.url(page=page_number), notices)
    notices += carried_notices(request)

    page = paginator.page(page_number)
    summary = claim_filter.summary(paginator.count)
    rows = rows_with_flags(page.object_list, claim_filter.jurisdictions)
    shown = {flag.status for _, flags in rows for flag in flags}
    searched_in_vain = not rows and "q" in claim_filter.state
    counted = without_search(claim_filter) if searched_in_vain else claim_filter
    query = claim_filter.canonical_query()
    context = {
        "filter": claim_filter,
        "facets": counted.facets(cached_facet_counts),
        "facets_without_search": searched_in_vain,
        "did_you_mean": did_you_mean(claim_filter, counted) if searched_in_vain else None,
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
        "csv_url": with_query(reverse("claims:export-csv"), query),
        "json_url": with_query(reverse("claims:export-json"), query),
        "feed_url": with_query(reverse("claims:feed"), query),
    }
    return render(request, "claims/claim_list.html", context)


@cached_for_long_when_pinned
@public_page
def claim_detail(request, slug):
    claim = get_public_claim(request, slug)
    if "as_of" in request.GET or "since" in request.GET:
        return claim_page_as_of(request, claim)
    return live_claim_page(request, claim)


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
        (_("Kind"), clinic.get_kind_display(), None),
        (_("City"), clinic.city or _("Not known"), None),
        (_("Country"), clinic.country.name if clinic.country else _("Not known"), None),
    ]
    if clinic.website:
        facts.append((_("Website"), clinic.website, clinic.website))
    return entity_page(request, clinic, "clinic", facts)


@public_page
def treatment_detail(request, slug):
    treatment = get_public_reference(request, Treatment.objects.select_related("source"), slug)
    facts = [
        (_("Route"), treatment.get_route_display(), None),
        (_("Exosome source"), treatment.source.name, treatment.source.get_absolute_url()),
        (_("Origin"), treatment.source.get_origin_display(), None),
    ]
    if treatment.combined_procedure:
        facts.append((_("Combined with"), treatment.combined_procedure, None))
    if treatment.product:
        facts.append((_("Product or brand"), treatment.product, None))
    statuses = treatment.regulatory_statuses.select_related("jurisdiction")
    return entity_page(request, treatment, "treatment", facts, statuses)


@public_page
def source_detail(request, slug):
    source = get_public_reference(request, ExosomeSource.objects.all(), slug)
    facts = [
        (_("Category"), source.get_category_display(), None),
        (_("Origin"), source.get_origin_display(), None),
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
            # One sentence names them all; a template loop cannot sit inside a translation.
            "tracked": ", ".join(j.name for j in Jurisdiction.objects.all()),
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
