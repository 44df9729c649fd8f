"""Nothing reaches readers without a Publisher.

An Editors user's change to what readers see — a published or retracted claim (any field, its
indications, citations and status overrides) or the status of a treatment that public claims
inherit — is stored as a pending revision beside the live rows (`propose`), as Wagtail keeps a
page's draft revision beside its live one. A Publisher approves it, which writes it to the live
rows (`approve`), or rejects it with a note for the editor (`reject`). A Publisher's own change
goes live at once and is recorded as approved (`record_live_change`).

What a revision holds, and what it would change, is claims.revision_content's. Forms carry the
version they were read from (`version_of`), so that a second editor saving over a change they
never saw is told instead (`check_version`).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
    StatusRevision,
    Treatment,
    claims_using,
)
from claims.revision_content import (
    WORKFLOW_FIELDS,
    claim_content,
    claim_differences,
    live_status,
    revision_differences,
    status_content,
    status_differences,
    summary_of,
    values_of,
)

PUBLISH_PERMISSION = Claim.MOVES[Claim.State.PUBLISHED][1]
AWAITS_A_PUBLISHER = gettext_lazy(
    "Your changes await a Publisher: readers see the published version until one approves them."
)
# A decided change, in a sentence and in the workflow log: whole phrases, one per decision.
ALREADY_DECIDED = {
    ClaimRevision.State.APPROVED: gettext_lazy("This change was already approved."),
    ClaimRevision.State.REJECTED: gettext_lazy("This change was already rejected."),
}
DECIDED = {
    ClaimRevision.State.APPROVED: gettext_lazy("Change approved"),
    ClaimRevision.State.REJECTED: gettext_lazy("Change rejected"),
}


def may_publish(user):
    return user.has_perm(PUBLISH_PERMISSION)


def claim_needs_review(claim, user):
    """Whether `user`'s edit of `claim` waits for a Publisher: readers can open the claim's
    page, and the user may not decide what they see."""
    return claim.pk is not None and claim.is_public() and not may_publish(user)


def status_needs_review(treatment, user):
    """Whether `user`'s edit of a status of `treatment` waits for a Publisher: a public claim
    inherits its flags from the treatment's statuses."""
    return (
        treatment is not None
        and treatment.pk is not None
        and not may_publish(user)
        and treatment.claims.public().exists()
    )


# Reference data an editor changes live — a clinic's spelling, a treatment's description —
# except these fields once a public claim uses the row: they decide which claims count as
# injected or human-derived, how strong their evidence is, how flags are named and ordered,
# or they are in links readers keep (slugs). Publishers change them.
LOCKED_WHILE_PUBLIC = {
    Clinic: ["slug"],
    Conference: ["slug"],
    Presentation: ["slug", "conference"],
    Indication: ["slug"],
    Treatment: ["slug", "route", "source"],
    ExosomeSource: ["slug", "category", "origin"],
    EvidenceLevel: ["code", "rank", "ocebm_equivalent"],
    Jurisdiction: ["code", "short_label", "position"],
}


def locked_fields(row, user):
    """The fields of `row` that `user` may not change, as LOCKED_WHILE_PUBLIC says."""
    names = LOCKED_WHILE_PUBLIC.get(type(row), [])
    if not names or row.pk is None or may_publish(user):
        return []
    return names if claims_using(row).public().exists() else []


def locked_changes(row, user):
    """Which of those fields `row` (as an import would save it) changes."""
    names = locked_fields(row, user)
    if not names:
        return []
    live = type(row)._default_manager.get(pk=row.pk)
    return [name for name in names if values_of(live, [name]) != values_of(row, [name])]


# --- Versions: optimistic locking -----------------------------------------------------------


def live_version(row):
    """Which save of a live claim or status a form was read from ("" for none yet)."""
    if row is None or row.pk is None:
        return ""
    if isinstance(row, Claim):
        return row.updated_at.isoformat()
    return str(row.history.values_list("history_id", flat=True).first() or "")


def version_of(live, pending):
    """What a form was read from: the live row's last save and the pending revision shown."""
    return f"{live_version(live)}|{pending.version if pending is not None else ''}"


def check_version(posted, live, pending):
    """Refuses to save over a change the editor did not see when they opened the form."""
    if posted is None or posted == version_of(live, pending):
        return
    if pending is not None and pending.created_by is not None:
        message = _(
            "This changed while you were editing it: %(editor)s saved a change awaiting "
            "review. Nothing you typed was saved; reopen it to see the current version, then "
            "make your change again."
        ) % {"editor": pending.created_by}
    else:
        message = _(
            "This changed while you were editing it: someone saved it. Nothing you typed was "
            "saved; reopen it to see the current version, then make your change again."
        )
    raise ValidationError(message)


# --- Moves ----------------------------------------------------------------------------------


def propose(revision_model, target, content, user, note, differences):
    """Store `user`'s change as the pending revision of `target`, replacing the pending one
    (whose text their form was read from). A change that leaves the live version as it is
    withdraws the pending one. Returns the revision, or None when nothing awaits review."""
    pending = revision_model.objects.pending().filter(**target).first()
    if not differences:
        if pending is not None:
            pending.delete()
        return None
    if pending is None:
        pending = revision_model(**target)
    pending.content, pending.created_by, pending.note = content, user, note[:300]
    pending.created_at = timezone.now()
    pending.save()
    return pending


