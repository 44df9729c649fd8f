"""The editors' admin. It mirrors the public claim filters, shows one flag column per
jurisdiction (built from the Jurisdiction table, never from code), and keeps history with diffs
and revert on every curated model through simple_history.

The workflow: editors (the Editors group) create and edit claims and submit them for review;
publishers (the Publishers group, holding `claims.publish_claim`) publish, retract and send back.
A claim's state is never a form field: it moves only through Claim.move_to(), from the
changelist's actions or the change form's workflow buttons, each offered to, and accepted from,
only those whose permissions allow it. Claims, their citations, clinics, treatments and
regulatory statuses import and export as CSV or XLSX (claims.resources and, for the rows readers
see, claims.reviewed_resources)."""

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
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy
from django.views import defaults
from django_countries.filters import CountryFilter
from import_export.admin import ImportExportMixin
from import_export.results import RowResult
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from claims import revision_content, revisions
from claims.facets import STATIC_FACETS, CountryFacet, RelatedFacet
from claims.history import workflow_log
from claims.import_columns import describe_columns, template_csv
from claims.models import (
    Citation,
    Claim,
    ClaimRevision,
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
    StatusRevision,
    Treatment,
)
from claims.resources import (
    CheckedCSV,
    CheckedImportForm,
    CheckedXLSX,
    ClinicResource,
    ImportRefused,
    TreatmentResource,
)
from claims.reviewed_resources import (
    CitationResource,
    ClaimExportResource,
    ClaimResource,
    RegulatoryStatusResource,
)

NEEDS_A_CITATION = gettext_lazy("A published claim needs at least one citation.")

admin.site.site_header = "Claimwatch"
admin.site.site_title = gettext_lazy("Claimwatch admin")
admin.site.index_title = gettext_lazy("Curate claims and what they rely on")
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
        "title": _("You may not do that"),
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

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += [f for f in revisions.locked_fields(obj, request.user) if f not in readonly]
        return readonly

    def get_prepopulated_fields(self, request, obj=None):
        readonly = set(self.get_readonly_fields(request, obj))
        prepopulated = super().get_prepopulated_fields(request, obj)
        return {name: sources for name, sources in prepopulated.items() if name not in readonly}

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
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            # A deleted row's versions stay in the history, but saving one would update a row
            # that is not there (a 500): say so instead.
            version = self.model.history.filter(pk=version_id).first()
            name = str(version.instance) if version else self.opts.verbose_name
            self.message_user(
                request,
                _(
                    "“%(name)s” was deleted, so it cannot be reverted from its history. "
                    "Add the %(kind)s again, or import it, instead."
                )
                % {"name": name, "kind": self.opts.verbose_name},
                level=messages.ERROR,
            )
            return HttpResponseRedirect(
                reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
            )
        # simple_history lets anyone who may *view* the history post its revert form, and
        # only hides the button from them: reverting is changing.
        if request.method == "POST" and not self.has_change_permission(request, obj):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class BulkAdmin(ImportExportMixin):
    """Import (with its dry-run preview) and export, as CSV or XLSX. Importing takes the
    permissions to add and to change; exporting, to view. An import writes nothing unless
    every row is valid: import-export rolls back on errors, and here on invalid rows too."""

    formats = [CheckedCSV, CheckedXLSX]
    import_form_class = CheckedImportForm
    # The import page with a template file to download and what each column means.
    import_template_name = "admin/claims/import.html"

    def add_data_read_fail_error_to_form(self, form, e):
        # A refused file says why; anything else is import-export's own message.
        if isinstance(e, ImportRefused):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

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
                _(
                    "Nothing was imported: the data changed since the preview, and some rows "
                    "are no longer valid. Import the file again to see why."
                ),
                level=messages.ERROR,
            )
            info = self.get_model_info()
            return HttpResponseRedirect(reverse("admin:{}_{}_changelist".format(*info)))
        return super().process_result(result, request)


class RecheckFilter(admin.SimpleListFilter):
    """Statuses (or treatments with a status) nobody has re-checked for over 12 months."""

    title = gettext_lazy("re-check")
    parameter_name = "recheck"

    def lookups(self, request, model_admin):
        return [("due", _("Not re-checked in 12 months"))]

    def queryset(self, request, queryset):
        if self.value() == "due":
            return queryset.due_for_recheck()
        return None


