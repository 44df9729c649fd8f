"""The editors' admin. It mirrors the public claim filters, shows one flag column per
jurisdiction (built from the Jurisdiction table, never from code), and keeps history with diffs
and revert on every curated model through simple_history."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import ngettext
from django_countries.filters import CountryFilter
from simple_history.admin import SimpleHistoryAdmin

from claims.models import (
    Citation,
    Claim,
    ClaimStatusOverride,
    Clinic,
    Conference,
    EvidenceLevel,
    ExosomeSource,
    Indication,
    Jurisdiction,
    Presentation,
    RegulatoryStatus,
    Status,
    Treatment,
)

NEEDS_A_CITATION = "A published claim needs at least one citation."

# Sources are pasted without a scheme often enough; https is what they almost always mean (and
# Django 6.0's default).
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class CuratedAdmin(SimpleHistoryAdmin):
    """History with field diffs and revert, for every curated model."""

    formfield_overrides = URL_FIELDS


def jurisdictions_for(request):
    """The jurisdictions, read once per request: the changelist asks for its columns and
    filters several times while rendering one page."""
    if "_claimwatch_jurisdictions" not in request.__dict__:
        request._claimwatch_jurisdictions = list(Jurisdiction.objects.all())
    return request._claimwatch_jurisdictions


def describe(status, overridden=False):
    """A flag in words, as the changelist shows it: “✕ Not approved (override)”."""
    text = f"{status.icon} {status.label}"
    return f"{text} (override)" if overridden else text


class RelatedChoicesOncePerRequest(admin.RelatedFieldListFilter):
    """A related-object filter that reads its choices once per request. With facets on, the
    changelist rebuilds every filter for each filter's counts, which would otherwise read the
    same choices again each time."""

    def field_choices(self, field, request, model_admin):
        cache = request.__dict__.setdefault("_claimwatch_filter_choices", {})
        if self.field_path not in cache:
            cache[self.field_path] = super().field_choices(field, request, model_admin)
        return cache[self.field_path]


def flag_filter(jurisdiction):
    """A sidebar filter on a claim's effective flag in one jurisdiction, override included."""

    class FlagFilter(admin.SimpleListFilter):
        title = f"{jurisdiction.short_label} flag"
        parameter_name = f"flag_{jurisdiction.code}"

        def lookups(self, request, model_admin):
            return Status.choices

        def queryset(self, request, queryset):
            if self.value() in Status.values:
                return queryset.with_status_in(jurisdiction, [self.value()])
            return None

    return FlagFilter


# --- Where claims were made -----------------------------------------------------------------


@admin.register(Conference)
class ConferenceAdmin(CuratedAdmin):
    list_display = ["name", "city", "country", "starts_on", "ends_on"]
    list_filter = [("country", CountryFilter)]
    search_fields = ["name", "city"]
    prepopulated_fields = {"slug": ("name",)}
    date_hierarchy = "starts_on"


@admin.register(Presentation)
class PresentationAdmin(CuratedAdmin):
    list_display = ["title", "conference", "speaker", "given_on"]
    list_filter = ["conference"]
    list_select_related = ["conference"]
    search_fields = ["title", "speaker", "affiliation", "conference__name"]
    autocomplete_fields = ["conference"]
    prepopulated_fields = {"slug": ("title",)}


# --- Who made them, about what ----------------------------------------------------------------


@admin.register(Clinic)
class ClinicAdmin(CuratedAdmin):
    list_display = ["name", "kind", "city", "country"]
    list_filter = ["kind", ("country", CountryFilter)]
    search_fields = ["name", "city"]
    prepopulated_fields = {"slug": ("name",)}


@admin.register(ExosomeSource)
class ExosomeSourceAdmin(CuratedAdmin):
    list_display = ["name", "category", "origin"]
    list_filter = ["origin", "category"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Indication)
class IndicationAdmin(CuratedAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ("name",)}


class RegulatoryStatusInline(admin.StackedInline):
    model = RegulatoryStatus
    formfield_overrides = URL_FIELDS
    extra = 0
    fields = ["jurisdiction", "status", "explanation", "source_url", "checked_on"]


@admin.register(Treatment)
class TreatmentAdmin(CuratedAdmin):
    list_filter = ["route", "source__origin", "source"]
    list_select_related = ["source"]
    search_fields = ["name", "product", "combined_procedure", "source__name"]
    autocomplete_fields = ["source"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [RegulatoryStatusInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("regulatory_statuses")

    def get_list_display(self, request):
        return ["name", "source", "route"] + [
            self.status_column(jurisdiction) for jurisdiction in jurisdictions_for(request)
        ]

    @staticmethod
    def status_column(jurisdiction):
        @admin.display(description=jurisdiction.short_label)
        def column(treatment):
            for record in treatment.regulatory_statuses.all():
                if record.jurisdiction_id == jurisdiction.pk:
                    return describe(record.status_choice)
            return describe(Status.UNKNOWN)

        column.__name__ = f"status_{jurisdiction.code}"
        return column


# --- Evidence and regulation --------------------------------------------------------------------


@admin.register(EvidenceLevel)
class EvidenceLevelAdmin(CuratedAdmin):
    list_display = ["rank", "name", "code", "ocebm_equivalent"]
    list_display_links = ["name"]
    search_fields = ["name", "code", "definition"]


@admin.register(Jurisdiction)
class JurisdictionAdmin(CuratedAdmin):
    list_display = ["short_label", "name", "regulator", "code", "position"]
    search_fields = ["name", "code", "short_label", "regulator"]


@admin.register(RegulatoryStatus)
class RegulatoryStatusAdmin(CuratedAdmin):
    list_display = ["treatment", "jurisdiction", "status", "checked_on"]
    list_filter = ["jurisdiction", "status"]
    list_select_related = ["treatment", "jurisdiction"]
    search_fields = ["treatment__name", "explanation"]
    autocomplete_fields = ["treatment", "jurisdiction"]


# --- Claims ---------------------------------------------------------------------------------------


class CitationInlineFormSet(forms.BaseInlineFormSet):
    """Refuses to leave a published claim without citations. The check lives here because the
    citations being saved are this formset's rows, not what the database holds yet."""

    def clean(self):
        super().clean()
        if self.instance.state != Claim.State.PUBLISHED:
            return
        kept = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None) and not form.cleaned_data.get("DELETE")
        ]
        if not kept:
            raise ValidationError(NEEDS_A_CITATION)


