"""The editors' admin. It mirrors the public claim filters, shows one flag column per
jurisdiction (built from the Jurisdiction table, never from code), and keeps history with diffs
and revert on every curated model through simple_history.

The workflow: editors (the Editors group) create and edit claims and submit them for review;
publishers (the Publishers group, holding `claims.publish_claim`) publish, retract and send back.
A claim's state is never a form field: it moves only through Claim.move_to(), from the
changelist's actions or the change form's workflow buttons, each offered to, and accepted from,
only those whose permissions allow it. Claims, their citations, clinics, treatments and
regulatory statuses import and export as CSV or XLSX (claims.resources)."""

import dataclasses
from datetime import date, datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import slugify
from django.utils.translation import ngettext
from django.views import defaults
from django_countries.filters import CountryFilter
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.results import RowResult
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from claims.history import workflow_log
from claims.import_columns import describe_columns, template_csv
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
from claims.resources import (
    CitationResource,
    ClaimExportResource,
    ClaimResource,
    ClinicResource,
    RegulatoryStatusResource,
    TreatmentResource,
)

NEEDS_A_CITATION = "A published claim needs at least one citation."

admin.site.site_header = "Claimwatch"
admin.site.site_title = "Claimwatch admin"
admin.site.index_title = "Curate claims and what they rely on"
# At 1280 px the navigation sidebar took a quarter of the width from every changelist and form,
# pushing columns off screen, to repeat the index's list of models; the breadcrumbs lead there.
admin.site.enable_nav_sidebar = False


def permission_denied(request, exception):
    """The 403 page (config.urls.handler403). Inside the admin it is an admin page that says
    what each role may do and which role the user has; elsewhere it is Django's."""
    if not request.path.startswith(reverse("admin:index")):
        return defaults.permission_denied(request, exception)
    context = {
        **admin.site.each_context(request),
        "title": "You may not do that",
        "reason": str(exception or ""),
        "groups": sorted(request.user.groups.values_list("name", flat=True))
        if request.user.is_authenticated
        else [],
    }
    return render(request, "admin/403.html", context, status=403)


# Sources are pasted without a scheme often enough; https is what they almost always mean (and
# Django 6.0's default).
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class ReadableDiffs(HistoricalRecordContextHelper):
    """History diffs show a choice's label (“Not approved”), not the value stored for it;
    times and days as the admin writes them elsewhere (“1 Dec 2026, 9:55 p.m.”), not as
    stored; an empty value as a dash, not “None”. A field the database stamps on every save
    (updated_at) is left out: the row's own time says when."""

    def context_for_delta_changes(self, delta):
        changes = [
            change
            for change in delta.changes
            if not getattr(self.model._meta.get_field(change.field), "auto_now", False)
        ]
        return super().context_for_delta_changes(dataclasses.replace(delta, changes=changes))

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if value is None or value == "":
            return "—"
        if field.choices and not isinstance(value, list):
            return dict(field.flatchoices).get(value, value)
        if isinstance(value, datetime):
            return date_format(timezone.localtime(value), "DATETIME_FORMAT")
        if isinstance(value, date):
            return date_format(value)
        return super().prepare_delta_change_value(change, value)


