"""The seed fixture: it loads, reloads without duplicating anything, and says nothing that the
project's fact sheet does not support."""

import json
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse

from claims.history import FIXTURE_REASON
from claims.models import (
    Citation,
    Claim,
    ClaimStatusOverride,
    Clinic,
    Conference,
    EvidenceLevel,
    ExosomeSource,
    Jurisdiction,
    RegulatoryStatus,
    Route,
    Status,
    Treatment,
)

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seed.json"
# CI keeps the shared reference beside the clone: ../shared/reference/exosome-facts.md.
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
FACT_SHEET = REFERENCE / "exosome-facts.md"
ARTICLE = REFERENCE / "source-article.txt"
JURISDICTIONS = ["fda", "eu", "gb", "kr", "tw", "ph"]

URL = re.compile(r"https?://[^\s<>\"'()\[\]]+")
URL_FIELDS = {"url", "source_url", "website"}
# Weakest first. A claim without data ranks below lab work (which at least shows a mechanism);
# an effect shown of unknown design is placed no higher than "something was shown".
EVIDENCE_SCALE = [
    "expert-opinion",
    "effect-shown-design-unknown",
    "in-vitro",
    "animal",
    "case-report",
    "case-series",
    "clinical-comparison-design-unknown",
    "controlled-nonrandomised",
    "rct",
    "systematic-review",
]
# What the write-up says was shown, in its words, and the level that records it.
SHOWN = {
    "showed data from his clinic": "case-series",
    "clinical study comparing": "clinical-comparison-design-unknown",
    "In-vitro studies have shown": "in-vitro",
    "showcased the effect": "effect-shown-design-unknown",
    "showcased the clinical effect": "effect-shown-design-unknown",
    "highlighting the effect": "effect-shown-design-unknown",
    "Talks on elucidating": "effect-shown-design-unknown",
    "described the use": "expert-opinion",
    "showed the injection": "expert-opinion",
    "promoting a DIY device": "expert-opinion",
}
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
    assert Jurisdiction.objects.count() == len(JURISDICTIONS)
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


def test_it_seeds_six_jurisdictions_and_the_ten_step_evidence_scale(seeded):
    # Great Britain, South Korea, Taiwan and the Philippines came with issue 12: the fact
    # sheet covers them, and the write-up names a London and a Philippine clinic.
    assert list(Jurisdiction.objects.values_list("code", "position")) == [
        (code, position) for position, code in enumerate(JURISDICTIONS, start=1)
    ]
    assert list(EvidenceLevel.objects.values_list("code", flat=True)) == EVIDENCE_SCALE
    assert list(EvidenceLevel.objects.values_list("rank", flat=True)) == list(range(1, 11))


def test_it_names_only_real_ocebm_levels_in_a_consistent_order(seeded):
    # OCEBM 2011 has L1 to L5 and nothing "below L4"; a stronger rank never maps to a
    # weaker OCEBM level than a weaker rank does.
    numbers = []
    for level in EvidenceLevel.objects.all():
        assert "below" not in level.ocebm_equivalent.lower(), level.code
        assert level.definition, level.code
        found = re.findall(r"\bL(\d)\b", level.ocebm_equivalent)
        assert all(1 <= int(n) <= 5 for n in found), level.code
        if found:
            numbers.append(int(found[0]))
    assert numbers == sorted(numbers, reverse=True)


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
        ) == sorted(JURISDICTIONS), claim.slug


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
        assert [flag.jurisdiction.code for flag in flags] == JURISDICTIONS, claim.slug
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


def test_it_rates_each_claim_by_what_its_passage_says_was_shown(seeded):
    # Issue 12: "showed data from his clinic" had become "no results were reported", and a
    # clinical study with a result "no study design". The words decide the level.
    for claim in Claim.objects.select_related("evidence_level"):
        expected = {level for words, level in SHOWN.items() if words in claim.quote}
        assert len(expected) == 1, claim.slug
        assert claim.evidence_level.code == expected.pop(), claim.slug