@admin.display(description=gettext_lazy("Checked on"), ordering="checked_on")
def checked(record):
    """When the source was last checked, with a warning once that is over 12 months ago."""
    day = date_format(record.checked_on)
    if record.is_due_for_recheck():
        return format_html(
            "<strong>{}</strong>", _("⚠ %(day)s: not re-checked in 12 months") % {"day": day}
        )
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
    return _("%(flag)s (override)") % {"flag": text} if overridden else text


class RelatedChoicesOncePerRequest(admin.RelatedFieldListFilter):
    """A related-object filter that reads its choices once per request. With facets on, the
    changelist rebuilds every filter for each filter's counts, which would otherwise read the
    same choices again each time."""

    def field_choices(self, field, request, model_admin):
        cache = request.__dict__.setdefault("_claimwatch_filter_choices", {})
        if self.field_path not in cache:
            cache[self.field_path] = super().field_choices(field, request, model_admin)
        return cache[self.field_path]


def facet_list_filter(spec):
    """The changelist's sidebar filter mirroring a facet of the public list."""
    if isinstance(spec, CountryFacet):
        return (spec.admin_path, CountryFilter)
    if isinstance(spec, RelatedFacet):
        return (spec.admin_path, RelatedChoicesOncePerRequest)
    return spec.admin_path


def flag_filter(jurisdiction):
    """A sidebar filter on a claim's effective flag in one jurisdiction, override included."""

    class FlagFilter(admin.SimpleListFilter):
        title = _("%(jurisdiction)s flag") % {"jurisdiction": jurisdiction.short_label}
        parameter_name = f"flag_{jurisdiction.code}"

        def lookups(self, request, model_admin):
            return Status.choices

        def queryset(self, request, queryset):
            if self.value() in Status.values:
                return queryset.with_status_in(jurisdiction, [self.value()])
            return None

    return FlagFilter


def review_context(request, pending, revisions_of_object):
    """What a change form says about review: the change awaiting it, and the latest decision
    on the user's own changes (a rejection's note is how the editor is told why)."""
    latest = (
        revisions_of_object.exclude(state=ClaimRevision.State.PENDING)
        .filter(created_by=request.user)
        .exclude(reviewed_by=request.user)
        .select_related("reviewed_by")
        .order_by("-reviewed_at")
        .first()
    )
    review_url = None
    if pending is not None:
        opts = pending._meta
        review_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pending.pk])
    return {"pending_revision": pending, "review_url": review_url, "latest_decision": latest}


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
    """A treatment's statuses. An editor changes those that public claims inherit on their own
    page, where the change waits for a Publisher: here they are read-only for them."""

    model = RegulatoryStatus
    formfield_overrides = URL_FIELDS
    extra = 0
    fields = [
        "jurisdiction",
        "status",
        "appearance_claim",
        "explanation",
        "source_url",
        "source_title",
        "checked_on",
    ]

    def _gated(self, request, treatment):
        # Asked by each permission check below, several times per form: one query per request.
        answers = request.__dict__.setdefault("_status_review_gates", {})
        key = treatment.pk if treatment is not None else None
        if key not in answers:
            answers[key] = revisions.status_needs_review(treatment, request.user)
        return answers[key]

    def has_add_permission(self, request, obj=None):
        return not self._gated(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._gated(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._gated(request, obj) and super().has_delete_permission(request, obj)


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


class RegulatoryStatusForm(forms.ModelForm):
    """A status; for an editor whose change waits for a Publisher, as that change has it."""

    version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        status = self.instance
        self.pending = (
            status.pending_revision if getattr(status, "editing_pending", False) else None
        )
        if self.pending is not None:
            self.initial.update(self.pending.content)
        if status.pk is not None:
            self.initial["version"] = revisions.version_of(status, self.pending)

    def clean(self):
        cleaned_data = super().clean()
        status = self.instance
        if status.pk is not None and "version" in self.data:
            revisions.check_version(cleaned_data.get("version"), status, self.pending)
        treatment, jurisdiction = cleaned_data.get("treatment"), cleaned_data.get("jurisdiction")
        if status.pk is None and treatment is not None and jurisdiction is not None:
            pending = StatusRevision.objects.pending().filter(
                treatment=treatment, jurisdiction=jurisdiction
            )
            if pending.exists():
                raise ValidationError(
                    _("This treatment already has a change to this status awaiting review.")
                )
        return cleaned_data


@admin.register(RegulatoryStatus)
class RegulatoryStatusAdmin(BulkAdmin, CuratedAdmin):
    form = RegulatoryStatusForm
    resource_classes = [RegulatoryStatusResource]
    list_display = ["treatment", "jurisdiction", "status", checked]
    list_filter = ["jurisdiction", "status", RecheckFilter]
    list_select_related = ["treatment", "jurisdiction"]
    search_fields = ["treatment__name", "treatment__slug", "jurisdiction__code", "explanation"]
    autocomplete_fields = ["treatment", "jurisdiction"]

    def get_object(self, request, object_id, from_field=None):
        status = super().get_object(request, object_id, from_field)
        if status is not None:
            status.pending_revision = (
                StatusRevision.objects.pending()
                .filter(treatment=status.treatment_id, jurisdiction=status.jurisdiction_id)
                .select_related("created_by")
                .first()
            )
            status.editing_pending = status.pending_revision is not None and (
                revisions.status_needs_review(status.treatment, request.user)
            )
        return status

    def has_delete_permission(self, request, obj=None):
        # An editor sets “Not assessed” instead, which a Publisher reviews.
        if obj is not None and revisions.status_needs_review(obj.treatment, request.user):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        target = {"treatment": obj.treatment, "jurisdiction": obj.jurisdiction}
        if revisions.status_needs_review(obj.treatment, request.user):
            request.claimwatch_pending = True
            request.claimwatch_revision = revisions.propose_status_change(
                obj.treatment, obj.jurisdiction, revision_content.status_content(obj), request.user
            )
            return
        inherited = obj.treatment.claims.public().exists()
        before = (
            revision_content.status_content(revision_content.live_status(**target))
            if inherited
            else None
        )
        super().save_model(request, obj, form, change)
        if inherited:
            after = revision_content.status_content(obj)
            revisions.record_live_change(
                StatusRevision,
                target,
                after,
                revision_content.status_differences(before, after),
                request.user,
            )

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "claimwatch_pending", False):
            return self.pending_response(request)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "claimwatch_pending", False):
            return self.pending_response(request)
        return super().response_change(request, obj)

    def pending_response(self, request):
        if request.claimwatch_revision is None:
            self.message_user(
                request, _("Nothing changed, so nothing awaits review."), messages.INFO
            )
        else:
            self.message_user(request, revisions.AWAITS_A_PUBLISHER, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:claims_regulatorystatus_changelist"))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            decided = StatusRevision.objects.filter(
                treatment=obj.treatment_id, jurisdiction=obj.jurisdiction_id
            )
            context.update(review_context(request, obj.pending_revision, decided))
            context["editing_pending"] = obj.editing_pending
            context["needs_review"] = revisions.status_needs_review(obj.treatment, request.user)
        return super().render_change_form(request, context, add, change, form_url, obj)


