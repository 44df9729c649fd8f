"""What a revision holds and what it would change.

A claim's or status's content is one JSON-safe dict, read from the live rows (`claim_content`,
`status_content`) or from the admin's forms (`claim_content_from_forms`); the pending revisions
of claims.revisions store the same shape. `claim_differences` and `status_differences` say, field
by field and for reviewers, what approving one would change, and `summary_of` names the parts
for readers' change log.
"""

import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.text import capfirst

from claims.models import (
    Citation,
    Claim,
    ClaimRevision,
    ClaimStatusOverride,
    Indication,
    RegulatoryStatus,
)

# Moved by the workflow, never by an edit.
WORKFLOW_FIELDS = {"state", "published_at"}


def editable_fields(model, *besides):
    """The fields of `model` an edit may change, but for those that place the row (its claim,
    its treatment and jurisdiction)."""
    return [
        field.name
        for field in model._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in besides
    ]


CITATION_FIELDS = editable_fields(Citation, "claim")
OVERRIDE_FIELDS = editable_fields(ClaimStatusOverride, "claim")
STATUS_FIELDS = editable_fields(RegulatoryStatus, "treatment", "jurisdiction")


def claim_fields():
    """The claim's own fields an edit may change."""
    names = editable_fields(Claim, *WORKFLOW_FIELDS)
    return [Claim._meta.get_field(name) for name in names]


