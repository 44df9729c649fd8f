"""Imports of rows that readers see: claims, their citations and treatments' statuses.

Such a row waits for a Publisher, as the same edit in the admin does (claims.revisions): for an
Editors user it becomes a pending revision instead of a live change, and the import's preview
says which rows will. The rest of an import — reading the file, matching rows, writing them in
batches — is CuratedResource's (claims.resources).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from import_export import fields

from claims import revision_content, revisions
from claims.models import (
    Citation,
    Claim,
    ClaimRevision,
    Clinic,
    Conference,
    EvidenceLevel,
    Indication,
    Jurisdiction,
    Presentation,
    RegulatoryStatus,
    StatusRevision,
    Treatment,
)
from claims.resources import (
    IMPORT_REASON,
    CuratedResource,
    ImportRefused,
    Links,
    Reference,
    References,
)


class ReviewedResource(CuratedResource):
    """Rows that change what readers see wait for a Publisher, as the same edit in the admin
    does (claims.revisions): for an Editors user such a row becomes a pending revision, and
    the preview's `review` column says which rows will (`review_mark`)."""

    review = fields.Field(attribute="import_review", column_name="review", readonly=True)
    # A new claim is a draft; a new citation of a public claim, or a new status of a treatment
    # that public claims use, changes what readers see as much as an edit.
    reviews_new_rows = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.proposals = 0  # pending revisions this import wrote (count_proposal)

    def after_init_instance(self, instance, new, row, **kwargs):
        super().after_init_instance(instance, new, row, **kwargs)
        instance.import_review = self.review_mark(instance, new, kwargs.get("user"))

    def review_mark(self, instance, new, user):
        raise NotImplementedError

    def get_export_fields(self, selected_fields=None):
        # The preview's column, not the data's.
        fields = super().get_export_fields(selected_fields)
        return [field for field in fields if field.column_name != "review"]

    def save_instance(self, instance, is_create, row, **kwargs):
        user = kwargs.get("user")
        reviewed = self.reviews_new_rows or not is_create
        if user is not None and reviewed and self.needs_review(instance, user):
            self.count_proposal()
            self.before_save_instance(instance, row, **kwargs)
            self.propose(instance, row, user)
            instance.import_pending = True
            return
        super().save_instance(instance, is_create, row, **kwargs)

    def count_proposal(self):
        """A pending revision is written a row at a time (claims.revisions), some 30 ms each:
        past IMPORT_MAX_REVIEWED_ROWS of them a file would outlast the request."""
        self.proposals += 1
        limit = settings.IMPORT_MAX_REVIEWED_ROWS
        if self.proposals > limit:
            raise ImportRefused(
                f"This file changes more than {limit:,} published rows, each a pending "
                f"revision for a Publisher: at most {limit:,} such rows can be imported at "
                "once. Split it into smaller files."
            )

    def save_m2m(self, instance, row, **kwargs):
        if not getattr(instance, "import_pending", False):
            super().save_m2m(instance, row, **kwargs)


def pending_for(revision_model, user, **target):
    """The pending revision an import row adds to: the user's own, or none yet. Another
    editor's is theirs to finish and a Publisher's to review: that row is refused."""
    pending = revision_model.objects.pending().filter(**target).select_related("created_by").first()
    if pending is not None and pending.created_by != user:
        raise ValidationError(
            f"{pending} by {pending.created_by or 'nobody'} awaits review: ask a Publisher to "
            "review it before importing over it."
        )
    return pending


def claim_mark(claim, new, user):
    if new:
        return "new (a draft)"
    if not claim.is_public():
        return f"updates {Claim.State(claim.state).described}"
    if revisions.claim_needs_review(claim, user):
        return "updates a published claim (pending review)"
    return "updates a published claim (live at once)"


class ClaimResource(ReviewedResource):
    reviews_new_rows = False
    clinic = fields.Field(attribute="clinic", column_name="clinic", widget=Reference(Clinic))
    conference = fields.Field(
        attribute="conference", column_name="conference", widget=Reference(Conference)
    )
    presentation = fields.Field(
        attribute="presentation", column_name="presentation", widget=Reference(Presentation)
    )
    treatment = fields.Field(
        attribute="treatment", column_name="treatment", widget=Reference(Treatment)
    )
    indications = Links(
        attribute="indications", column_name="indications", widget=References(Indication)
    )
    evidence_level = fields.Field(
        attribute="evidence_level",
        column_name="evidence_level",
        widget=Reference(EvidenceLevel, field="code"),
    )

    class Meta(CuratedResource.Meta):
        model = Claim
        fields = [
            "review",
            "slug",
            "title",
            "statement",
            "outcome",
            "context_note",
            "clinic",
            "conference",
            "presentation",
            "made_on",
            "treatment",
            "indications",
            "evidence_level",
            "last_reviewed_on",
        ]

    def before_save_instance(self, instance, row, **kwargs):
        super().before_save_instance(instance, row, **kwargs)
        # Saved in a batch, not by Claim.save(), which would build this.
        instance.search_document = instance.build_search_document(
            instance.imported_links.get("indications")
        )

    def review_mark(self, claim, new, user):
        return claim_mark(claim, new, user)

    def needs_review(self, claim, user):
        return revisions.claim_needs_review(claim, user)

    def propose(self, claim, row, user):
        live = Claim.objects.get(pk=claim.pk)
        pending = pending_for(ClaimRevision, user, claim=live)
        content = pending.content if pending is not None else revision_content.claim_content(live)
        content["fields"] = revision_content.as_json(
            revision_content.values_of(
                claim, [field.name for field in revision_content.claim_fields()]
            )
        )
        if self.fields["indications"].column_name in row:
            content["indications"] = sorted(i.pk for i in self.fields["indications"].clean(row))
        revisions.propose_claim_change(live, content, user, IMPORT_REASON)