# --- Claims ---------------------------------------------------------------------------------------


class PendingRowsFormSet(forms.BaseInlineFormSet):
    """A claim's rows as the editor's pending revision has them, when their form shows it
    (`editing_pending`): its rows with an id edit those rows, its new rows come as extra forms
    filled in, and rows it removed are not shown."""

    content_key = None  # the revision content's list of these rows

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pending_rows = None
        claim = self.instance
        if not getattr(claim, "editing_pending", False):
            return
        rows = claim.pending_revision.content[self.content_key]
        self.pending_rows = []
        for values in rows:
            if values["id"] is None:
                continue
            row = self.model(claim=claim)
            revisions.assign(row, values)
            row._state.adding, row._state.db = False, claim._state.db
            self.pending_rows.append(row)
        self.initial_extra = [
            {name: value for name, value in values.items() if name != "id"}
            for values in rows
            if values["id"] is None
        ]
        self.extra = max(self.extra, len(self.initial_extra))

    def get_queryset(self):
        return super().get_queryset() if self.pending_rows is None else self.pending_rows

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        # A pending new row is kept though the editor did not touch it this time.
        if index is not None and 0 <= index - self.initial_form_count() < len(
            self.initial_extra or []
        ):
            kwargs["empty_permitted"] = False
        return kwargs


class CitationInlineFormSet(PendingRowsFormSet):
    """Refuses to leave a published claim without citations. The check lives here because the
    citations being saved are this formset's rows, not what the database holds yet."""

    content_key = "citations"

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


class OverrideInlineFormSet(PendingRowsFormSet):
    content_key = "overrides"


class ClaimStatusOverrideInline(admin.StackedInline):
    model = ClaimStatusOverride
    formfield_overrides = URL_FIELDS
    formset = OverrideInlineFormSet
    extra = 0
    fields = [
        "jurisdiction",
        "status",
        "appearance_claim",
        "reason",
        "explanation",
        "source_url",
        "source_title",
        "checked_on",
    ]


