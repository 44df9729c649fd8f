from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from claims.models import (
    Claim,
    ClaimStatusOverride,
    Clinic,
    EvidenceLevel,
    ExosomeSource,
    Origin,
    RegulatoryStatus,
    Route,
    SourceCategory,
    Status,
    Treatment,
)
from tests.conftest import (
    make_claim,
    make_clinic,
    make_evidence_level,
    make_override,
    make_source,
    make_status,
    make_treatment,
)

pytestmark = pytest.mark.django_db


class TestFlags:
    def test_it_inherits_the_treatments_status(self, fda, eu):
        treatment = make_treatment()
        make_status(treatment, fda, Status.NOT_APPROVED)
        make_status(treatment, eu, Status.PROHIBITED)
        claim = make_claim(treatment=treatment)

        flags = claim.flags([fda, eu])

        assert [(f.jurisdiction, f.status, f.overridden) for f in flags] == [
            (fda, Status.NOT_APPROVED, False),
            (eu, Status.PROHIBITED, False),
        ]
        assert flags[0].checked_on == date(2026, 11, 1)

    def test_it_prefers_the_claims_own_override(self, fda, eu):
        treatment = make_treatment()
        make_status(treatment, fda, Status.COSMETIC)
        make_status(treatment, eu, Status.COSMETIC)
        claim = make_claim(treatment=treatment)
        make_override(claim, fda, Status.NOT_APPROVED)

        fda_flag, eu_flag = claim.flags([fda, eu])

        assert fda_flag.status == Status.NOT_APPROVED
        assert fda_flag.overridden
        assert fda_flag.override_reason == "A disease claim makes this a drug."
        assert eu_flag.status == Status.COSMETIC
        assert not eu_flag.overridden

    def test_it_shows_not_assessed_without_a_status_row(self, fda, eu):
        treatment = make_treatment()
        make_status(treatment, fda, Status.NOT_APPROVED)
        claim = make_claim(treatment=treatment)

        fda_flag, eu_flag = claim.flags([fda, eu])

        assert eu_flag.status == Status.UNKNOWN
        assert eu_flag.status.label == "Not assessed"
        assert not eu_flag.overridden

    def test_it_filters_by_effective_status_in_sql(self, fda, eu):
        cosmetic = make_treatment()
        make_status(cosmetic, fda, Status.COSMETIC)
        inherited = make_claim(treatment=cosmetic)
        overridden = make_claim(treatment=cosmetic)
        make_override(overridden, fda, Status.NOT_APPROVED)
        unassessed = make_claim()

        def slugs(statuses):
            return set(Claim.objects.with_status_in(fda, statuses).values_list("slug", flat=True))

        assert slugs([Status.COSMETIC]) == {inherited.slug}
        assert slugs([Status.NOT_APPROVED]) == {overridden.slug}
        assert slugs([Status.UNKNOWN]) == {unassessed.slug}
        assert slugs([Status.COSMETIC, Status.UNKNOWN]) == {inherited.slug, unassessed.slug}

    def test_it_lists_flags_without_a_query_per_claim(self, fda, eu, django_assert_max_num_queries):
        for _ in range(30):
            make_claim()
        jurisdictions = [fda, eu]
        with django_assert_max_num_queries(6):
            rows = [c.flags(jurisdictions) for c in Claim.objects.for_display()]
        assert len(rows) == 30