def test_it_rates_no_claim_above_what_the_write_up_shows(seeded):
    # The write-up reports no trial with a known design.
    ceiling = EvidenceLevel.objects.get(code="clinical-comparison-design-unknown").rank
    for claim in Claim.objects.select_related("evidence_level"):
        assert claim.evidence_level.rank <= ceiling, claim.slug


def test_it_says_in_plain_words_what_is_unverified_on_every_clinic_level_claim(seeded):
    checked = []
    for claim in Claim.objects.select_related("clinic", "treatment"):
        text = " ".join(
            [claim.title, claim.statement, claim.context_note, claim.clinic.name]
            + [claim.treatment.name]
        ).lower()
        if any(word in text for word in CLINIC_LEVEL_WORDS):
            checked.append(claim.slug)
            assert claim.unverified, claim.slug
        # Once, in plain words, on the page: not as a capitalised research note.
        assert "UNVERIFIED" not in claim.context_note, claim.slug
    assert len(checked) >= 5


def test_it_quotes_for_every_claim_a_passage_found_word_for_word_in_its_source():
    if not (ARTICLE.exists() and FACT_SHEET.exists()):
        pytest.skip(f"reference texts not found in {REFERENCE}")

    # Word for word; runs of white space (the article has no-break spaces) count as one space.
    def words(text):
        return " ".join(text.split())

    sources = words(ARTICLE.read_text(encoding="utf-8") + FACT_SHEET.read_text(encoding="utf-8"))
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    claims = [entry["fields"] for entry in seed if entry["model"] == "claims.claim"]
    assert claims
    for claim in claims:
        assert claim["quote"], claim["slug"]
        assert claim["quote_source"], claim["slug"]
        assert words(claim["quote"]) in sources, claim["slug"]


def test_it_keeps_the_articles_words_for_what_it_reports(seeded):
    # "European" had become "EU", "any bodily fluids" "a person's own body fluids", "a
    # clinic described" "Talks".
    words = " ".join(
        f"{claim.title} {claim.statement} {claim.clinic.name} {claim.treatment.description}"
        for claim in Claim.objects.select_related("clinic", "treatment")
    )
    for wrong in ("EU clinics", "own body fluids", "home device", "UV-B damage, reversed"):
        assert wrong not in words
    diy = Claim.objects.get(slug="diy-device-body-fluid-exosomes")
    assert "any bodily fluids" in diy.statement
    assert "European" in Claim.objects.get(slug="us-eu-clinics-topical-exosomes-with-laser").title
    assert Claim.objects.get(slug="laser-resurfacing-exosomes-age-reversal").statement.startswith(
        "A clinic described"
    )


def test_it_files_each_actor_of_the_write_up_apart(seeded):
    # Six speakers, clinics and a study were once filed under one "Unnamed IMCAS presenter":
    # a clinic's claims must all come from one passage of the write-up.
    for clinic in Clinic.objects.all():
        quotes = set(Claim.objects.filter(clinic=clinic).values_list("quote", flat=True))
        assert len(quotes) <= 1, clinic.slug


def test_it_attributes_the_authors_own_statements_to_the_write_up(seeded):
    # The in-vitro paragraph is the author's own review of the literature, not a talk.
    claim = Claim.objects.select_related("clinic").get(
        slug="in-vitro-uvb-protection-fibroblast-senescence"
    )
    assert claim.clinic.slug == "mitra-bio"
    assert claim.conference is None
    assert "talk" not in claim.statement.lower()
    assert "stem" not in claim.statement.lower()


def test_it_marks_interpretations_as_interpretations(seeded):
    stated_as_fact = re.compile(
        r"\b(is|are) (a drug claim|an unapproved drug)|is not a cosmetic|if used to treat"
    )
    texts = [
        *RegulatoryStatus.objects.values_list("explanation", flat=True),
        *ClaimStatusOverride.objects.values_list("explanation", flat=True),
        *ClaimStatusOverride.objects.values_list("reason", flat=True),
        *Claim.objects.values_list("context_note", flat=True),
    ]
    for text in texts:
        assert not stated_as_fact.search(text), text