class ClaimAdminForm(forms.ModelForm):
    """The claim change form; ClaimAdmin supplies the model and fields from its fieldsets."""

    note = forms.CharField(
        max_length=100,
        required=False,
        label=gettext_lazy("Note for the history"),
        help_text=gettext_lazy(
            "Why you make this change, or send back or retract the claim. A retraction's "
            "note is shown to readers."
        ),
    )

    version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        claim = self.instance
        self.pending = claim.pending_revision if getattr(claim, "editing_pending", False) else None
        if self.pending is not None:
            content = self.pending.content
            self.initial.update(
                {name: value for name, value in content["fields"].items() if name in self.fields}
            )
            self.initial["indications"] = content["indications"]
        if claim.pk is not None:
            self.initial["version"] = revisions.version_of(claim, self.pending)

    def clean(self):
        cleaned_data = super().clean()
        if self.instance.pk is not None and "version" in self.data:
            revisions.check_version(cleaned_data.get("version"), self.instance, self.pending)
        return cleaned_data


# The change form's workflow buttons: the POST name of each, where it moves the claim, its label.
WORKFLOW_BUTTONS = {
    "_submit_for_review": (Claim.State.IN_REVIEW, gettext_lazy("Save and submit for review")),
    "_send_back": (Claim.State.DRAFT, gettext_lazy("Save and send back to draft")),
    "_publish": (Claim.State.PUBLISHED, gettext_lazy("Save and publish")),
    "_retract": (Claim.State.RETRACTED, gettext_lazy("Save and retract")),
}
MOVED = {
    Claim.State.IN_REVIEW: ngettext_lazy(
        "Submitted %d claim for review.", "Submitted %d claims for review."
    ),
    Claim.State.DRAFT: ngettext_lazy(
        "Sent %d claim back to draft.", "Sent %d claims back to draft."
    ),
    Claim.State.PUBLISHED: ngettext_lazy("Published %d claim.", "Published %d claims."),
    Claim.State.RETRACTED: ngettext_lazy("Retracted %d claim.", "Retracted %d claims."),
}