class ClaimExportResource(ClaimResource):
    """The admin's export: the importable columns, and for editors reading it each claim's
    state and first publication, which an import of the file ignores."""

    state = fields.Field(attribute="state", column_name="state", readonly=True)
    published_at = fields.Field(attribute="published_at", column_name="published_at", readonly=True)

    class Meta(ClaimResource.Meta):
        fields = [*ClaimResource.Meta.fields, "state", "published_at"]


class CitationResource(ReviewedResource):
    """A claim's sources, one a row, matched by claim and URL: imported alongside claims,
    since a claim is published only with at least one."""

    claim = fields.Field(attribute="claim", column_name="claim", widget=Reference(Claim))

    def review_mark(self, citation, new, user):
        if citation.claim_id is None:
            return ""
        mark = claim_mark(citation.claim, False, user).replace("updates", "cites in")
        return f"new: {mark}" if new else mark

    def needs_review(self, citation, user):
        return revisions.claim_needs_review(citation.claim, user)

    def propose(self, citation, row, user):
        claim = citation.claim
        pending = pending_for(ClaimRevision, user, claim=claim)
        content = pending.content if pending is not None else revision_content.claim_content(claim)
        values = revision_content.as_json(
            {
                "id": citation.pk,
                **revision_content.values_of(citation, revision_content.CITATION_FIELDS),
            }
        )
        same = [i for i, kept in enumerate(content["citations"]) if kept["url"] == citation.url]
        if same:
            content["citations"][same[0]] = {**values, "id": content["citations"][same[0]]["id"]}
        else:
            content["citations"].append(values)
        revisions.propose_claim_change(claim, content, user, IMPORT_REASON)

    class Meta(CuratedResource.Meta):
        model = Citation
        import_id_fields = ["claim", "url"]
        fields = [
            "review",
            *["claim", "kind", "title", "publisher", "url", "accessed_on", "note", "position"],
        ]


class RegulatoryStatusResource(ReviewedResource):
    """A treatment's status in a jurisdiction, matched by both: a regulator's new position
    reaches every claim using the treatment, and each claim's change log, as an edit does."""

    treatment = fields.Field(
        attribute="treatment", column_name="treatment", widget=Reference(Treatment)
    )
    jurisdiction = fields.Field(
        attribute="jurisdiction",
        column_name="jurisdiction",
        widget=Reference(Jurisdiction, field="code"),
    )

    class Meta(CuratedResource.Meta):
        model = RegulatoryStatus
        import_id_fields = ["treatment", "jurisdiction"]
        fields = [
            "review",
            "treatment",
            "jurisdiction",
            "status",
            "explanation",
            "source_url",
            "checked_on",
        ]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Per treatment, asked once a file: whether public claims inherit its statuses, and
        # whether the importing user's change of them waits for review.
        self.inherited, self.reviewed = {}, {}

    def review_mark(self, status, new, user):
        if status.treatment_id is None:
            return ""
        treatment = status.treatment
        if treatment.pk not in self.inherited:
            self.inherited[treatment.pk] = treatment.claims.public().exists()
        if not self.inherited[treatment.pk]:
            return "new" if new else "updates a status no published claim inherits"
        if self.needs_review(status, user):
            return "changes published flags (pending review)"
        return "changes published flags (live at once)"

    def needs_review(self, status, user):
        treatment = status.treatment
        if treatment.pk not in self.reviewed:
            self.reviewed[treatment.pk] = revisions.status_needs_review(treatment, user)
        return self.reviewed[treatment.pk]

    def propose(self, status, row, user):
        target = {"treatment": status.treatment, "jurisdiction": status.jurisdiction}
        pending_for(StatusRevision, user, **target)
        revisions.propose_status_change(
            status.treatment,
            status.jurisdiction,
            revision_content.status_content(status),
            user,
            IMPORT_REASON,
        )
