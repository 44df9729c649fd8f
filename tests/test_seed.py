"""The seed fixture: it loads, reloads without duplicating anything, and says nothing that the
project's fact sheet does not support."""

import json
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

from claims.history import FIXTURE_REASON
from claims.models import (
    Claim,
    ClaimStatusOverride,
    Conference,
    EvidenceLevel,
    ExosomeSource,
    Jurisdiction,
    RegulatoryStatus,
    Status,
    Treatment,
)

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seed.json"
# CI keeps the shared reference beside the clone: ../shared/reference/exosome-facts.md.
FACT_SHEET = Path(__file__).resolve().parents[2] / "shared" / "reference" / "exosome-facts.md"

URL = re.compile(r"https?://[^\s<>\"'()\[\]]+")
URL_FIELDS = {"url", "source_url", "website"}
EVIDENCE_SCALE = [
    "in-vitro",
    "animal",
    "expert-opinion",
    "case-report",
    "case-series",
    "controlled-nonrandomised",
    "rct",
    "systematic-review",
]
# Claims the fact sheet calls clinic-level and UNVERIFIED beyond the write-up.
CLINIC_LEVEL_WORDS = ("hybrosome", "london", "philippine", "diy", "do-it-yourself", "microneedling")
DISEASE_INDICATIONS = {"acne-scars", "eczema", "scars", "hair-loss"}


def load_seed():
    call_command("loaddata", str(SEED), verbosity=0)


@pytest.fixture
def seeded(db):
    load_seed()


def curated_models(include_auto_created=False):
    """Every model of the claims app, without django-simple-history's shadow tables."""
    return [
        model
        for model in apps.get_app_config("claims").get_models(
            include_auto_created=include_auto_created
        )
        if not model.__name__.startswith("Historical")
    ]


def row_counts():
    return {model.__name__: model.objects.count() for model in curated_models(True)}


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def urls_in(text):
    return {match.rstrip(".,;:") for match in URL.findall(text)}


def test_it_loads_the_seed(seeded):
    assert Jurisdiction.objects.count() == 2
    assert Claim.objects.count() >= 12
    assert Treatment.objects.count() >= 8


def test_it_leaves_every_row_count_unchanged_when_loaded_twice(seeded):
    counts = row_counts()
    keys = {
        model.__name__: sorted(obj.natural_key() for obj in model.objects.all())
        for model in curated_models()
        if hasattr(model, "natural_key")
    }

    load_seed()

    assert row_counts() == counts
    assert {
        model.__name__: sorted(obj.natural_key() for obj in model.objects.all())
        for model in curated_models()
        if hasattr(model, "natural_key")
    } == keys
    # Revisions are editors' work, never seeded.
    unseeded = {"Presentation", "ClaimRevision", "StatusRevision"}
    assert all(count > 0 for name, count in counts.items() if name not in unseeded)


def test_it_records_each_load_of_a_claim_once_with_its_indications(seeded):
    load_seed()

    for claim in Claim.objects.prefetch_related("indications"):
        records = list(claim.history.order_by("history_id"))
        assert [(r.history_type, r.history_change_reason) for r in records] == [
            ("+", FIXTURE_REASON),
            ("~", FIXTURE_REASON),
        ]
        indications = sorted(indication.pk for indication in claim.indications.all())
        for record in records:
            assert sorted(record.indications.values_list("indication_id", flat=True)) == (
                indications
            )


def test_it_updates_an_edited_row_instead_of_adding_one(seeded):
    claim = Claim.objects.get(slug="hybrosome-vs-retinol-wrinkles")
    title = claim.title
    Claim.objects.filter(pk=claim.pk).update(title="Edited by hand")

    load_seed()

    assert Claim.objects.get(slug="hybrosome-vs-retinol-wrinkles").title == title
    assert Claim.objects.get(slug="hybrosome-vs-retinol-wrinkles").pk == claim.pk


def test_it_seeds_both_jurisdictions_and_the_eight_step_evidence_scale(seeded):
    assert list(Jurisdiction.objects.values_list("code", "short_label", "position")) == [
        ("fda", "FDA", 1),
        ("eu", "EU", 2),
    ]
    assert list(EvidenceLevel.objects.values_list("code", flat=True)) == EVIDENCE_SCALE
    assert list(EvidenceLevel.objects.values_list("rank", flat=True)) == list(range(1, 9))