@admin.register(Claim)
class ClaimAdmin(BulkAdmin, CuratedAdmin):
    form = ClaimAdminForm
    resource_classes = [ClaimResource]
    # The public list's facets, then (get_list_filter) each jurisdiction's flag.
    list_filter = ["state", *(facet_list_filter(spec) for spec in STATIC_FACETS if spec.in_admin)]
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
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    "statement",
                    "quote",
                    "quote_source",
                    "outcome",
                    "context_note",
                    "unverified",
                ]
            },
        ),
        (
            gettext_lazy("Who said it, where"),
            {"fields": ["clinic", "conference", "presentation", "made_on"]},
        ),
        (gettext_lazy("About what"), {"fields": ["treatment", "indications", "evidence_level"]}),
        (
            gettext_lazy("Publication"),
            {
                "fields": [
                    "state",
                    "workflow",
                    "note",
                    "version",
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
                    _(
                        'A claim is published only with a citation: next, <a href="{}">import '
                        "their citations</a>, naming each claim by its slug."
                    ),
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
            ["claim", "evidence_level"]
            + [self.flag_column(jurisdiction) for jurisdiction in jurisdictions_for(request)]
            + ["state", "updated"]
        )

    @admin.display(description=gettext_lazy("Claim"), ordering="title")
    def claim(self, claim):
        # Who made it and about what, under its title: three columns of names would leave no
        # room at 1280 px for a flag column per jurisdiction.
        return format_html(
            '<span class="claim-title">{}</span><span class="claim-facts">{} · {}</span>',
            claim.title,
            claim.clinic,
            claim.treatment,
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

    @admin.display(description=gettext_lazy("Updated"), ordering="updated_at")
    def updated(self, claim):
        # The day is what an editor scans for; the full time is in the form and the history.
        return date_format(timezone.localtime(claim.updated_at))

    @admin.display(description=gettext_lazy("Workflow log"))
    def workflow(self, claim):
        if claim.pk is None:
            return _("New claims start as drafts.")
        events = []
        for move in workflow_log(claim):
            what = (
                f"{move.from_state.label} → {move.to_state.label}"
                if move.from_state
                else _("Created as %(state)s") % {"state": move.to_state.described}
            )
            events.append((move.at, move.by or _("nobody signed in"), what, move.note))
        events += revisions.review_log(claim)
        rows = [
            (
                date_format(timezone.localtime(at), "DATETIME_FORMAT"),
                by,
                what,
                f": {note}" if note else "",
            )
            for at, by, what, note in sorted(events, key=lambda event: event[0])
        ]
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
            raise PermissionDenied(_("One workflow button at a time."))
        state, _label = WORKFLOW_BUTTONS[names[0]]
        if not request.user.has_perm(Claim.MOVES[state][1]):
            raise PermissionDenied
        return state

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST":
            # Checked before anything is saved: a refused move leaves the claim as it was.
            state = self.requested_move(request)
            if state is not None and object_id is None:
                raise PermissionDenied(_("Save the new claim before moving it."))
        return super().changeform_view(request, object_id, form_url, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST" and self.requested_move(request) is not None:
            raise PermissionDenied(_("Reverting never moves a claim between states."))
        request.claimwatch_reverting = True
        response = super().history_form_view(request, object_id, version_id, extra_context)
        if getattr(request, "claimwatch_pending", False) and response.status_code == 302:
            self.message_user(request, revisions.AWAITS_A_PUBLISHER, level=messages.SUCCESS)
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["workflow_buttons"] = [
            (name, label)
            for name, (state, label) in WORKFLOW_BUTTONS.items()
            if obj is not None and obj.can_move_to(state, request.user)
        ]
        if obj is not None and obj.pk is not None:
            context.update(review_context(request, obj.pending_revision, obj.revisions.all()))
            context["editing_pending"] = obj.editing_pending
            context["needs_review"] = revisions.claim_needs_review(obj, request.user)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_object(self, request, object_id, from_field=None):
        claim = super().get_object(request, object_id, from_field)
        if claim is not None:
            claim.pending_revision = claim.revisions.pending().select_related("created_by").first()
            # An editor goes on from the change awaiting review; a Publisher edits the live
            # claim and reviews the pending one apart.
            claim.editing_pending = claim.pending_revision is not None and (
                revisions.claim_needs_review(claim, request.user)
            )
        return claim

    def save_model(self, request, obj, form, change):
        if change:
            # Only the workflow moves a claim between states: saving the form, or reverting
            # to an old version, keeps the state and publication date the claim has now.
            obj.state, obj.published_at = (
                Claim.objects.filter(pk=obj.pk).values_list("state", "published_at").get()
            )
            if revisions.claim_needs_review(obj, request.user):
                # The live claim stays exactly as it is: save_related (or, reverting, this)
                # stores the change as its pending revision instead.
                request.claimwatch_pending = True
                form.save_m2m = lambda: None
                if getattr(request, "claimwatch_reverting", False):
                    self.propose(request, form, [])
                return
            if obj.is_public():
                request.claimwatch_live_before = revision_content.claim_content(
                    Claim.objects.get(pk=obj.pk)
                )
        if self.requested_move(request) is None:
            obj._change_reason = form.cleaned_data.get("note") or None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        if getattr(request, "claimwatch_pending", False):
            if not getattr(request, "claimwatch_reverting", False):
                self.propose(request, form, formsets)
            return
        super().save_related(request, form, formsets, change)
        before = getattr(request, "claimwatch_live_before", None)
        if before is not None:
            claim = form.instance
            after = revision_content.claim_content(claim)
            revisions.record_live_change(
                ClaimRevision,
                {"claim": claim},
                after,
                revision_content.claim_differences(before, after),
                request.user,
                form.cleaned_data.get("note") or "",
            )

    def propose(self, request, form, formsets):
        content = revision_content.claim_content_from_forms(form, formsets)
        request.claimwatch_revision = revisions.propose_claim_change(
            form.instance, content, request.user, form.cleaned_data.get("note") or ""
        )

    def construct_change_message(self, request, form, formsets, add=False):
        if getattr(request, "claimwatch_pending", False):
            # The inlines saved nothing: the admin's log says a change awaits review.
            return [{"changed": {"fields": [_("a change awaiting review")]}}]
        return super().construct_change_message(request, form, formsets, add)

    def response_change(self, request, obj):
        if getattr(request, "claimwatch_pending", False):
            if getattr(request, "claimwatch_revision", None) is None:
                self.message_user(
                    request,
                    _("Nothing changed from the published version, so nothing awaits review."),
                    level=messages.INFO,
                )
            else:
                self.message_user(request, revisions.AWAITS_A_PUBLISHER, level=messages.SUCCESS)
            return HttpResponseRedirect(request.path)
        state = self.requested_move(request)
        if state is None:
            return super().response_change(request, obj)
        try:
            obj.move_to(state, request.user, request.POST.get("note", ""))
        except ValidationError as error:
            self.message_user(
                request,
                _("Your changes were saved, but %(problems)s")
                % {"problems": " ".join(error.messages)},
                level=messages.ERROR,
            )
        else:
            self.message_user(request, MOVED[state] % 1, level=messages.SUCCESS)
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
            self.message_user(request, MOVED[state] % moved, level=messages.SUCCESS)

    @admin.action(
        description=gettext_lazy("Submit selected claims for review"), permissions=["change"]
    )
    def submit_for_review(self, request, queryset):
        self.move(request, queryset, Claim.State.IN_REVIEW)

    @admin.action(
        description=gettext_lazy("Send selected claims back to draft"), permissions=["publish"]
    )
    def send_back(self, request, queryset):
        self.move(request, queryset, Claim.State.DRAFT)

    @admin.action(description=gettext_lazy("Publish selected claims"), permissions=["publish"])
    def publish(self, request, queryset):
        self.move(request, queryset, Claim.State.PUBLISHED)

    @admin.action(description=gettext_lazy("Retract selected claims"), permissions=["publish"])
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


# --- Review: changes awaiting a Publisher -------------------------------------------------------


class RevisionAdmin(admin.ModelAdmin):
    """The review queue, and a change's review screen: field by field, what approving it would
    change in what readers see, with Approve and Reject. Nobody edits a revision: editors make
    them by editing, Publishers decide on them here."""

    list_display = ["__str__", "state", "created_by", "created_at", "reviewed_by", "reviewed_at"]
    list_filter = ["state"]
    list_select_related = ["created_by", "reviewed_by"]
    review_template = "admin/claims/review.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def target(self, revision):
        """The live thing the revision changes, and its admin page."""
        raise NotImplementedError

    def change_view(self, request, object_id, form_url="", extra_context=None):
        revision = self.get_object(request, unquote(object_id))
        if revision is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, revision):
            raise PermissionDenied
        if request.method == "POST":
            return self.decide(request, revision)
        target, target_url = self.target(revision)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(revision),
            "revision": revision,
            "target": target,
            "target_url": target_url,
            "differences": revision_content.revision_differences(revision)
            if revision.is_pending()
            else None,
            "may_decide": revision.is_pending() and revisions.may_publish(request.user),
            "stale": revision.is_pending() and self.is_stale(revision),
        }
        return TemplateResponse(request, self.review_template, context)

    def is_stale(self, revision):
        return False

    def decide(self, request, revision):
        note = request.POST.get("review_note", "")
        try:
            if "_approve" in request.POST:
                revisions.approve(revision, request.user, note)
                done = _("Approved: readers now see the change.")
            elif "_reject" in request.POST:
                revisions.reject(revision, request.user, note)
                done = _(
                    "Rejected: readers still see the published version, and the editor your note."
                )
            else:
                raise ValidationError(_("Choose Approve or Reject."))
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), level=messages.ERROR)
            return HttpResponseRedirect(request.path)
        self.message_user(request, done, level=messages.SUCCESS)
        changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        return HttpResponseRedirect(f"{changelist}?state__exact={ClaimRevision.State.PENDING}")


@admin.register(ClaimRevision)
class ClaimRevisionAdmin(RevisionAdmin):
    list_select_related = ["claim", "created_by", "reviewed_by"]
    search_fields = ["claim__title", "claim__slug", "note", "review_note"]

    def target(self, revision):
        return revision.claim, reverse("admin:claims_claim_change", args=[revision.claim_id])

    def is_stale(self, revision):
        return revision.claim.updated_at > revision.created_at


@admin.register(StatusRevision)
class StatusRevisionAdmin(RevisionAdmin):
    list_select_related = ["treatment", "jurisdiction", "created_by", "reviewed_by"]
    list_filter = ["state", "jurisdiction"]
    search_fields = ["treatment__name", "treatment__slug", "note", "review_note"]

    def target(self, revision):
        status = revision_content.live_status(revision.treatment, revision.jurisdiction)
        if status is None:
            return revision.treatment, reverse(
                "admin:claims_treatment_change", args=[revision.treatment_id]
            )
        return status, reverse("admin:claims_regulatorystatus_change", args=[status.pk])