class TestConstraints:
    def test_it_refuses_two_statuses_for_one_treatment_and_jurisdiction(self, fda):
        treatment = make_treatment()
        make_status(treatment, fda, Status.NOT_APPROVED)
        with pytest.raises(IntegrityError), transaction.atomic():
            make_status(treatment, fda, Status.COSMETIC)

    def test_it_explains_a_duplicate_status_to_editors(self, fda):
        treatment = make_treatment()
        make_status(treatment, fda, Status.NOT_APPROVED)
        duplicate = RegulatoryStatus(
            treatment=treatment,
            jurisdiction=fda,
            status=Status.COSMETIC,
            explanation="x",
            checked_on=date(2026, 1, 1),
        )
        with pytest.raises(ValidationError, match="already has a status"):
            duplicate.full_clean()

    @pytest.mark.parametrize("model_factory", [make_clinic, make_source, make_treatment])
    def test_it_refuses_duplicate_slugs(self, model_factory):
        first = model_factory()
        with pytest.raises(IntegrityError), transaction.atomic():
            model_factory(slug=first.slug)

    def test_it_refuses_a_duplicate_claim_slug(self, claim):
        with pytest.raises(IntegrityError), transaction.atomic():
            make_claim(slug=claim.slug, published=False)

    def test_it_refuses_a_published_claim_without_evidence_level(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            make_claim(published=False, evidence_level=None, state=Claim.State.PUBLISHED)

    def test_it_explains_a_published_claim_without_evidence_level(self):
        claim = make_claim(published=False, evidence_level=None)
        claim.state = Claim.State.PUBLISHED
        with pytest.raises(ValidationError, match="needs an evidence level"):
            claim.full_clean()

    def test_it_refuses_to_publish_without_a_citation(self):
        claim = make_claim(published=False, citations=0)
        with pytest.raises(ValidationError, match="at least one citation"):
            claim.publish()
        claim.refresh_from_db()
        assert claim.state == Claim.State.DRAFT

    def test_it_publishes_a_complete_claim_and_stamps_the_date(self):
        claim = make_claim(published=False)
        claim.publish()
        claim.refresh_from_db()
        assert claim.is_published()
        assert claim.published_at is not None

    def test_it_refuses_a_human_category_filed_under_another_origin(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            make_source(category=SourceCategory.HUMAN_PERINATAL, origin=Origin.PLANT)

    def test_it_explains_the_human_origin_rule(self):
        source = ExosomeSource(
            name="Placenta",
            slug="placenta",
            category=SourceCategory.HUMAN_PERINATAL,
            origin=Origin.ANIMAL,
        )
        with pytest.raises(ValidationError, match="human-derived category"):
            source.full_clean()

    def test_it_refuses_an_override_without_reason_or_source(self, claim, fda):
        with pytest.raises(IntegrityError), transaction.atomic():
            make_override(claim, fda, Status.NOT_APPROVED, reason="")

    def test_it_explains_an_override_without_a_source(self, claim, fda):
        incomplete = ClaimStatusOverride(
            claim=claim,
            jurisdiction=fda,
            status=Status.NOT_APPROVED,
            reason="Drug claim.",
            explanation="x",
            checked_on=date(2026, 1, 1),
        )
        with pytest.raises(ValidationError, match="Give the source"):
            incomplete.full_clean()


class TestProtect:
    def test_it_refuses_to_delete_a_clinic_with_claims(self, claim):
        with pytest.raises(ProtectedError):
            claim.clinic.delete()
        assert Clinic.objects.filter(pk=claim.clinic_id).exists()

    def test_it_refuses_to_delete_a_treatment_with_claims(self, claim):
        with pytest.raises(ProtectedError):
            claim.treatment.delete()
        assert Treatment.objects.filter(pk=claim.treatment_id).exists()

    def test_it_refuses_to_delete_a_source_used_by_treatments(self, claim):
        with pytest.raises(ProtectedError):
            claim.treatment.source.delete()

    def test_it_refuses_to_delete_an_evidence_level_in_use(self, claim):
        with pytest.raises(ProtectedError):
            claim.evidence_level.delete()

    def test_it_deletes_an_unused_clinic(self):
        clinic = make_clinic()
        clinic.delete()
        assert not Clinic.objects.filter(pk=clinic.pk).exists()

    def test_it_keeps_evidence_levels_ordered_by_strength(self):
        strong = make_evidence_level(rank=50)
        weak = make_evidence_level(rank=10)
        assert list(EvidenceLevel.objects.filter(pk__in=[strong.pk, weak.pk])) == [weak, strong]


def test_it_refuses_to_retract_a_draft(db):
    draft = make_claim(published=False)
    with pytest.raises(ValidationError, match="not published"):
        draft.retract()
    draft.refresh_from_db()
    assert draft.state == Claim.State.DRAFT


class TestLawfulCosmeticRule:
    """“Lawful cosmetic” only for a product put on intact skin, from a known non-human source,
    sold only to change appearance, with a source saying so (claims.models.cosmetic_problems)."""

    def plant_serum(self, **fields):
        source = make_source(category=SourceCategory.PLANT, origin=Origin.PLANT)
        return make_treatment(source=source, route=Route.TOPICAL_INTACT_SKIN, **fields)

    def status(self, treatment, jurisdiction, **fields):
        fields = {
            "explanation": "Sold to improve appearance.",
            "source_url": "https://example.org/cosmetics",
            "checked_on": date(2026, 11, 1),
            "appearance_claim": True,
            **fields,
        }
        return RegulatoryStatus(
            treatment=treatment, jurisdiction=jurisdiction, status=Status.COSMETIC, **fields
        )

    def test_it_accepts_a_sourced_appearance_serum_on_intact_skin(self, fda):
        self.status(self.plant_serum(), fda).full_clean()

    def test_it_refuses_a_cosmetic_applied_after_a_procedure(self, fda):
        treatment = self.plant_serum()
        treatment.route = Route.TOPICAL_POST_PROCEDURE
        treatment.save()

        with pytest.raises(ValidationError) as error:
            self.status(treatment, fda).full_clean()
        assert "intact skin" in str(error.value.message_dict["status"])

    def test_it_refuses_a_cosmetic_when_it_is_not_said_on_what_skin(self, fda):
        treatment = self.plant_serum(slug="plain-topical")
        treatment.route = Route.TOPICAL_NOT_STATED
        treatment.save()

        with pytest.raises(ValidationError) as error:
            self.status(treatment, fda).full_clean()
        assert "status" in error.value.message_dict

    @pytest.mark.parametrize("origin", [Origin.HUMAN, Origin.UNSPECIFIED])
    def test_it_refuses_a_cosmetic_from_a_human_or_unknown_source(self, fda, origin):
        category = (
            SourceCategory.HUMAN_STEM_CELL if origin == Origin.HUMAN else SourceCategory.UNSPECIFIED
        )
        source = make_source(category=category, origin=origin)
        treatment = make_treatment(source=source, route=Route.TOPICAL_INTACT_SKIN)

        with pytest.raises(ValidationError) as error:
            self.status(treatment, fda).full_clean()
        assert "non-human source" in str(error.value.message_dict["status"])

    def test_it_refuses_a_cosmetic_without_an_appearance_claim(self, fda):
        with pytest.raises(ValidationError) as error:
            self.status(self.plant_serum(), fda, appearance_claim=False).full_clean()
        assert "appearance_claim" in error.value.message_dict

    def test_it_refuses_a_cosmetic_without_a_source(self, fda):
        with pytest.raises(ValidationError) as error:
            self.status(self.plant_serum(), fda, source_url="").full_clean()
        assert "source_url" in error.value.message_dict

    def test_it_applies_the_rule_to_a_claims_override(self, fda):
        source = make_source(category=SourceCategory.UNSPECIFIED, origin=Origin.UNSPECIFIED)
        claim = make_claim(treatment=make_treatment(source=source))
        override = ClaimStatusOverride(
            claim=claim,
            jurisdiction=fda,
            status=Status.COSMETIC,
            reason="Sold for looks only.",
            explanation="A cosmetic.",
            source_url="https://example.org/cosmetics",
            checked_on=date(2026, 11, 1),
            appearance_claim=True,
        )

        with pytest.raises(ValidationError) as error:
            override.full_clean()
        assert "intact skin" in str(error.value.message_dict["status"])

    def test_it_lets_any_other_status_through_without_an_appearance_claim(self, fda):
        status = self.status(self.plant_serum(), fda, appearance_claim=False)
        status.status = Status.NOT_APPROVED
        status.full_clean()

    def test_it_refuses_an_unsourced_or_non_appearance_cosmetic_in_the_database(self, fda, eu):
        treatment = self.plant_serum()
        with pytest.raises(IntegrityError), transaction.atomic():
            self.status(treatment, fda, appearance_claim=False).save()
        with pytest.raises(IntegrityError), transaction.atomic():
            self.status(treatment, eu, source_url="").save()

    def test_it_refuses_a_cosmetic_override_without_an_appearance_claim_in_the_database(self, fda):
        claim = make_claim()
        with pytest.raises(IntegrityError), transaction.atomic():
            make_override(claim, fda, Status.COSMETIC, appearance_claim=False)

    def test_it_refuses_a_new_route_that_would_break_a_cosmetic_status(self, fda):
        treatment = self.plant_serum()
        self.status(treatment, fda).save()
        treatment.route = Route.INTRADERMAL_INJECTION

        with pytest.raises(ValidationError) as error:
            treatment.full_clean()
        assert "intact skin" in str(error.value)


def test_it_keeps_one_data_version_row(db):
    from django.db import IntegrityError, transaction

    from claims.models import DataVersion

    with pytest.raises(IntegrityError), transaction.atomic():
        DataVersion.objects.create(pk=2, version="abc")


def test_it_bumps_the_data_version_in_the_database_with_the_edit(claim):
    from claims.data_version import data_version
    from claims.models import DataVersion

    before = DataVersion.objects.get().version
    claim.title = "Retitled"
    claim.save()

    assert DataVersion.objects.get().version != before
    assert data_version() == DataVersion.objects.get().version