def test_it_gives_every_published_claim_citations_evidence_and_both_statuses(seeded):
    claims = Claim.objects.published()
    assert claims.count() == Claim.objects.count()
    for claim in claims:
        kinds = list(claim.citations.values_list("kind", flat=True))
        assert len(kinds) >= 2, claim.slug
        assert "write-up" in kinds, claim.slug
        assert "regulator-notice" in kinds, claim.slug
        assert claim.evidence_level is not None, claim.slug
        assert claim.publication_problems() == [], claim.slug
        assert sorted(
            claim.treatment.regulatory_statuses.values_list("jurisdiction__code", flat=True)
        ) == ["eu", "fda"], claim.slug


def test_it_orders_each_claims_citations_from_zero(seeded):
    for claim in Claim.objects.all():
        positions = list(claim.citations.values_list("position", flat=True))
        assert positions == list(range(len(positions))), claim.slug


def test_it_never_flags_anything_approved(seeded):
    assert not RegulatoryStatus.objects.filter(status=Status.APPROVED).exists()
    assert not ClaimStatusOverride.objects.filter(status=Status.APPROVED).exists()
    jurisdictions = list(Jurisdiction.objects.all())
    for claim in Claim.objects.all():
        assert Status.APPROVED not in [flag.status for flag in claim.flags(jurisdictions)]


def test_it_gives_every_claim_a_sourced_flag_per_jurisdiction(seeded):
    jurisdictions = list(Jurisdiction.objects.all())
    for claim in Claim.objects.for_display():
        flags = claim.flags(jurisdictions)
        assert [flag.jurisdiction.code for flag in flags] == ["fda", "eu"], claim.slug
        for flag in flags:
            # A flag with no row behind it has no date, source or explanation.
            assert flag.checked_on is not None, claim.slug
            assert flag.source_url, claim.slug
            assert flag.explanation, claim.slug


def test_it_never_shows_a_disease_claim_as_a_us_cosmetic(seeded):
    fda = Jurisdiction.objects.get(code="fda")
    claims = Claim.objects.filter(indications__slug__in=DISEASE_INDICATIONS).distinct()
    assert claims.exists()
    for claim in claims:
        assert claim.flags([fda])[0].status == Status.NOT_APPROVED, claim.slug


def test_it_rates_no_claim_above_what_a_talk_shows(seeded):
    # The write-up reports talks and clinic claims; none came with trial data.
    ceiling = EvidenceLevel.objects.get(code="expert-opinion").rank
    for claim in Claim.objects.select_related("evidence_level"):
        assert claim.evidence_level.rank <= ceiling, claim.slug


def test_it_says_unverified_on_every_clinic_level_claim(seeded):
    checked = []
    for claim in Claim.objects.select_related("clinic", "treatment"):
        text = " ".join(
            [claim.title, claim.statement, claim.context_note, claim.clinic.name]
            + [claim.treatment.name]
        ).lower()
        if any(word in text for word in CLINIC_LEVEL_WORDS):
            checked.append(claim.slug)
            assert "unverified" in claim.context_note.lower(), claim.slug
    assert len(checked) >= 5


def test_it_says_the_conference_dates_and_hybrosome_are_unverified(seeded):
    assert "UNVERIFIED" in Conference.objects.get(slug="imcas-2024").dates_note
    assert "UNVERIFIED" in ExosomeSource.objects.get(slug="calf-blood-hybrosome").description


def test_it_only_uses_urls_from_the_fact_sheet():
    if not FACT_SHEET.exists():
        pytest.skip(f"fact sheet not found at {FACT_SHEET}")
    allowed = urls_in(FACT_SHEET.read_text(encoding="utf-8"))
    seed = json.loads(SEED.read_text(encoding="utf-8"))

    used = set().union(*(urls_in(text) for text in strings_in(seed)))
    url_values = {
        value
        for entry in seed
        for field, value in entry["fields"].items()
        if field in URL_FIELDS and value
    }

    assert used
    assert used - allowed == set()
    assert url_values - allowed == set()


def test_it_passes_full_clean_on_every_seeded_row(seeded):
    for model in curated_models():
        for obj in model.objects.all():
            obj.full_clean()