def as_json(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def values_of(row, names):
    return {name: row._meta.get_field(name).value_from_object(row) for name in names}


def child_rows(rows, names):
    return [{"id": row.pk, **values_of(row, names)} for row in rows]


# --- Content --------------------------------------------------------------------------------


def claim_content(claim):
    """The claim as readers see it now."""
    return as_json(
        {
            "fields": values_of(claim, [field.name for field in claim_fields()]),
            "indications": sorted(claim.indications.values_list("pk", flat=True)),
            "citations": child_rows(claim.citations.all(), CITATION_FIELDS),
            "overrides": child_rows(claim.status_overrides.all(), OVERRIDE_FIELDS),
        }
    )


def claim_content_from_forms(form, formsets):
    """The claim as the admin's change form and its inlines would leave it. A blank extra
    inline row left untouched is no row; a row ticked for deletion is gone."""
    claim = form.instance
    if "indications" in form.cleaned_data:
        indications = [indication.pk for indication in form.cleaned_data["indications"]]
    else:
        indications = list(claim.indications.values_list("pk", flat=True))
    names = {Citation: CITATION_FIELDS, ClaimStatusOverride: OVERRIDE_FIELDS}
    # Rows no formset edits (reverting to an old version edits none) stay as they are live.
    rows = {
        Citation: child_rows(Citation.objects.filter(claim=claim.pk), CITATION_FIELDS),
        ClaimStatusOverride: child_rows(
            ClaimStatusOverride.objects.filter(claim=claim.pk), OVERRIDE_FIELDS
        ),
    }
    for formset in formsets:
        kept = [
            child.instance
            for child in formset.forms
            if getattr(child, "cleaned_data", None) and not child.cleaned_data.get("DELETE")
        ]
        rows[formset.model] = child_rows(kept, names[formset.model])
    return as_json(
        {
            "fields": values_of(claim, [field.name for field in claim_fields()]),
            "indications": sorted(indications),
            "citations": rows[Citation],
            "overrides": rows[ClaimStatusOverride],
        }
    )


def status_content(status):
    """A treatment's status as its claims' flags read it; None where it has none yet."""
    return None if status is None else as_json(values_of(status, STATUS_FIELDS))


def live_status(treatment, jurisdiction):
    return RegulatoryStatus.objects.filter(treatment=treatment, jurisdiction=jurisdiction).first()


# --- Differences ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One thing a revision changes: `part` names it for readers' change log ("statement",
    "citations"), `what` for the reviewer ("Citation “…”: URL")."""

    part: str
    what: str
    before: str
    after: str


def shown(model, name, value):
    """A stored value as a reviewer reads it: a choice's label, a related row's name."""
    field = model._meta.get_field(name)
    if value in (None, "", []):
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation:
        row = field.related_model._default_manager.filter(pk=value).first()
        return str(row) if row is not None else f"(deleted #{value})"
    return str(value)


def row_summary(model, names, row):
    return " · ".join(shown(model, name, row[name]) for name in names if row.get(name))


def row_differences(part, noun, model, names, live_rows, pending_rows, name_of):
    live_by_id = {row["id"]: row for row in live_rows}
    kept = {row["id"] for row in pending_rows}
    found = []
    for row in pending_rows:
        old = live_by_id.get(row["id"])
        if old is None:
            found.append(Difference(part, f"{noun} added", "—", row_summary(model, names, row)))
            continue
        for name in names:
            if old.get(name) != row.get(name):
                label = capfirst(model._meta.get_field(name).verbose_name)
                what = f"{noun} “{name_of(old)}”: {label}"
                found.append(
                    Difference(
                        part,
                        what,
                        shown(model, name, old.get(name)),
                        shown(model, name, row.get(name)),
                    )
                )
    for pk, old in live_by_id.items():
        if pk not in kept:
            found.append(Difference(part, f"{noun} removed", row_summary(model, names, old), "—"))
    return found


def claim_differences(live, pending):
    """What approving `pending` would change in the claim readers see as `live`."""
    found = []
    for field in claim_fields():
        before, after = live["fields"].get(field.name), pending["fields"].get(field.name)
        if before != after and field.name in pending["fields"]:
            label = capfirst(field.verbose_name)
            found.append(
                Difference(
                    field.verbose_name,
                    label,
                    shown(Claim, field.name, before),
                    shown(Claim, field.name, after),
                )
            )
    if sorted(live["indications"]) != sorted(pending["indications"]):
        names = dict(Indication.objects.values_list("pk", "name"))
        found.append(
            Difference(
                "indications",
                "Indications",
                "; ".join(names.get(pk, "?") for pk in live["indications"]) or "—",
                "; ".join(names.get(pk, "?") for pk in pending["indications"]) or "—",
            )
        )
    found += row_differences(
        "citations",
        "Citation",
        Citation,
        CITATION_FIELDS,
        live["citations"],
        pending["citations"],
        lambda row: row["title"],
    )
    found += row_differences(
        "flag overrides",
        "Override",
        ClaimStatusOverride,
        OVERRIDE_FIELDS,
        live["overrides"],
        pending["overrides"],
        lambda row: shown(ClaimStatusOverride, "jurisdiction", row["jurisdiction"]),
    )
    return found


def status_differences(live, pending):
    """What approving `pending` would change in a status readers see as `live` (None: none)."""
    if live is None:
        return [
            Difference(
                "status", "Status added", "—", row_summary(RegulatoryStatus, STATUS_FIELDS, pending)
            )
        ]
    return [
        Difference(
            name,
            capfirst(RegulatoryStatus._meta.get_field(name).verbose_name),
            shown(RegulatoryStatus, name, live.get(name)),
            shown(RegulatoryStatus, name, pending.get(name)),
        )
        for name in STATUS_FIELDS
        if live.get(name) != pending.get(name)
    ]


def summary_of(differences):
    """The parts a change touched, for readers: "statement, citations"."""
    parts = []
    for difference in differences:
        if difference.part not in parts:
            parts.append(difference.part)
    return ", ".join(parts)[:300]


def revision_differences(revision):
    """What approving `revision` would change now (the live version may have moved on)."""
    if isinstance(revision, ClaimRevision):
        return claim_differences(claim_content(revision.claim), revision.content)
    live = status_content(live_status(revision.treatment, revision.jurisdiction))
    return status_differences(live, revision.content)
