"""What the history of a claim tells editors and readers.

django-simple-history records every save of every curated model: who, when, why (the change
reason) and the row as it then was. Two stories are read from those records here instead of
being kept in tables of their own, so neither can disagree with the history editors browse:

- the workflow log editors read in the admin: who moved a claim between states, when and why;
- the change log readers see on a claim's page: what changed for them since it was published,
  in its evidence level, in its flag in each jurisdiction (its treatment's status there, or
  its own override) and in its standing (a retraction).

Loading fixtures (the seed) is recorded too, by `record_fixture_row`: a row's first load is
its starting point, never reported to readers. Rows with no history at all (loaded before that
existed) are taken as they always were; a row whose history starts with a change rather than its
creation tells what it became, not what it was, so that first change is not reported either.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.utils.translation import gettext as _

from claims.models import (
    Claim,
    ClaimRevision,
    ClaimStatusOverride,
    Flag,
    RegulatoryStatus,
    Status,
)
from claims.text import lower_first

CREATED, DELETED = "+", "-"  # simple_history's history_type
FIXTURE_REASON = "Loaded from fixtures"


def record_fixture_row(model, instance):
    """Record a row loaddata saved. It saves rows raw, and simple_history records nothing for a
    raw save: without this a seeded status's first edit would have no “before” to compare with.
    The record's reason marks it as a load, which the public change log never reports.

    loaddata sets a claim's indications right after saving it, which simple_history would
    record as a change by nobody: the load's own record takes them instead (see
    `record_fixture_indications`)."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return  # `manage.py restore` loads a backup's own history
    history = model.history
    known = history.filter(**{model._meta.pk.attname: instance.pk}).exists()
    (record,) = history.bulk_history_create(
        [instance], update=known, default_change_reason=FIXTURE_REASON
    )
    if isinstance(instance, Claim):
        instance.skip_history_when_saving = True  # simple_history's flag: no record of its own
        instance.fixture_record = record
        record_fixture_indications(instance)  # those it has now: a reload may not change them


def record_fixture_indications(claim):
    """Snapshot a loaded claim's indications in the record its load made, as simple_history
    does in the record of an edit; again whenever loaddata then sets them."""
    record = claim.fixture_record
    snapshot = record.indications.model
    snapshot.objects.filter(history=record).delete()
    snapshot.objects.bulk_create(
        snapshot(history=record, id=row.id, claim_id=row.claim_id, indication_id=row.indication_id)
        for row in Claim.indications.through.objects.filter(claim=claim)
    )


@dataclass(frozen=True)
class Transition:
    """One move of a claim between workflow states."""

    at: datetime
    by: str  # the username; empty when nobody was signed in (a script, a data migration)
    from_state: Claim.State | None  # None when the claim was created
    to_state: Claim.State
    note: str


def workflow_log(claim):
    """Every move of `claim` between states, oldest first, its creation included. One query."""
    rows = claim.history.order_by("history_date", "history_id").values_list(
        "history_date", "history_user__username", "state", "history_change_reason"
    )
    log, previous = [], None
    for at, by, state, note in rows:
        if state != previous:
            from_state = Claim.State(previous) if previous else None
            log.append(Transition(at, by or "", from_state, Claim.State(state), note or ""))
        previous = state
    return log


@dataclass(frozen=True)
class PublicChange:
    """A change readers are told about: “Evidence level changed from … to …” on a day."""

    on: datetime
    text: str
    note: str = ""
    by: str = ""  # who approved it


class _Timeline:
    """A claim's evidence level, state, treatment, and the statuses and overrides behind its
    flags, replayed one historical row at a time."""

    def __init__(self, claim, jurisdictions, flag_records, with_history):
        statuses, overrides = flag_records
        self.jurisdictions = jurisdictions
        self.treatment_id = claim.treatment_id
        self.evidence = None
        self.state = None
        # By object id: (treatment id, jurisdiction id, status) for a treatment's status,
        # (claim id, jurisdiction id, status) for an override. Rows without history are as
        # they always were; the others start absent and are replayed.
        self.statuses = {
            record.pk: (record.treatment_id, record.jurisdiction_id, record.status)
            for record in statuses
            if ("status", record.pk) not in with_history
        }
        self.overrides = {
            record.pk: (record.claim_id, record.jurisdiction_id, record.status)
            for record in overrides
            if ("override", record.pk) not in with_history
        }

    def flags(self):
        overridden = {j: status for _owner, j, status in self.overrides.values()}
        inherited = {j: s for t, j, s in self.statuses.values() if t == self.treatment_id}
        return {
            jurisdiction: Flag.status_from(
                overridden.get(jurisdiction.pk), inherited.get(jurisdiction.pk)
            )
            for jurisdiction in self.jurisdictions
        }

    def apply(self, row):
        if row.table == "claim":
            self.treatment_id, self.evidence, self.state = row.owner, row.evidence, row.value
            return
        rows = self.statuses if row.table == "status" else self.overrides
        if row.history_type == DELETED:
            rows.pop(row.id, None)
        else:
            rows[row.id] = (row.owner, row.jurisdiction, row.value)