class CitationInline(admin.TabularInline):
    model = Citation
    formfield_overrides = URL_FIELDS
    formset = CitationInlineFormSet
    extra = 1
    fields = ["kind", "title", "publisher", "url", "accessed_on", "note", "position"]


class ClaimStatusOverrideInline(admin.StackedInline):
    model = ClaimStatusOverride
    formfield_overrides = URL_FIELDS
    extra = 0
    fields = ["jurisdiction", "status", "reason", "explanation", "source_url", "checked_on"]


class ClaimAdminForm(forms.ModelForm):
    """The claim change form; ClaimAdmin supplies the model and fields from its fieldsets."""

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("state") != Claim.State.PUBLISHED:
            return cleaned_data
        if cleaned_data.get("presentation") and not cleaned_data.get("conference"):
            self.add_error(
                "conference", "A claim made in a presentation needs that presentation's conference."
            )
        # With the citations inline on the page, its formset judges them. Without it (reverting
        # to a historical version, or an editor who cannot see citations), the saved ones count.
        citations_submitted = "citations-TOTAL_FORMS" in self.data  # the inline's management form
        if not citations_submitted and not (self.instance.pk and self.instance.citations.exists()):
            raise ValidationError(NEEDS_A_CITATION)
        return cleaned_data


@admin.register(Claim)
class ClaimAdmin(CuratedAdmin):
    form = ClaimAdminForm
    list_filter = [
        "state",
        ("clinic__country", CountryFilter),
        "treatment__route",
        "treatment__source__origin",
        ("evidence_level", RelatedChoicesOncePerRequest),
        ("conference", RelatedChoicesOncePerRequest),
        ("indications", RelatedChoicesOncePerRequest),
    ]
    list_select_related = [
        "clinic",
        "treatment__source",
        "evidence_level",
        "conference",
        "presentation",
    ]
    show_facets = admin.ShowFacets.ALWAYS
    search_fields = ["title", "statement", "clinic__name", "treatment__name"]
    autocomplete_fields = [
        "clinic",
        "treatment",
        "conference",
        "presentation",
        "indications",
        "evidence_level",
    ]
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ["published_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "statement", "outcome", "context_note"]}),
        ("Who said it, where", {"fields": ["clinic", "conference", "presentation", "made_on"]}),
        ("About what", {"fields": ["treatment", "indications", "evidence_level"]}),
        (
            "Publication",
            {
                "fields": [
                    "state",
                    "published_at",
                    "last_reviewed_on",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]
    inlines = [CitationInline, ClaimStatusOverrideInline]
    actions = ["publish", "retract"]

    def get_queryset(self, request):
        # for_display() prefetches statuses and overrides, so the flag columns cost a fixed
        # number of queries however many claims the page shows.
        return super().get_queryset(request).for_display()

    def get_list_display(self, request):
        return (
            ["title", "clinic", "treatment", "evidence_level"]
            + [self.flag_column(jurisdiction) for jurisdiction in jurisdictions_for(request)]
            + ["state", "updated_at"]
        )

    def get_list_filter(self, request):
        return list(self.list_filter) + [
            flag_filter(jurisdiction) for jurisdiction in jurisdictions_for(request)
        ]

    @staticmethod
    def flag_column(jurisdiction):
        @admin.display(description=jurisdiction.short_label)
        def column(claim):
            (flag,) = claim.flags([jurisdiction])
            return describe(flag.status, flag.overridden)

        column.__name__ = f"flag_{jurisdiction.code}"
        return column

    def save_model(self, request, obj, form, change):
        if obj.is_published() and obj.published_at is None:
            obj.published_at = timezone.now()
        super().save_model(request, obj, form, change)

    @admin.action(description="Publish selected claims", permissions=["change"])
    def publish(self, request, queryset):
        published = 0
        for claim in queryset:
            try:
                claim.publish()
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), level=messages.ERROR)
            else:
                published += 1
        if published:
            self.message_user(
                request,
                ngettext("Published %d claim.", "Published %d claims.", published) % published,
                level=messages.SUCCESS,
            )

    @admin.action(description="Retract selected claims", permissions=["change"])
    def retract(self, request, queryset):
        # Retracted claims stay public with a notice, so retracting a draft would publish it.
        retracted = 0
        for claim in queryset:
            if claim.is_published():
                claim.retract()
                retracted += 1
            elif not claim.is_retracted():
                self.message_user(
                    request,
                    f"“{claim}” was not retracted: only a published claim can be.",
                    level=messages.WARNING,
                )
        if retracted:
            self.message_user(
                request,
                ngettext("Retracted %d claim.", "Retracted %d claims.", retracted) % retracted,
                level=messages.SUCCESS,
            )
