"""What Claimwatch curates: where claims were made, who made them, about which treatment, how
strong the evidence is, and how each jurisdiction's regulator treats that treatment."""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from claims.facets import is_reserved_parameter, reserved_parameters


class BySlugQuerySet(models.QuerySet):
    """Fixtures refer to rows by slug, so loading the seed twice updates rows instead of
    duplicating them, whatever primary keys the database handed out."""

    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class SluggedModel(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True, help_text=_("Used in URLs. Never reuse."))

    objects = BySlugQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)


# --- Vocabulary -------------------------------------------------------------------------------


class Route(models.TextChoices):
    TOPICAL_INTACT_SKIN = "topical-intact-skin", _("Topical, on intact skin")
    # Our source often says only "topical": on intact skin, on a wound or after a procedure is
    # then not known, and only intact skin can make a product a lawful cosmetic.
    TOPICAL_NOT_STATED = "topical", _("Topical (on what skin is not stated)")
    TOPICAL_POST_PROCEDURE = (
        "topical-post-procedure",
        _("Topical, after a procedure (laser, microneedling, RF microneedling)"),
    )
    INTRADERMAL_INJECTION = "intradermal-injection", _("Intradermal injection")
    SUBCUTANEOUS_INJECTION = "subcutaneous-injection", _("Subcutaneous injection")
    INTRAVENOUS = "intravenous", _("Intravenous")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")

    @property
    def is_injection(self):
        return self in {
            Route.INTRADERMAL_INJECTION,
            Route.SUBCUTANEOUS_INJECTION,
            Route.INTRAVENOUS,
        }


class Origin(models.TextChoices):
    HUMAN = "human", _("Human-derived")
    ANIMAL = "animal", _("Animal-derived")
    PLANT = "plant", _("Plant-derived")
    MICROBIAL = "microbial", _("Microbial")
    SYNTHETIC = "synthetic", _("Synthetic or hybrid")
    UNSPECIFIED = "unspecified", _("Origin unspecified")


class SourceCategory(models.TextChoices):
    HUMAN_STEM_CELL = "human-stem-cell", _("Human stem cell (adipose, bone marrow, umbilical cord)")
    HUMAN_PERINATAL = "human-perinatal", _("Human perinatal (placenta, amnion, cord blood)")
    HUMAN_BLOOD_PLATELET = "human-blood-platelet", _("Human blood or platelet")
    HUMAN_BODY_FLUID = "human-body-fluid", _("Human body fluid (saliva, urine, breast milk)")
    AUTOLOGOUS = "autologous", _("Autologous (the patient's own)")
    ANIMAL = "animal", _("Animal (bovine, porcine, fish…)")
    PLANT = "plant", _("Plant")
    MICROBIAL = "microbial", _("Microbial")
    HYBRID_SYNTHETIC = "hybrid-synthetic", _("Hybrid or synthetic (e.g. exosome-liposome)")
    UNSPECIFIED = "unspecified", _("Unspecified")

    @classmethod
    def human(cls):
        return [
            cls.HUMAN_STEM_CELL,
            cls.HUMAN_PERINATAL,
            cls.HUMAN_BLOOD_PLATELET,
            cls.HUMAN_BODY_FLUID,
            cls.AUTOLOGOUS,
        ]


class Status(models.TextChoices):
    """How a regulator treats a treatment. The order is from most to least reassuring; the
    flag colours follow it. Unknown is never shown as approved."""

    APPROVED = "approved", _("Approved")
    COSMETIC = "cosmetic", _("Lawful cosmetic (no pre-market review)")
    CONDITIONAL = "conditional", _("Conditionally allowed")
    INVESTIGATIONAL = "investigational", _("Investigational only")
    NOT_APPROVED = "not-approved", _("Not approved")
    PROHIBITED = "prohibited", _("Prohibited")
    UNKNOWN = "unknown", _("Not assessed")

    @property
    def icon(self):
        return {
            Status.APPROVED: "✓",
            Status.COSMETIC: "◐",
            Status.CONDITIONAL: "◐",
            Status.INVESTIGATIONAL: "⚠",
            Status.NOT_APPROVED: "✕",
            Status.PROHIBITED: "⊘",
            Status.UNKNOWN: "?",
        }[self]

    @property
    def meaning(self):
        return {
            Status.APPROVED: _("Authorised for this product, indication and route."),
            Status.COSMETIC: _(
                "Sold lawfully as a cosmetic: put on intact skin, from a known non-human "
                "source, sold only to change appearance, with a source saying so. No "
                "regulator reviewed its safety or efficacy before sale."
            ),
            Status.CONDITIONAL: _("Allowed under national standards or case-by-case review."),
            Status.INVESTIGATIONAL: _("Lawful only inside an authorised clinical trial."),
            Status.NOT_APPROVED: _(
                "Falls under drug, biologic or medicine rules, with no authorisation."
            ),
            Status.PROHIBITED: _("Expressly banned for this use."),
            Status.UNKNOWN: _("We have no reliable source yet. This does not mean approved."),
        }[self]


# --- Where claims were made -----------------------------------------------------------------


class Conference(SluggedModel):
    city = models.CharField(max_length=100, blank=True)
    country = CountryField(blank=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    dates_note = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("Say here when the dates or venue are unverified."),
    )
    url = models.URLField(blank=True)

    history = HistoricalRecords()

    class Meta(SluggedModel.Meta):
        verbose_name = _("conference")
        verbose_name_plural = _("conferences")
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                name="conference_ends_after_it_starts",
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
            )
        ]

    def clean(self):
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("A conference cannot end before it starts.")})