def propose_claim_change(claim, content, user, note=""):
    claim = Claim.objects.get(pk=claim.pk)  # as readers see it, whatever a form did to `claim`
    differences = claim_differences(claim_content(claim), content)
    return propose(ClaimRevision, {"claim": claim}, content, user, note, differences)


def propose_status_change(treatment, jurisdiction, content, user, note=""):
    live = status_content(live_status(treatment, jurisdiction))
    differences = status_differences(live, content)
    target = {"treatment": treatment, "jurisdiction": jurisdiction}
    return propose(StatusRevision, target, content, user, note, differences)


def assign(row, values):
    for name, value in values.items():
        field = row._meta.get_field(name)
        setattr(row, field.attname, field.to_python(value))


def keep_history(row, user, reason):
    row._history_user = user
    row._change_reason = reason[:100]


def apply_claim_content(claim, content, user, reason):
    """Write `content` to the live claim and its rows, each save recorded in the history as
    `user`'s, with `reason`."""
    assign(claim, {k: v for k, v in content["fields"].items() if k not in WORKFLOW_FIELDS})
    claim.full_clean(validate_constraints=True)
    keep_history(claim, user, reason)
    claim.save()
    claim.indications.set(content["indications"])
    for model, queryset, rows in (
        (Citation, claim.citations.all(), content["citations"]),
        (ClaimStatusOverride, claim.status_overrides.all(), content["overrides"]),
    ):
        existing = {row.pk: row for row in queryset}
        kept = {row["id"] for row in rows}
        for pk, row in existing.items():
            if pk not in kept:
                keep_history(row, user, reason)
                row.delete()
        for values in rows:
            row = existing.get(values["id"]) or model(claim=claim)
            assign(row, {k: v for k, v in values.items() if k != "id"})
            row.full_clean()
            keep_history(row, user, reason)
            row.save()


def apply_status_content(treatment, jurisdiction, content, user, reason):
    status = live_status(treatment, jurisdiction) or RegulatoryStatus(
        treatment=treatment, jurisdiction=jurisdiction
    )
    assign(status, content)
    status.full_clean()
    keep_history(status, user, reason)
    status.save()


def approve(revision, user, note=""):
    """Make `revision` live at once: the live rows take its content, the history records the
    Publisher, and the page cache goes stale with the save."""
    if not may_publish(user):
        raise PermissionDenied(_("Only Publishers approve changes."))
    reason = (
        f"Approved: {note}" if note else f"Approved a change by {revision.created_by or 'nobody'}"
    )
    try:
        with transaction.atomic():
            revision = type(revision).objects.select_for_update().get(pk=revision.pk)
            if not revision.is_pending():
                raise already_reviewed(revision)
            differences = revision_differences(revision)
            if isinstance(revision, ClaimRevision):
                apply_claim_content(revision.claim, revision.content, user, reason)
            else:
                apply_status_content(
                    revision.treatment, revision.jurisdiction, revision.content, user, reason
                )
            mark_reviewed(revision, revision.State.APPROVED, user, note, summary_of(differences))
    except IntegrityError as error:
        raise ValidationError(
            _("This change can no longer be made: %(error)s") % {"error": error}
        ) from error
    return revision


def reject(revision, user, note):
    """Keep the live version and tell the editor why."""
    if not may_publish(user):
        raise PermissionDenied(_("Only Publishers reject changes."))
    if not note.strip():
        raise ValidationError(_("Say why you reject the change: the editor reads it."))
    with transaction.atomic():
        revision = type(revision).objects.select_for_update().get(pk=revision.pk)
        if not revision.is_pending():
            raise already_reviewed(revision)
        mark_reviewed(revision, revision.State.REJECTED, user, note, "")
    return revision


def already_reviewed(revision):
    return ValidationError(ALREADY_DECIDED[revision.state])


def mark_reviewed(revision, state, user, note, summary):
    revision.state, revision.reviewed_by, revision.reviewed_at = state, user, timezone.now()
    revision.review_note, revision.summary = note.strip(), summary
    revision.save()


def review_log(claim):
    """The claim's changes and their review, for its workflow log: (when, who, what, note)."""
    events = []
    for revision in claim.revisions.select_related("created_by", "reviewed_by").order_by("pk"):
        author = str(revision.created_by or _("nobody signed in"))
        if revision.reviewed_by_id == revision.created_by_id and not revision.is_pending():
            events.append((revision.created_at, author, _("Changed live"), revision.summary))
            continue
        submitted = _("Change submitted for review")
        events.append((revision.created_at, author, submitted, revision.note))
        if not revision.is_pending():
            what = DECIDED[revision.state]
            events.append(
                (revision.reviewed_at, str(revision.reviewed_by), what, revision.review_note)
            )
    return events


def record_live_change(revision_model, target, after, differences, user, note=""):
    """A Publisher's own change of what readers see: live at once, recorded as approved."""
    if not differences:
        return None
    revision = revision_model(**target, content=after, created_by=user, note=note[:300])
    mark_reviewed(revision, revision.State.APPROVED, user, "", summary_of(differences))
    return revision