def public_changes(claim, jurisdictions, flag_records):
    """What changed for readers since `claim` was first published, newest first.

    `flag_records` are the statuses and overrides behind its flags now, as
    `Claim.flag_records()` reads them. One query, over the history of the claim and of those
    statuses and overrides. A claim never published has no change log and costs no query."""
    if claim.published_at is None:
        return []
    rows = sorted(history_rows(claim), key=lambda row: (row.at, row.table != "claim", row.pk))
    with_history = {(row.table, row.id) for row in rows if row.table != "claim"}
    timeline = _Timeline(claim, jurisdictions, flag_records, with_history)
    seen = set()
    changes = []
    for row in rows:
        if row.table == "revision":
            if row.at > claim.published_at:
                changes += correction(row)
            continue
        before = timeline.flags()
        was = (timeline.evidence, timeline.state)
        timeline.apply(row)
        first_record = (row.table, row.id) not in seen
        seen.add((row.table, row.id))
        # A row's first record is its starting point, unless it records the row's creation by
        # an editor: a status added to the treatment after the claim was published.
        starting_point = first_record and (
            row.history_type != CREATED or row.reason == FIXTURE_REASON
        )
        if row.at <= claim.published_at or starting_point:
            continue
        if row.table == "claim" and not first_record:
            changes += claim_changes(row, was)
        after = timeline.flags()
        for jurisdiction in jurisdictions:
            if before[jurisdiction] != after[jurisdiction]:
                text = flag_changed(
                    jurisdiction.short_label, before[jurisdiction], after[jurisdiction]
                )
                changes.append(PublicChange(row.at, text, by=row.by or ""))
    return changes[::-1]


def status_mid_sentence(status):
    """A status's label as it reads inside a sentence. lower_first is English's rule (“not
    approved”, but “RF…” kept as it is); a translation words its label as its language needs."""
    return lower_first(str(Status(status).label))


def flag_changed(flag, before, after):
    """“FDA flag changed from not assessed to not approved”: the change log's and the feeds'."""
    return _("%(flag)s flag changed from %(before)s to %(after)s") % {
        "flag": flag,
        "before": status_mid_sentence(before),
        "after": status_mid_sentence(after),
    }


# What an approved revision changed that has a line of its own in the change log.
REPORTED_APART = {"evidence level"}


def correction(row):
    """An approved change to what the claim says, or to its sources: “Corrected: statement,
    citations”. Its evidence level and flags are reported from their own history."""
    parts = [part for part in row.value.split(", ") if part and part not in REPORTED_APART]
    if not parts:
        return []
    text = _("Corrected: %(changes)s") % {"changes": ", ".join(parts)}
    return [PublicChange(row.at, text, by=row.by or "")]


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    pk: int  # the history row's own id
    history_type: str
    table: str  # "claim", "status", "override" or "revision"
    id: int  # the object's id
    owner: int  # the claim's treatment, the status's treatment, the override's claim
    jurisdiction: int | None
    value: str  # the claim's state, a status, or what an approved revision changed
    evidence: str | None  # the claim's evidence level
    reason: str | None
    by: str | None  # who made the change: after publication, a Publisher


def history_rows(claim):
    """The claim's history, its treatments' statuses' (every treatment it has had), its
    overrides', and the changes to it a Publisher approved, as one UNION query. Every branch
    annotates the same columns in the same order, which is what a UNION matches them by."""
    text, number = models.CharField(), models.BigIntegerField()

    def columns(queryset, **expressions):
        # Prefixed: an annotation may not take a name the model's fields have (reason, id).
        expressions = {f"row_{name}": expression for name, expression in expressions.items()}
        return queryset.order_by().annotate(**expressions).values_list(*expressions)

    def history(queryset, table, owner, jurisdiction, value, evidence):
        return columns(
            queryset,
            at=F("history_date"),
            pk=F("history_id"),
            kind=F("history_type"),
            table=Value(table, output_field=text),
            object_id=F("id"),
            owner=owner,
            flag_jurisdiction=jurisdiction,
            value=value,
            evidence=evidence,
            reason=F("history_change_reason"),
            by=F("history_user__username"),
        )

    treatments = Q(treatment_id=claim.treatment_id) | Q(
        treatment_id__in=claim.history.order_by().values("treatment_id")
    )
    claim_rows = history(
        claim.history.all(),
        "claim",
        F("treatment_id"),
        Value(None, output_field=number),
        F("state"),
        F("evidence_level__name"),
    )
    status_rows = history(
        RegulatoryStatus.history.filter(treatments),
        "status",
        F("treatment_id"),
        F("jurisdiction_id"),
        F("status"),
        Value(None, output_field=text),
    )
    override_rows = history(
        ClaimStatusOverride.history.filter(claim_id=claim.pk),
        "override",
        F("claim_id"),
        F("jurisdiction_id"),
        F("status"),
        Value(None, output_field=text),
    )
    revision_rows = columns(
        ClaimRevision.objects.approved().filter(claim_id=claim.pk),
        at=F("reviewed_at"),
        pk=F("id"),
        kind=Value("~", output_field=text),
        table=Value("revision", output_field=text),
        object_id=F("claim_id"),
        owner=F("claim_id"),
        flag_jurisdiction=Value(None, output_field=number),
        value=F("summary"),
        evidence=Value(None, output_field=text),
        reason=F("review_note"),
        by=F("reviewed_by__username"),
    )
    rows = claim_rows.union(status_rows, override_rows, revision_rows, all=True)
    return [HistoryRow(*row) for row in rows]


def claim_changes(row, was):
    old_evidence, old_state = was
    changes = []
    if row.evidence != old_evidence:
        not_rated = _("not rated")
        text = _("Evidence level changed from %(before)s to %(after)s") % {
            "before": old_evidence or not_rated,
            "after": row.evidence or not_rated,
        }
        changes.append(PublicChange(row.at, text, by=row.by or ""))
    if row.value != old_state and row.value == Claim.State.RETRACTED:
        changes.append(PublicChange(row.at, _("Retracted"), row.reason or "", row.by or ""))
    return changes