class CuratedAdmin(SimpleHistoryAdmin):
    """History with field diffs and revert, for every curated model."""

    formfield_overrides = URL_FIELDS

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableDiffs(self.model, historical_record)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Citations and overrides go with their claim. Their own admin pages are read-only
        # (EditedInTheirClaim), which is no reason to refuse deleting the claim; their model
        # permission still decides.
        for model in (Citation, ClaimStatusOverride):
            opts = model._meta
            if request.user.has_perm(f"{opts.app_label}.{get_permission_codename('delete', opts)}"):
                perms_needed.discard(opts.verbose_name)
        # Django also asks for permission to delete what is protected, which is never deleted:
        # a published claim would hide the real reason (the claim relies on this row).
        if protected:
            perms_needed = set()
        return deleted, counts, perms_needed, protected

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple_history lets anyone who may *view* the history post its revert form, and
        # only hides the button from them: reverting is changing.
        if request.method == "POST":
            obj = self.get_object(request, unquote(object_id))
            if not self.has_change_permission(request, obj):
                raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class BulkAdmin(ImportExportMixin):
    """Import (with its dry-run preview) and export, as CSV or XLSX. Importing takes the
    permissions to add and to change; exporting, to view. An import writes nothing unless
    every row is valid: import-export rolls back on errors, and here on invalid rows too."""

    formats = [CSV, XLSX]
    # The import page with a template file to download and what each column means.
    import_template_name = "admin/claims/import.html"

    def get_urls(self):
        info = self.get_model_info()
        return [
            path(
                "import/template.csv",
                self.admin_site.admin_view(self.import_template_view),
                name="{}_{}_import_template".format(*info),
            ),
            *super().get_urls(),
        ]

    def import_resource(self):
        (resource_class,) = self.resource_classes
        return resource_class()

    def import_template_view(self, request):
        """A CSV file holding the header row an import reads."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        response = HttpResponse(template_csv(self.import_resource()), content_type="text/csv")
        name = slugify(self.opts.verbose_name_plural)
        response["Content-Disposition"] = f'attachment; filename="{name}-template.csv"'
        return response

    def get_import_context_data(self, **kwargs):
        info = self.get_model_info()
        return {
            **super().get_import_context_data(**kwargs),
            "import_columns": describe_columns(self.import_resource()),
            "import_template_url": reverse("admin:{}_{}_import_template".format(*info)),
        }

    def has_import_permission(self, request):
        # The model's permissions, not the admin's: citations import, though their own admin
        # pages are read-only.
        opts = self.opts
        return all(
            request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")
            for action in ("add", "change")
        )

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_import_data_kwargs(self, **kwargs):
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def process_result(self, result, request):
        # The confirmed import runs again on the stored file; should the data have changed
        # since its preview (a clinic deleted meanwhile), it was rolled back: say so.
        if result.has_errors() or result.has_validation_errors():
            self.message_user(
                request,
                "Nothing was imported: the data changed since the preview, and some rows are "
                "no longer valid. Import the file again to see why.",
                level=messages.ERROR,
            )
            info = self.get_model_info()
            return HttpResponseRedirect(reverse("admin:{}_{}_changelist".format(*info)))
        return super().process_result(result, request)


class RecheckFilter(admin.SimpleListFilter):
    """Statuses (or treatments with a status) nobody has re-checked for over 12 months."""

    title = "re-check"
    parameter_name = "recheck"

    def lookups(self, request, model_admin):
        return [("due", "Not re-checked in 12 months")]

    def queryset(self, request, queryset):
        if self.value() == "due":
            return queryset.due_for_recheck()
        return None


@admin.display(description="Checked on", ordering="checked_on")
def checked(record):
    """When the source was last checked, with a warning once that is over 12 months ago."""
    day = date_format(record.checked_on)
    if record.is_due_for_recheck():
        return format_html("<strong>⚠ {}: not re-checked in 12 months</strong>", day)
    return day


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
    search_fields = ["name", "slug", "city"]
    prepopulated_fields = {"slug": ("name",)}
    date_hierarchy = "starts_on"


@admin.register(Presentation)
class PresentationAdmin(CuratedAdmin):
    list_display = ["title", "conference", "speaker", "given_on"]
    list_filter = ["conference"]
    list_select_related = ["conference"]
    search_fields = ["title", "slug", "speaker", "affiliation", "conference__name"]
    autocomplete_fields = ["conference"]
    prepopulated_fields = {"slug": ("title",)}


# --- Who made them, about what ----------------------------------------------------------------


@admin.register(Clinic)
class ClinicAdmin(BulkAdmin, CuratedAdmin):
    resource_classes = [ClinicResource]
    list_display = ["name", "kind", "city", "country"]
    list_filter = ["kind", ("country", CountryFilter)]
    search_fields = ["name", "slug", "city"]
    prepopulated_fields = {"slug": ("name",)}


@admin.register(ExosomeSource)
class ExosomeSourceAdmin(CuratedAdmin):
    list_display = ["name", "category", "origin"]
    list_filter = ["origin", "category"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Indication)
class IndicationAdmin(CuratedAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}


class RegulatoryStatusInline(admin.StackedInline):
    model = RegulatoryStatus
    formfield_overrides = URL_FIELDS
    extra = 0
    fields = ["jurisdiction", "status", "explanation", "source_url", "checked_on"]


@admin.register(Treatment)
class TreatmentAdmin(BulkAdmin, CuratedAdmin):
    resource_classes = [TreatmentResource]
    list_filter = ["route", "source__origin", "source", RecheckFilter]
    list_select_related = ["source"]
    search_fields = ["name", "slug", "product", "combined_procedure", "source__name"]
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
                    if record.is_due_for_recheck():
                        return f"{describe(record.status_choice)} ⚠ re-check"
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
class RegulatoryStatusAdmin(BulkAdmin, CuratedAdmin):
    resource_classes = [RegulatoryStatusResource]
    list_display = ["treatment", "jurisdiction", "status", checked]
    list_filter = ["jurisdiction", "status", RecheckFilter]
    list_select_related = ["treatment", "jurisdiction"]
    search_fields = ["treatment__name", "treatment__slug", "jurisdiction__code", "explanation"]
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


class CitationInline(admin.StackedInline):
    # Stacked, a few fields a line: as a table its seven inputs made the form 2,092 px wide at
    # a 1280 px window, with titles and URLs cut to a few characters.
    model = Citation
    formfield_overrides = URL_FIELDS
    formset = CitationInlineFormSet
    extra = 1
    fields = [("kind", "accessed_on", "position"), "title", "publisher", "url", "note"]


class ClaimStatusOverrideInline(admin.StackedInline):
    model = ClaimStatusOverride
    formfield_overrides = URL_FIELDS
    extra = 0
    fields = ["jurisdiction", "status", "reason", "explanation", "source_url", "checked_on"]


class ClaimAdminForm(forms.ModelForm):
    """The claim change form; ClaimAdmin supplies the model and fields from its fieldsets."""

    note = forms.CharField(
        max_length=100,
        required=False,
        label="Note for the history",
        help_text="Why you make this change, or send back or retract the claim. A retraction's "
        "note is shown to readers.",
    )

    def clean(self):
        cleaned_data = super().clean()
        if (
            self.instance.state == Claim.State.PUBLISHED
            and cleaned_data.get("presentation")
            and not cleaned_data.get("conference")
        ):
            self.add_error(
                "conference", "A claim made in a presentation needs that presentation's conference."
            )
        return cleaned_data


# The change form's workflow buttons: the POST name of each, where it moves the claim, its label.
WORKFLOW_BUTTONS = {
    "_submit_for_review": (Claim.State.IN_REVIEW, "Save and submit for review"),
    "_send_back": (Claim.State.DRAFT, "Save and send back to draft"),
    "_publish": (Claim.State.PUBLISHED, "Save and publish"),
    "_retract": (Claim.State.RETRACTED, "Save and retract"),
}
MOVED = {
    Claim.State.IN_REVIEW: ("Submitted %d claim for review.", "Submitted %d claims for review."),
    Claim.State.DRAFT: ("Sent %d claim back to draft.", "Sent %d claims back to draft."),
    Claim.State.PUBLISHED: ("Published %d claim.", "Published %d claims."),
    Claim.State.RETRACTED: ("Retracted %d claim.", "Retracted %d claims."),
}


@admin.register(Claim)
class ClaimAdmin(BulkAdmin, CuratedAdmin):
    form = ClaimAdminForm
    resource_classes = [ClaimResource]
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
    search_fields = ["title", "slug", "statement", "clinic__name", "treatment__name"]
    autocomplete_fields = [
        "clinic",
        "treatment",
        "conference",
        "presentation",
        "indications",
        "evidence_level",
    ]
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ["state", "workflow", "published_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "statement", "outcome", "context_note"]}),
        ("Who said it, where", {"fields": ["clinic", "conference", "presentation", "made_on"]}),
        ("About what", {"fields": ["treatment", "indications", "evidence_level"]}),
        (
            "Publication",
            {
                "fields": [
                    "state",
                    "workflow",
                    "note",
                    "published_at",
                    "last_reviewed_on",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]
    inlines = [CitationInline, ClaimStatusOverrideInline]
    actions = ["submit_for_review", "send_back", "publish", "retract"]

    def get_actions(self, request):
        # Only superusers may delete a claim readers have seen (has_delete_permission): others
        # would be offered a bulk delete that refuses every published or retracted claim.
        # They delete a draft from its own form.
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("delete_selected", None)
        return actions

    def get_export_resource_classes(self, request):
        return [ClaimExportResource]

    def add_success_message(self, result, request):
        super().add_success_message(result, request)
        if result.totals[RowResult.IMPORT_TYPE_NEW]:
            self.message_user(
                request,
                format_html(
                    'A claim is published only with a citation: next, <a href="{}">import '
                    "their citations</a>, naming each claim by its slug.",
                    reverse("admin:claims_citation_import"),
                ),
                level=messages.INFO,
            )

    def get_queryset(self, request):
        # for_display() prefetches statuses and overrides, so the flag columns cost a fixed
        # number of queries however many claims the page shows.
        return super().get_queryset(request).for_display()

    def get_list_display(self, request):
        return (
            ["title", "clinic", "treatment", "evidence_level"]
            + [self.flag_column(jurisdiction) for jurisdiction in jurisdictions_for(request)]
            + ["state", "updated"]
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

    @admin.display(description="Updated", ordering="updated_at")
    def updated(self, claim):
        # The day is what an editor scans for; the full time is in the form and the history.
        return date_format(timezone.localtime(claim.updated_at))

    @admin.display(description="Workflow log")
    def workflow(self, claim):
        if claim.pk is None:
            return "New claims start as drafts."
        rows = []
        for move in workflow_log(claim):
            what = (
                f"{move.from_state.label} → {move.to_state.label}"
                if move.from_state
                else f"Created as {move.to_state.described}"
            )
            when = date_format(timezone.localtime(move.at), "DATETIME_FORMAT")
            note = f": {move.note}" if move.note else ""
            rows.append((when, move.by or "nobody signed in", what, note))
        return format_html(
            '<ol class="workflow-log">{}</ol>',
            format_html_join("", "<li>{} · {} · {}{}</li>", rows),
        )

    # --- The workflow ---

    def has_publish_permission(self, request):
        return request.user.has_perm(Claim.MOVES[Claim.State.PUBLISHED][1])

    def has_delete_permission(self, request, obj=None):
        # A claim readers have seen is retracted, not deleted, so links to it keep working;
        # superusers may still delete one (a legal takedown). The bulk delete action asks this
        # for every selected claim.
        if obj is not None and obj.state in {Claim.State.PUBLISHED, Claim.State.RETRACTED}:
            return request.user.is_superuser
        return super().has_delete_permission(request, obj)

    def requested_move(self, request):
        """The state a workflow button asks for, or None. Refuses (403) a button the user's
        permissions do not offer, whatever the form showed."""
        names = [name for name in WORKFLOW_BUTTONS if name in request.POST]
        if not names:
            return None
        if len(names) > 1:
            raise PermissionDenied("One workflow button at a time.")
        state, _ = WORKFLOW_BUTTONS[names[0]]
        if not request.user.has_perm(Claim.MOVES[state][1]):
            raise PermissionDenied
        return state

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST":
            # Checked before anything is saved: a refused move leaves the claim as it was.
            state = self.requested_move(request)
            if state is not None and object_id is None:
                raise PermissionDenied("Save the new claim before moving it.")
        return super().changeform_view(request, object_id, form_url, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST" and self.requested_move(request) is not None:
            raise PermissionDenied("Reverting never moves a claim between states.")
        return super().history_form_view(request, object_id, version_id, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["workflow_buttons"] = [
            (name, label)
            for name, (state, label) in WORKFLOW_BUTTONS.items()
            if obj is not None and obj.can_move_to(state, request.user)
        ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        if change:
            # Only the workflow moves a claim between states: saving the form, or reverting
            # to an old version, keeps the state and publication date the claim has now.
            obj.state, obj.published_at = (
                Claim.objects.filter(pk=obj.pk).values_list("state", "published_at").get()
            )
        if self.requested_move(request) is None:
            obj._change_reason = form.cleaned_data.get("note") or None
        super().save_model(request, obj, form, change)

    def response_change(self, request, obj):
        state = self.requested_move(request)
        if state is None:
            return super().response_change(request, obj)
        try:
            obj.move_to(state, request.user, request.POST.get("note", ""))
        except ValidationError as error:
            self.message_user(
                request,
                f"Your changes were saved, but {' '.join(error.messages)}",
                level=messages.ERROR,
            )
        else:
            singular, plural = MOVED[state]
            self.message_user(request, ngettext(singular, plural, 1) % 1, level=messages.SUCCESS)
        return HttpResponseRedirect(request.path)

    def move(self, request, queryset, state):
        moved = 0
        for claim in queryset:
            try:
                claim.move_to(state, request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), level=messages.ERROR)
            else:
                moved += 1
        if moved:
            singular, plural = MOVED[state]
            self.message_user(
                request, ngettext(singular, plural, moved) % moved, level=messages.SUCCESS
            )

    @admin.action(description="Submit selected claims for review", permissions=["change"])
    def submit_for_review(self, request, queryset):
        self.move(request, queryset, Claim.State.IN_REVIEW)

    @admin.action(description="Send selected claims back to draft", permissions=["publish"])
    def send_back(self, request, queryset):
        self.move(request, queryset, Claim.State.DRAFT)

    @admin.action(description="Publish selected claims", permissions=["publish"])
    def publish(self, request, queryset):
        self.move(request, queryset, Claim.State.PUBLISHED)

    @admin.action(description="Retract selected claims", permissions=["publish"])
    def retract(self, request, queryset):
        self.move(request, queryset, Claim.State.RETRACTED)


# --- Rows edited inside their claim, registered for their history -------------------------------


class EditedInTheirClaim:
    """Citations and overrides are edited in their claim's change form, which checks them
    together. Their own pages are read-only: for finding them and browsing their history (and
    for importing citations in bulk)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Citation)
class CitationAdmin(EditedInTheirClaim, BulkAdmin, CuratedAdmin):
    resource_classes = [CitationResource]
    list_display = ["title", "claim", "kind", "publisher", "accessed_on"]
    list_filter = ["kind"]
    list_select_related = ["claim"]
    search_fields = ["title", "publisher", "url", "claim__title", "claim__slug"]


@admin.register(ClaimStatusOverride)
class ClaimStatusOverrideAdmin(EditedInTheirClaim, CuratedAdmin):
    list_display = ["claim", "jurisdiction", "status", checked]
    list_filter = ["jurisdiction", "status", RecheckFilter]
    list_select_related = ["claim", "jurisdiction"]
    search_fields = ["claim__title", "claim__slug", "reason", "explanation"]