class Presentation(models.Model):
    conference = models.ForeignKey(
        Conference, on_delete=models.PROTECT, related_name="presentations"
    )
    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=300)
    speaker = models.CharField(max_length=200, blank=True, help_text=_("Leave blank when unnamed."))
    affiliation = models.CharField(max_length=200, blank=True)
    given_on = models.DateField(null=True, blank=True)
    url = models.URLField(blank=True)

    objects = BySlugQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("presentation")
        verbose_name_plural = _("presentations")
        ordering = ["conference", "given_on", "title"]

    def __str__(self):
        return self.title

    def natural_key(self):
        return (self.slug,)


# --- Who made them, about what ----------------------------------------------------------------


class Clinic(SluggedModel):
    class Kind(models.TextChoices):
        CLINIC = "clinic", _("Clinic")
        COMPANY = "company", _("Company")
        RESEARCH_GROUP = "research-group", _("Research group")
        UNKNOWN = "unknown", _("Unknown")

    kind = models.CharField(max_length=20, choices=Kind, default=Kind.CLINIC)
    city = models.CharField(max_length=100, blank=True)
    country = CountryField(blank=True, help_text=_("ISO 3166-1 alpha-2. Blank when unknown."))
    website = models.URLField(blank=True)
    note = models.TextField(
        blank=True, help_text=_("e.g. why the clinic is unnamed in our source.")
    )

    history = HistoricalRecords()

    class Meta(SluggedModel.Meta):
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")

    def get_absolute_url(self):
        return reverse("claims:clinic", args=[self.slug])


class ExosomeSource(SluggedModel):
    category = models.CharField(max_length=30, choices=SourceCategory)
    origin = models.CharField(
        max_length=20,
        choices=Origin,
        help_text=_("Grouping readers filter on. Human categories must be of human origin."),
    )
    description = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta(SluggedModel.Meta):
        verbose_name = _("exosome source")
        verbose_name_plural = _("exosome sources")
        constraints = [
            # Readers filter "human-derived" to find what EU Annex II/416 bans in cosmetics;
            # a human source filed under another origin would hide it from them.
            models.CheckConstraint(
                name="exosomesource_human_category_has_human_origin",
                condition=~Q(category__in=SourceCategory.human()) | Q(origin=Origin.HUMAN),
            )
        ]

    def get_absolute_url(self):
        return reverse("claims:source", args=[self.slug])

    def clean(self):
        if self.category in SourceCategory.human() and self.origin != Origin.HUMAN:
            raise ValidationError(
                {"origin": _("A human-derived category must have the origin “Human-derived”.")}
            )


class Indication(SluggedModel):
    history = HistoricalRecords()

    class Meta(SluggedModel.Meta):
        verbose_name = _("indication")
        verbose_name_plural = _("indications")


class TreatmentQuerySet(BySlugQuerySet):
    def due_for_recheck(self, today=None):
        """Treatments with a regulatory status nobody has re-checked for over 12 months."""
        stale = RegulatoryStatus.objects.due_for_recheck(today).filter(treatment=OuterRef("pk"))
        return self.filter(Exists(stale))


class Treatment(SluggedModel):
    source = models.ForeignKey(ExosomeSource, on_delete=models.PROTECT, related_name="treatments")
    route = models.CharField(max_length=30, choices=Route, default=Route.UNKNOWN)
    combined_procedure = models.CharField(
        max_length=200, blank=True, help_text=_("e.g. fractional CO2 laser, RF microneedling.")
    )
    product = models.CharField(
        max_length=200, blank=True, help_text=_("Product or brand, if known.")
    )
    description = models.TextField(blank=True)

    objects = TreatmentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta(SluggedModel.Meta):
        verbose_name = _("treatment")
        verbose_name_plural = _("treatments")

    def get_absolute_url(self):
        return reverse("claims:treatment", args=[self.slug])

    def clean(self):
        # A new route or source must not leave a “Lawful cosmetic” the rule would refuse.
        if self.pk is None or self.source_id is None:
            return
        for record in self.regulatory_statuses.filter(status=Status.COSMETIC):
            problem = record.cosmetic_problems(self).get("status")
            if problem:
                raise ValidationError(
                    _("%(jurisdiction)s: %(problem)s Change that status first.")
                    % {"jurisdiction": record.jurisdiction, "problem": problem}
                )


# --- Evidence and regulation --------------------------------------------------------------------


class EvidenceLevelQuerySet(models.QuerySet):
    def get_by_natural_key(self, code):
        return self.get(code=code)


class EvidenceLevel(models.Model):
    """One step of the evidence scale. Curated data: the scale lives in the seed, not in code."""

    code = models.SlugField(max_length=40, unique=True, help_text=_("Used in URLs, e.g. rct."))
    name = models.CharField(max_length=100)
    definition = models.CharField(max_length=300)
    ocebm_equivalent = models.CharField(
        max_length=40, help_text=_("OCEBM 2011 level, e.g. L4 or 'below L4'.")
    )
    rank = models.PositiveSmallIntegerField(
        unique=True, help_text=_("Strength: 1 is the weakest. Sorting uses it.")
    )

    objects = EvidenceLevelQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("evidence level")
        verbose_name_plural = _("evidence levels")
        ordering = ["rank"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)


