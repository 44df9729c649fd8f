"""generate_claims: synthetic, clearly marked, plausible, deterministic, and replaceable."""

from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from claims.data_version import data_version
from claims.models import (
    Claim,
    ClaimStatusOverride,
    Clinic,
    EvidenceLevel,
    Jurisdiction,
    RegulatoryStatus,
    Status,
)
from claims.search import search

pytestmark = pytest.mark.django_db

COUNT = 300


def generate(count=COUNT, *args):
    call_command("generate_claims", "--count", str(count), "--seed", "1", *args, verbosity=0)
    return Claim.objects.filter(slug__startswith="syn-")


def test_it_creates_the_claims_asked_for_and_loads_the_curated_vocabulary_it_needs():
    claims = generate()

    assert claims.count() == COUNT
    assert EvidenceLevel.objects.count() == 10  # from the seed fixture (issue 12: ten steps)
    assert Jurisdiction.objects.filter(code__in=["fda", "eu"]).count() == 2


def test_it_marks_everything_it_invents_as_synthetic():
    claims = generate()

    assert all(claim.title.startswith("Synthetic: ") for claim in claims)
    assert all("SYNTHETIC" in claim.context_note for claim in claims)
    clinics = Clinic.objects.filter(slug__startswith="syn-")
    assert clinics.count() >= 100
    assert all(c.name.startswith("Synthetic clinic ") for c in clinics)
    assert all(c.note == "Synthetic benchmark data" for c in clinics)
    assert all(url.startswith("https://example.org/synthetic/") for url in _citation_urls(claims))


def _citation_urls(claims):
    return [citation.url for claim in claims for citation in claim.citations.all()]


def test_it_spreads_claims_over_many_clinics_countries_and_treatments():
    claims = generate()

    assert claims.values("clinic").distinct().count() >= 100
    assert claims.values("clinic__country").distinct().count() >= 20
    assert claims.values("treatment").distinct().count() >= 30
    assert claims.values("indications").distinct().count() >= 15


def test_it_uses_every_evidence_level_and_mostly_weak_ones():
    claims = generate().filter(evidence_level__isnull=False)

    levels = Counter(claims.values_list("evidence_level__code", flat=True))

    assert set(levels) == set(EvidenceLevel.objects.values_list("code", flat=True))
    assert levels.most_common(1)[0][0] == "expert-opinion"
    assert levels["case-series"] > levels["rct"] > levels["systematic-review"]


def test_it_publishes_most_claims_and_keeps_some_drafts_and_retractions():
    states = Counter(generate().values_list("state", flat=True))

    assert 0.8 < states[Claim.State.PUBLISHED] / COUNT < 0.95
    assert states[Claim.State.DRAFT] and states[Claim.State.IN_REVIEW]
    assert states[Claim.State.RETRACTED]


def test_every_public_claim_has_a_citation_an_evidence_level_and_a_date():
    public = generate().filter(state__in=[Claim.State.PUBLISHED, Claim.State.RETRACTED])

    assert not public.filter(citations__isnull=True).exists()
    assert not public.filter(evidence_level__isnull=True).exists()
    assert not public.filter(published_at__isnull=True).exists()


def test_it_gives_every_synthetic_treatment_a_status_in_every_jurisdiction():
    generate()
    treatments = RegulatoryStatus.objects.filter(treatment__slug__startswith="syn-")

    statuses = Counter(treatments.values_list("jurisdiction__code", "status"))

    assert treatments.count() == 60 * Jurisdiction.objects.count()
    assert statuses[("fda", Status.NOT_APPROVED)] and statuses[("fda", Status.COSMETIC)]
    assert statuses[("eu", Status.PROHIBITED)]
    assert ClaimStatusOverride.objects.filter(claim__slug__startswith="syn-").exists()


def test_it_writes_a_search_document_that_search_finds():
    claim = generate().filter(state=Claim.State.PUBLISHED).select_related("clinic").first()
    city = claim.clinic.city.split()[0]

    assert claim.clinic.name in claim.search_document
    assert claim.statement in claim.search_document
    found = search(Claim.objects.published(), f"synthetic {city}")
    assert claim in found


def test_it_makes_the_same_claims_from_the_same_seed():
    first = list(generate().order_by("slug").values_list("slug", "title", "statement"))

    again = list(
        generate(COUNT, "--replace").order_by("slug").values_list("slug", "title", "statement")
    )

    assert again == first


def test_it_replaces_earlier_synthetic_rows_and_leaves_curated_ones_alone():
    generate()
    curated = Claim.objects.exclude(slug__startswith="syn-").count()

    claims = generate(50, "--replace")

    assert claims.count() == 50
    assert Claim.objects.exclude(slug__startswith="syn-").count() == curated > 0
    assert Clinic.objects.filter(slug__startswith="syn-").count() == 400


def test_it_refuses_to_add_a_second_set_without_replace():
    generate(10)

    with pytest.raises(CommandError, match="--replace"):
        generate(10)


def test_it_makes_cached_pages_stale():
    before = data_version()

    generate(10)

    assert data_version() != before


def test_it_invents_no_lawful_cosmetic_the_cosmetic_rule_would_refuse():
    generate()

    for status in RegulatoryStatus.objects.filter(status=Status.COSMETIC).select_related(
        "treatment__source"
    ):
        assert status.cosmetic_problems(status.treatment) == {}, status