def test_it_rests_eu_and_gb_injection_flags_on_cosmetics_law_itself(seeded):
    # Injection is outside cosmetics law by Art. 2(1)(a), in EUR-Lex and its British copy,
    # not in a citation index's record of a review.
    injected = [route for route in Route if route.is_injection]
    statuses = RegulatoryStatus.objects.filter(treatment__route__in=injected)
    assert statuses.filter(jurisdiction__code="eu").exists()
    for status in statuses.filter(jurisdiction__code="eu"):
        assert status.source_url == "https://eur-lex.europa.eu/eli/reg/2009/1223/oj"
    for status in statuses.filter(jurisdiction__code="gb"):
        assert "legislation.gov.uk" in status.source_url
    assert not RegulatoryStatus.objects.filter(source_url__contains="ouci.dntb.gov.ua").exists()


def test_it_prohibits_only_what_a_source_bans(seeded):
    # Annex II/416 bans human material in cosmetics; MFDS bans injecting cosmetic exosomes.
    for status in RegulatoryStatus.objects.filter(status=Status.PROHIBITED).select_related(
        "treatment__source", "jurisdiction"
    ):
        if status.jurisdiction.code in {"eu", "gb"}:
            assert status.treatment.source.origin == "human", status
            assert not Route(status.treatment.route).is_injection, status
        else:
            assert status.jurisdiction.code == "kr", status
            assert Route(status.treatment.route).is_injection, status


def test_it_calls_nothing_a_lawful_cosmetic_that_the_facts_do_not_make_one(seeded):
    # The hybrosome and the topical-after-laser treatments were once "Lawful cosmetic".
    for status in [*RegulatoryStatus.objects.all(), *ClaimStatusOverride.objects.all()]:
        treatment = getattr(status, "treatment", None) or status.claim.treatment
        assert status.cosmetic_problems(treatment) == {}, status
    for slug in ("us-eu-clinics-topical-exosomes-with-laser", "hybrosome-vs-retinol-wrinkles"):
        fda = Jurisdiction.objects.get(code="fda")
        assert Claim.objects.get(slug=slug).flags([fda])[0].status != Status.COSMETIC


def test_it_gives_sources_their_real_titles(seeded):
    write_ups = Citation.objects.filter(kind=Citation.Kind.WRITE_UP)
    assert set(write_ups.values_list("title", flat=True)) == {"Exosomes: the next “small” thing?"}
    for title in Citation.objects.values_list("title", flat=True):
        assert "fact sheet" not in title.lower()
        assert "as cited" not in title.lower()


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


def test_it_covers_the_articles_broader_claims(seeded):
    injected = Claim.objects.get(slug="many-clinics-intradermal-human-derived-exosomes")
    assert injected.treatment.source.origin == "human"
    assert Route(injected.treatment.route).is_injection
    topical = Claim.objects.filter(quote__contains="skin tightening and wound healing")
    human = topical.get(treatment__source__origin="human")
    eu = Jurisdiction.objects.get(code="eu")
    # The human-derived topical use is what Annex II/416 bans.
    assert human.flags([eu])[0].status == Status.PROHIBITED
    assert topical.count() == 2


def test_it_says_what_is_unverified_once_in_plain_words_on_every_claim_page(client, seeded):
    for claim in Claim.objects.all():
        body = client.get(claim.get_absolute_url()).text.split("<body", 1)[1]

        assert "UNVERIFIED" not in body, claim.slug
        assert body.count("We found no independent source for") == 1, claim.slug
        assert f"“{claim.quote}”" in body, claim.slug


def test_it_suggests_searches_in_the_search_boxes_that_find_claims(client, seeded):
    for url in [reverse("claims:home"), reverse("claims:list")]:
        placeholder = re.search(r'placeholder="e\.g\. ([^"]+)"', client.get(url).text)[1]
        for example in placeholder.split(", "):
            found = client.get(reverse("claims:list"), {"q": example}).text
            assert "<h1" in found and ">0 claims" not in found, (url, example)


def test_it_respells_the_misspellings_readers_make_of_the_seeds_words(client, seeded):
    for typed, meant in [("acen", "acne"), ("hiar", "hair"), ("eczma", "eczema")]:
        response = client.get(reverse("claims:list"), {"q": typed})
        assert f'Did you mean <a href="/claims/?q={meant}">{meant}</a>?' in response.text