class JurisdictionQuerySet(models.QuerySet):
    def get_by_natural_key(self, code):
        return self.get(code=code)


class Jurisdiction(models.Model):
    """A regulator's territory. Adding one (MHRA, MFDS…) is a data change, never a code change:
    flags, filters and columns are built from this table."""

    code = models.SlugField(max_length=16, unique=True, help_text=_("Used in URLs, e.g. fda, eu."))
    name = models.CharField(max_length=100, help_text=_("e.g. United States"))
    regulator = models.CharField(max_length=200, help_text=_("e.g. Food and Drug Administration"))
    short_label = models.CharField(max_length=20, help_text=_("How a flag names it: FDA, EU…"))
    url = models.URLField(blank=True)
    position = models.PositiveSmallIntegerField(default=0, help_text=_("Order of the flags."))

    objects = JurisdictionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")
        ordering = ["position", "code"]

    def __str__(self):
        return self.short_label

    def clean(self):
        # The code becomes a parameter of the list's URLs (?fda=not-approved): one that is
        # already a parameter (page, q, sort, a facet…) would take it over.
        if self.code and is_reserved_parameter(self.code):
            taken = ", ".join(sorted(reserved_parameters()))
            raise ValidationError(
                {
                    "code": _(
                        "“%(code)s” is already a parameter of the claims list; "
                        "choose another code. These are taken: %(taken)s."
                    )
                    % {"code": self.code, "taken": taken}
                }
            )

    def natural_key(self):
        return (self.code,)


def recheck_due_before(today=None):
    """Statuses checked before this day are due a re-check: they are over 12 months old."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28)


class StatusRecordQuerySet(models.QuerySet):
    def due_for_recheck(self, today=None):
        """Statuses nobody has re-checked against their source for over 12 months."""
        return self.filter(checked_on__lt=recheck_due_before(today))


class StatusRecord(models.Model):
    """What a regulator's position is, why, and where we read it."""

    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Status, default=Status.UNKNOWN)
    explanation = models.TextField(help_text=_("Plain language, for readers."))
    source_url = models.URLField(blank=True)
    source_title = models.CharField(
        max_length=300, blank=True, help_text=_("The source's own title, shown as its link.")
    )
    checked_on = models.DateField(help_text=_("When an editor last checked the source."))
    # How "an appearance claim" is recorded: on the status (or the claim's override), because
    # it is what the treatment (or this one claim) is sold for that turns a cosmetic into a
    # drug. Only a status with it ticked may be "Lawful cosmetic".
    appearance_claim = models.BooleanField(
        _("sold only to change appearance"),
        default=False,
        help_text=_(
            "Tick only when the treatment (or this claim) is offered purely to change "
            "how skin looks: no disease, condition, healing or “revitalize cells” claim. "
            "Needed for “Lawful cosmetic”."
        ),
    )

    class Meta:
        abstract = True

    @property
    def status_choice(self):
        return Status(self.status)

    def is_due_for_recheck(self, today=None):
        return self.checked_on < recheck_due_before(today)

    def cosmetic_problems(self, treatment):
        """Why this record may not say “Lawful cosmetic” for `treatment`, as {field: message};
        empty when it may. The one home of the rule: a status is a lawful cosmetic only for a
        product put on intact skin, from a known non-human source, sold only to change
        appearance, with a source saying so. Anything less is “Not assessed” at best."""
        if self.status != Status.COSMETIC:
            return {}
        reasons = []
        if treatment is not None and treatment.route != Route.TOPICAL_INTACT_SKIN:
            reasons.append(
                _(
                    "the treatment's route is “%(route)s”, and only a "
                    "product put on intact skin can be one"
                )
                % {"route": treatment.get_route_display()}
            )
        if treatment is not None and treatment.source.origin in {Origin.HUMAN, Origin.UNSPECIFIED}:
            reasons.append(
                _(
                    "the exosome source is “%(origin)s”, and only a "
                    "known non-human source can be one"
                )
                % {"origin": treatment.source.get_origin_display()}
            )
        problems = {}
        if reasons:
            problems["status"] = _("This cannot be “%(status)s”: %(reasons)s.") % {
                "status": Status.COSMETIC.label,
                "reasons": "; ".join(str(reason) for reason in reasons),
            }
        if not self.appearance_claim:
            problems["appearance_claim"] = _(
                "“%(status)s” needs a use sold only to change appearance; a "
                "disease, condition or healing claim makes the product a drug."
            ) % {"status": Status.COSMETIC.label}
        if not self.source_url:
            problems["source_url"] = _("Give the source that says this is a lawful cosmetic.")
        return problems


def cosmetic_constraint(name):
    """The part of the cosmetic rule a row can check on its own (the route and the source
    live on the treatment, so `cosmetic_problems` checks those in clean())."""
    return models.CheckConstraint(
        name=name,
        condition=~Q(status=Status.COSMETIC) | (Q(appearance_claim=True) & ~Q(source_url="")),
        violation_error_message=_("A lawful cosmetic needs an appearance-only use and a source."),
    )


class RegulatoryStatusQuerySet(StatusRecordQuerySet):
    def get_by_natural_key(self, treatment_slug, jurisdiction_code):
        return self.get(treatment__slug=treatment_slug, jurisdiction__code=jurisdiction_code)


class RegulatoryStatus(StatusRecord):
    treatment = models.ForeignKey(
        Treatment, on_delete=models.CASCADE, related_name="regulatory_statuses"
    )

    objects = RegulatoryStatusQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["treatment", "jurisdiction"]
        verbose_name = _("regulatory status")
        verbose_name_plural = _("regulatory statuses")
        constraints = [
            models.UniqueConstraint(
                fields=["treatment", "jurisdiction"],
                name="regulatorystatus_one_per_treatment_and_jurisdiction",
                violation_error_message=_(
                    "This treatment already has a status in this "
                    "jurisdiction: edit that one instead."
                ),
            ),
            cosmetic_constraint("regulatorystatus_cosmetic_is_sourced_appearance_use"),
        ]

    def __str__(self):
        return f"{self.treatment} · {self.jurisdiction}: {self.get_status_display()}"

    def natural_key(self):
        return (self.treatment.slug, self.jurisdiction.code)

    natural_key.dependencies = ["claims.treatment", "claims.jurisdiction"]

    def clean(self):
        treatment = Treatment.objects.filter(pk=self.treatment_id).select_related("source")
        problems = self.cosmetic_problems(treatment.first())
        if problems:
            raise ValidationError(problems)


# --- Claims ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """A claim's standing in one jurisdiction, as readers see it."""

    jurisdiction: Jurisdiction
    status: Status
    explanation: str = ""
    source_url: str = ""
    checked_on: date | None = None
    source_title: str = ""
    overridden: bool = False
    override_reason: str = ""

    @staticmethod
    def prevailing(override, inherited):
        """The one rule of precedence: of a claim's own `override` in a jurisdiction and its
        treatment's `inherited` status there (records, or bare statuses; None where there is
        none), the override wins. None when neither is recorded: the flag is not assessed."""
        return override if override is not None else inherited

    @classmethod
    def status_from(cls, override, inherited):
        """The flag's status alone, from the bare statuses (None where not recorded), as the
        change log replays them."""
        status = cls.prevailing(override, inherited)
        return Status.UNKNOWN if status is None else Status(status)

    @classmethod
    def from_records(cls, jurisdiction, override, inherited):
        """The flag in `jurisdiction`, read from the record that `prevailing` picks."""
        record = cls.prevailing(override, inherited)
        if record is None:
            return cls(jurisdiction, cls.status_from(None, None))
        return cls(
            jurisdiction=jurisdiction,
            status=Status(record.status),
            explanation=record.explanation,
            source_url=record.source_url,
            checked_on=record.checked_on,
            source_title=record.source_title,
            overridden=override is not None,
            override_reason=override.reason if override is not None else "",
        )

    @property
    def is_warning(self):
        return self.status in {Status.NOT_APPROVED, Status.PROHIBITED, Status.INVESTIGATIONAL}

    @property
    def calls_for_questions(self):
        """Whether a reader should ask the clinic questions: wherever no regulator approved
        the use, so lawful cosmetics and “Not assessed” too, not only the warnings."""
        return self.status != Status.APPROVED


class ClaimQuerySet(models.QuerySet):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)

    def published(self):
        return self.filter(state=Claim.State.PUBLISHED)

    def public(self):
        """Claims whose page a reader may open: published, and retracted ones with a notice."""
        return self.filter(state__in=[Claim.State.PUBLISHED, Claim.State.RETRACTED])

    def with_facts(self):
        """A claim's facts as its page and list rows show them (clinic, treatment and source,
        evidence level, conference, presentation, indications), in a fixed number of queries.
        A claim's page reads its flags apart, with `Claim.flag_records()`."""
        return self.select_related(
            "clinic", "treatment__source", "evidence_level", "conference", "presentation"
        ).prefetch_related("indications")

    def for_display(self):
        """Everything a list row shows, flags included, in a fixed number of queries."""
        return self.with_facts().prefetch_related(
            "treatment__regulatory_statuses", "status_overrides"
        )

    def with_status_in(self, jurisdiction, statuses):
        """Claims whose flag in `jurisdiction` is one of `statuses`: the claim's own override
        if it has one, else its treatment's status there, else unknown.

        Written as set membership (claims with a matching override, or with no override and a
        matching treatment) rather than as a filter on `with_flag`'s COALESCE, whose
        selectivity PostgreSQL cannot estimate: it would expect a handful of matches, so sort
        every match for a page of the newest instead of walking `claim_published_newest`."""
        statuses = list(statuses)
        overrides = ClaimStatusOverride.objects.filter(jurisdiction=jurisdiction)
        recorded = RegulatoryStatus.objects.filter(jurisdiction=jurisdiction)
        inherited = Q(treatment__in=recorded.filter(status__in=statuses).values("treatment"))
        if Status.UNKNOWN in statuses:
            inherited |= ~Q(treatment__in=recorded.values("treatment"))
        return self.filter(
            Q(pk__in=overrides.filter(status__in=statuses).values("claim"))
            | (~Q(pk__in=overrides.values("claim")) & inherited)
        )

    def with_flag(self, jurisdiction, name, *, select=False):
        """The flag in `jurisdiction` as the alias `name` (an annotation if `select`), read
        through two LEFT JOINs, each matching at most one row (one override per claim and
        jurisdiction, one status per treatment and jurisdiction). Counting or filtering many
        claims by flag costs two hash joins, where subqueries would run two per claim."""
        override, inherited = f"{name}_override", f"{name}_inherited"
        joined = self.alias(
            **{
                override: FilteredRelation(
                    "status_overrides", condition=Q(status_overrides__jurisdiction=jurisdiction)
                ),
                inherited: FilteredRelation(
                    "treatment__regulatory_statuses",
                    condition=Q(treatment__regulatory_statuses__jurisdiction=jurisdiction),
                ),
            }
        )
        flag = Coalesce(
            F(f"{override}__status"),
            F(f"{inherited}__status"),
            Value(Status.UNKNOWN.value),
            output_field=models.CharField(),
        )
        return (joined.annotate if select else joined.alias)(**{name: flag})

    def count_by_evidence_and_flag(self, jurisdictions):
        """{(evidence level id, jurisdiction id, status): number of claims}, for the evidence
        × approval map: one pass over the claims for all jurisdictions, not one each."""
        names = [f"flag_{jurisdiction.pk}" for jurisdiction in jurisdictions]
        queryset = self
        for jurisdiction, name in zip(jurisdictions, names, strict=True):
            queryset = queryset.with_flag(jurisdiction, name, select=True)
        rows = queryset.values_list("evidence_level", *names).annotate(n=models.Count("pk"))
        counts = {}
        for level_id, *flags, n in rows.order_by():
            for jurisdiction, flag in zip(jurisdictions, flags, strict=True):
                key = (level_id, jurisdiction.pk, flag)
                counts[key] = counts.get(key, 0) + n
        return counts


class Claim(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in-review", _("In review")
        PUBLISHED = "published", _("Published")
        RETRACTED = "retracted", _("Retracted")

        @property
        def next_states(self):
            """Where the workflow lets a claim go from here. Publishers may publish a draft
            without sending it to themselves for review. A retracted claim stays retracted:
            its page keeps its notice, so links to it keep working."""
            State = type(self)
            return {
                State.DRAFT: {State.IN_REVIEW, State.PUBLISHED},
                State.IN_REVIEW: {State.DRAFT, State.PUBLISHED},
                State.PUBLISHED: {State.RETRACTED},
                State.RETRACTED: set(),
            }[self]

        @property
        def described(self):
            """The state as it ends “it is …”: “a draft”, “in review”. A phrase of its own, not
            the lower-cased label, so that each language words it."""
            State = type(self)
            return {
                State.DRAFT: _("a draft"),
                State.IN_REVIEW: _("in review"),
                State.PUBLISHED: _("published"),
                State.RETRACTED: _("retracted"),
            }[self]

    # Moving a claim: which verb names the move, and which permission it takes. Editors submit
    # for review; only publishers decide what readers see.
    MOVES = {
        State.IN_REVIEW: (_("submitted for review"), "claims.change_claim"),
        State.DRAFT: (_("sent back to draft"), "claims.publish_claim"),
        State.PUBLISHED: (_("published"), "claims.publish_claim"),
        State.RETRACTED: (_("retracted"), "claims.publish_claim"),
    }

    slug = models.SlugField(max_length=100, unique=True, help_text=_("Used in URLs. Never reuse."))
    title = models.CharField(max_length=200, help_text=_("Short, neutral summary of the claim."))
    statement = models.TextField(help_text=_("The claim as it was made, quoted or paraphrased."))
    outcome = models.TextField(blank=True, help_text=_("Outcome reported, if any."))
    context_note = models.TextField(blank=True, help_text=_("Our context for readers."))
    quote = models.TextField(
        blank=True,
        help_text=_("The passage the claim comes from, word for word, as short as it can be."),
    )
    quote_source = models.CharField(
        max_length=300,
        blank=True,
        help_text=_(
            "Who wrote the quoted passage, where: e.g. Mitra Bio, “Exosomes: the next "
            "“small” thing?”."
        ),
    )
    unverified = models.CharField(
        max_length=500,
        blank=True,
        help_text=_(
            "What we found no independent source for, ending the sentence “We found no "
            "independent source for …”. Blank when everything is confirmed."
        ),
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="claims")
    conference = models.ForeignKey(
        Conference, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    presentation = models.ForeignKey(
        Presentation, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="claims")
    indications = models.ManyToManyField(Indication, blank=True, related_name="claims")
    evidence_level = models.ForeignKey(
        EvidenceLevel, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    state = models.CharField(max_length=20, choices=State, default=State.DRAFT)
    made_on = models.DateField(null=True, blank=True, help_text=_("When the claim was made."))
    published_at = models.DateTimeField(null=True, blank=True)
    last_reviewed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The text search reads: the claim's words plus the names of what it points to, kept in
    # step by claims.signals. On PostgreSQL a generated tsvector column over it carries the
    # GIN index (migration 0003); SQLite searches it with LIKE.
    search_document = models.TextField(blank=True, editable=False)

    objects = ClaimQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["updated_at", "search_document"], m2m_fields=[indications]
    )

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["-published_at", "-created_at", "slug"]
        permissions = [("publish_claim", "Can publish, retract and send back claims")]
        indexes = [
            # /claims/ in its default order (newest first: -published_at, -pk), the home
            # page's latest claims and the entity pages' lists: LIMIT 25 reads 25 entries.
            models.Index(
                fields=["-published_at", "-id"],
                name="claim_published_newest",
                condition=Q(state="published"),
            ),
            # On PostgreSQL migration 0005 adds `claim_published_facets`, a covering index
            # for the facet counts, in raw SQL. Declared here instead, makemigrations writes a
            # plain CREATE INDEX of the same definition, which fails on every PostgreSQL
            # database 0005 already gave it ("relation already exists").
        ]
        constraints = [
            models.CheckConstraint(
                name="claim_published_has_evidence_level",
                condition=~Q(state="published") | Q(evidence_level__isnull=False),
                violation_error_message=_("A published claim needs an evidence level."),
            )
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.search_document = self.build_search_document()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_document"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("claims:detail", args=[self.slug])

    def natural_key(self):
        return (self.slug,)

    def build_search_document(self, indications=None):
        """The words the text search reads (the one definition of `search_document`): the
        claim's own, then the names of its clinic, treatment, source and `indications` (its
        own when not given; a claim not saved yet has none unless given them)."""
        words = [self.title, self.statement, self.outcome]
        if self.clinic_id:
            words.append(self.clinic.name)
        if self.treatment_id:
            words += [self.treatment.name, self.treatment.product, self.treatment.source.name]
        if indications is None:
            indications = self.indications.all() if self.pk else []
        words += [indication.name for indication in indications]
        return "\n".join(word for word in words if word)

    def is_published(self):
        return self.state == self.State.PUBLISHED

    def is_retracted(self):
        return self.state == self.State.RETRACTED

    def is_public(self):
        """Readers can open its page: what it says there changes only with a Publisher."""
        return self.state in {self.State.PUBLISHED, self.State.RETRACTED}

    def publication_problems(self):
        """Why this claim cannot be published yet, in editors' words; empty when it can."""
        problems = []
        if self.evidence_level_id is None:
            problems.append(_("it needs an evidence level"))
        if self.pk is None or not self.citations.exists():
            problems.append(_("it needs at least one citation"))
        if self.presentation_mismatch() == "conference":
            problems.append(
                _("a claim made in a presentation needs that presentation's conference")
            )
        missing = [jurisdiction.short_label for jurisdiction in self.unassessed_jurisdictions()]
        if missing:
            problems.append(
                _(
                    "it needs a status in %(jurisdictions)s "
                    "(record “%(unknown)s” where no source says)"
                )
                % {"jurisdictions": ", ".join(missing), "unknown": Status.UNKNOWN.label}
            )
        return problems

    def unassessed_jurisdictions(self):
        """Jurisdictions where neither the treatment nor this claim's own override records a
        status, not even an explicit “Not assessed”."""
        covered = Q(
            pk__in=RegulatoryStatus.objects.filter(treatment_id=self.treatment_id).values(
                "jurisdiction"
            )
        )
        if self.pk is not None:
            covered |= Q(pk__in=self.status_overrides.values("jurisdiction"))
        return Jurisdiction.objects.exclude(covered)

    def presentation_mismatch(self):
        """The field that breaks the rule “a claim made in a presentation was made at that
        presentation's conference”: "conference" when the claim names none, "presentation"
        when its presentation belongs to another; None when the rule holds. The one home of
        the rule, which clean() and publication_problems() word for their readers."""
        if not self.presentation_id:
            return None
        if self.conference_id is None:
            return "conference"
        if self.presentation.conference_id != self.conference_id:
            return "presentation"
        return None

    def clean(self):
        mismatch = self.presentation_mismatch()
        if mismatch == "presentation":
            raise ValidationError(
                {"presentation": _("This presentation belongs to another conference.")}
            )
        # A draft may name its conference later: publication_problems() asks for it then.
        if mismatch == "conference" and self.state == self.State.PUBLISHED:
            raise ValidationError(
                {
                    "conference": _(
                        "A claim made in a presentation needs that presentation's conference."
                    )
                }
            )
        if self.state == self.State.PUBLISHED and self.evidence_level_id is None:
            raise ValidationError(
                {"evidence_level": _("A published claim needs an evidence level.")}
            )

    # The workflow. `user` is who moves the claim: the move is refused (PermissionDenied) if
    # they may not make it, and history records them. Code acting for nobody passes no user.
    # `note` says why (sending back, retracting) and is kept as the history's change reason.

    def submit_for_review(self, user=None, note=""):
        self.move_to(self.State.IN_REVIEW, user, note)

    def send_back(self, user=None, note=""):
        self.move_to(self.State.DRAFT, user, note)

    def publish(self, user=None, note=""):
        self.move_to(self.State.PUBLISHED, user, note)

    def retract(self, user=None, note=""):
        self.move_to(self.State.RETRACTED, user, note)

    def can_move_to(self, state, user):
        _verb, permission = self.MOVES[state]
        return state in self.State(self.state).next_states and user.has_perm(permission)

    def move_to(self, state, user=None, note=""):
        state = self.State(state)
        verb, permission = self.MOVES[state]
        if user is not None and not user.has_perm(permission):
            raise PermissionDenied(
                _("You may not move claims to “%(state)s”.") % {"state": state.label}
            )
        current = self.State(self.state)
        if state == current:
            raise ValidationError(
                _("“%(claim)s” is already %(state)s.") % {"claim": self, "state": current.described}
            )
        if state not in current.next_states:
            # Retracted pages stay public, so retracting a draft would publish it.
            why = _("not published") if state == self.State.RETRACTED else current.described
            raise ValidationError(
                _("“%(claim)s” is %(state)s, so it cannot be %(move)s.")
                % {"claim": self, "state": why, "move": verb}
            )
        if state == self.State.PUBLISHED:
            problems = self.publication_problems()
            if problems:
                raise ValidationError(
                    _("“%(claim)s” cannot be published: %(problems)s.")
                    % {"claim": self, "problems": "; ".join(str(p) for p in problems)}
                )
            if self.published_at is None:
                self.published_at = timezone.now()
        self.state = state
        if user is not None:
            self._history_user = user
        # simple_history keeps the note as the change reason (100 characters at most).
        self._change_reason = note.strip()[:100] or None
        try:
            self.save()
        finally:
            del self._change_reason

    def flags(self, jurisdictions, records=None):
        """One Flag per jurisdiction, in their order, read from `records` as `flag_records()`
        returns them when given; else from the statuses and overrides `for_display()`
        prefetched, so a list of claims costs no query per row."""
        if records is None:
            records = (self.treatment.regulatory_statuses.all(), self.status_overrides.all())
        statuses, overrides = records
        inherited = {record.jurisdiction_id: record for record in statuses}
        overridden = {record.jurisdiction_id: record for record in overrides}
        return [
            Flag.from_records(
                jurisdiction, overridden.get(jurisdiction.pk), inherited.get(jurisdiction.pk)
            )
            for jurisdiction in jurisdictions
        ]

    def flag_records(self):
        """What this claim's flags are read from: (its treatment's statuses, its own
        overrides), in one UNION query where `for_display()` prefetches them in two.
        Columns the two tables do not share are annotations in both branches, so that both
        list them in the same order."""
        shared = [
            "id",
            "jurisdiction_id",
            "status",
            "explanation",
            "source_url",
            "source_title",
            "checked_on",
        ]
        text = models.TextField()
        status_rows = (
            RegulatoryStatus.objects.filter(treatment_id=self.treatment_id)
            .order_by()
            .annotate(table=Value("status", output_field=text), own_reason=Value(""))
            .values_list(*shared, "table", "own_reason")
        )
        override_rows = (
            ClaimStatusOverride.objects.filter(claim_id=self.pk)
            .order_by()
            .annotate(table=Value("override", output_field=text), own_reason=F("reason"))
            .values_list(*shared, "table", "own_reason")
        )
        statuses, overrides = [], []
        for *values, table, reason in status_rows.union(override_rows, all=True):
            fields = dict(zip(shared, values, strict=True))
            if table == "override":
                overrides.append(ClaimStatusOverride(claim_id=self.pk, reason=reason, **fields))
            else:
                statuses.append(RegulatoryStatus(treatment_id=self.treatment_id, **fields))
        return statuses, overrides


# How a claim reaches each row of reference data it uses (None: every claim shows a flag in
# every jurisdiction).
CLAIM_PATHS = {
    Clinic: "clinic",
    Conference: "conference",
    Presentation: "presentation",
    Indication: "indications",
    Treatment: "treatment",
    ExosomeSource: "treatment__source",
    EvidenceLevel: "evidence_level",
    Jurisdiction: None,
}


# What `Claim.build_search_document` reads of the rows a claim points to, by column: a save of
# one of these rows that changes none of them leaves every search document as it was.
SEARCHED_COLUMNS = {
    Clinic: ("name",),
    Treatment: ("name", "product", "source_id"),
    ExosomeSource: ("name",),
    Indication: ("name",),
}


def claims_using(row):
    """The claims that show `row` of reference data to readers, or would."""
    path = CLAIM_PATHS[type(row)]
    return Claim.objects.all() if path is None else Claim.objects.filter(**{path: row})


class ClaimStatusOverrideQuerySet(StatusRecordQuerySet):
    def get_by_natural_key(self, claim_slug, jurisdiction_code):
        return self.get(claim__slug=claim_slug, jurisdiction__code=jurisdiction_code)


class ClaimStatusOverride(StatusRecord):
    """This one claim's flag differs from its treatment's: e.g. a disease-treatment claim turns
    a topical cosmetic into an unapproved drug in the US."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="status_overrides")
    reason = models.TextField(help_text=_("Why this claim differs from its treatment's status."))

    objects = ClaimStatusOverrideQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("claim status override")
        verbose_name_plural = _("claim status overrides")
        ordering = ["claim", "jurisdiction"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "jurisdiction"],
                name="claimstatusoverride_one_per_claim_and_jurisdiction",
                violation_error_message=_("This claim already overrides this jurisdiction."),
            ),
            models.CheckConstraint(
                name="claimstatusoverride_has_reason_and_source",
                condition=~Q(reason="") & ~Q(source_url=""),
                violation_error_message=_("An override needs a reason and a source."),
            ),
            cosmetic_constraint("claimstatusoverride_cosmetic_is_sourced_appearance_use"),
        ]

    def __str__(self):
        return f"{self.claim} · {self.jurisdiction}: {self.get_status_display()}"

    def natural_key(self):
        return (self.claim.slug, self.jurisdiction.code)

    natural_key.dependencies = ["claims.claim", "claims.jurisdiction"]

    def clean(self):
        errors = {}
        if not self.reason.strip():
            errors["reason"] = "Say why this claim's flag differs from its treatment's."
        if not self.source_url:
            errors["source_url"] = "Give the source that supports this flag."
        treatment = None
        claim = getattr(self, "claim", None)  # None on an inline form of an unsaved claim
        if claim is not None and claim.treatment_id is not None:
            treatment = Treatment.objects.select_related("source").get(pk=claim.treatment_id)
        for field, message in self.cosmetic_problems(treatment).items():
            errors.setdefault(field, message)
        if errors:
            raise ValidationError(errors)


class CitationQuerySet(models.QuerySet):
    def get_by_natural_key(self, claim_slug, url):
        return self.get(claim__slug=claim_slug, url=url)


class Citation(models.Model):
    class Kind(models.TextChoices):
        CONFERENCE_TALK = "conference-talk", _("Conference talk")
        WRITE_UP = "write-up", _("Write-up")
        PAPER = "paper", _("Paper")
        REGULATOR_NOTICE = "regulator-notice", _("Regulator notice")
        PRESS = "press", _("Press")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="citations")
    kind = models.CharField(max_length=20, choices=Kind)
    title = models.CharField(max_length=300)
    publisher = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=500)
    accessed_on = models.DateField()
    note = models.CharField(max_length=300, blank=True, help_text=_("What this source supports."))
    position = models.PositiveSmallIntegerField(default=0)

    objects = CitationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("citation")
        verbose_name_plural = _("citations")
        ordering = ["claim", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "url"],
                name="citation_unique_url_per_claim",
                violation_error_message=_("This claim already cites this URL."),
            )
        ]

    def __str__(self):
        return self.title

    def natural_key(self):
        return (self.claim.slug, self.url)

    natural_key.dependencies = ["claims.claim"]


# --- Pending revisions --------------------------------------------------------------------------


class RevisionQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(state=Revision.State.PENDING)

    def approved(self):
        return self.filter(state=Revision.State.APPROVED)


class Revision(models.Model):
    """A change to something readers see, kept beside the live version until a Publisher
    approves it, as Wagtail keeps a page's draft revision beside its live one. Readers only
    ever see the live rows; `content` is the whole content as it would be once approved, in the
    shape `claims.revisions` reads and writes. A Publisher's own change is recorded approved."""

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    content = models.JSONField(encoder=DjangoJSONEncoder)
    note = models.CharField(max_length=300, blank=True, help_text=_("Why the editor made it."))
    # What it changed, in readers' words ("statement, citations"), written when it is approved:
    # the live version moves on, and the public change log must still say what was approved.
    summary = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=20, choices=State, default=State.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-updated_at", "-pk"]

    def is_pending(self):
        return self.state == self.State.PENDING

    @property
    def version(self):
        """What the form an editor opened was read from, for optimistic locking."""
        return f"{self.pk}@{self.updated_at.isoformat()}"


def revision_constraints(table, target, unique_name, pending_message):
    """A revision's invariants: one pending change per target at a time, and a decided one
    says when it was decided."""
    return [
        models.UniqueConstraint(
            fields=target,
            condition=Q(state="pending"),
            name=f"{table}_{unique_name}",
            violation_error_message=pending_message,
        ),
        models.CheckConstraint(
            name=f"{table}_reviewed_unless_pending",
            condition=Q(state="pending") | Q(reviewed_at__isnull=False),
        ),
    ]


class ClaimRevisionQuerySet(RevisionQuerySet):
    def corrections(self):
        """Approved changes to what a public claim says or cites, made after readers first saw
        it: the corrections the change log, the feed and /method/ report."""
        return self.approved().filter(
            reviewed_at__gt=F("claim__published_at"),
            claim__state__in=[Claim.State.PUBLISHED, Claim.State.RETRACTED],
        )


class ClaimRevision(Revision):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="revisions")

    objects = ClaimRevisionQuerySet.as_manager()

    class Meta(Revision.Meta):
        verbose_name = _("claim change")
        verbose_name_plural = _("claim changes")
        # Two editors never keep two pending versions of one claim: the second is told the
        # claim changed under them (claims.revisions.check_version).
        constraints = revision_constraints(
            "claimrevision",
            ["claim"],
            "one_pending_per_claim",
            _("This claim already has a change awaiting review."),
        )

    def __str__(self):
        return _("Change to “%(claim)s”") % {"claim": self.claim}


class StatusRevision(Revision):
    """A change to a treatment's status in one jurisdiction, which is the flag there of every
    claim that inherits it; it may add a status the treatment does not have yet."""

    treatment = models.ForeignKey(
        Treatment, on_delete=models.CASCADE, related_name="status_revisions"
    )
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.CASCADE, related_name="+")

    class Meta(Revision.Meta):
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        constraints = revision_constraints(
            "statusrevision",
            ["treatment", "jurisdiction"],
            "one_pending_per_status",
            _("This status already has a change awaiting review."),
        )

    def __str__(self):
        return _("Change to %(treatment)s · %(jurisdiction)s") % {
            "treatment": self.treatment,
            "jurisdiction": self.jurisdiction,
        }


class DataVersion(models.Model):
    """The version of everything readers see: one row, changed in the same transaction as
    every edit (claims.data_version.watch_curated_data). Cached pages and ETags are keyed by it. It
    lives here, not only in the cache beside the pages, so that a cache that missed a change
    (a network partition) can never bring back the pages from before it."""

    ONLY_ROW = 1

    version = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("data version")
        verbose_name_plural = _("data versions")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="data_version_is_one_row"),
        ]

    def __str__(self):
        return self.version

    def clean(self):
        if self.pk is not None and self.pk != self.ONLY_ROW:
            raise ValidationError(_("There is one data version, the row with id 1."))
