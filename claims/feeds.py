"""Atom feeds: "follow this search". Any /claims/ filter has a feed of what happened to its
claims: publications, retractions, and changes to a published claim's evidence level or flags.

Events are read from the history tables that django-simple-history keeps. The filter is
applied to today's data over published and retracted claims, so a claim that no longer
matches (say its flag moved out of a flag filter) drops out of that feed with its events.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from django.contrib.syndication.views import Feed
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from claims.filters import ClaimFilter
from claims.history import FIXTURE_REASON, REPORTED_APART, flag_changed, status_mid_sentence
from claims.models import (
    Claim,
    ClaimRevision,
    ClaimStatusOverride,
    EvidenceLevel,
    RegulatoryStatus,
    Status,
)
from claims.text import with_query

FEED_LENGTH = 50
# Characters XML 1.0 cannot carry; an editor can paste one, and one would break every feed.
NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xml_safe(text):
    return NOT_IN_XML.sub("", text)


@dataclass(frozen=True)
class Event:
    claim_id: int
    happened_at: datetime
    kind: str  # PUBLISHED, RETRACTED or UPDATED
    change: str  # what changed, in words; empty for a publication or a retraction
    key: str  # unique across every feed: which history row, and for a status which claim
    by: str = ""  # who decided it: the Publisher who published, retracted or approved


PUBLISHED, RETRACTED, UPDATED = "published", "retracted", "updated"
# An entry's title, whole, for each kind of event (only an update says what changed).
TITLES = {
    PUBLISHED: pgettext_lazy("feed entry", "Published: %(claim)s"),
    RETRACTED: pgettext_lazy("feed entry", "Retracted: %(claim)s"),
    UPDATED: pgettext_lazy("feed entry", "Updated: %(claim)s — %(change)s"),
}


@dataclass(frozen=True)
class FeedEntry:
    event: Event
    claim: Claim
    link: str

    @property
    def title(self):
        return TITLES[self.event.kind] % {"claim": self.claim.title, "change": self.event.change}


def previous(history_model, field):
    """The value `field` had in the row before this one in the same object's history."""
    return Subquery(
        history_model.objects.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
        .order_by("-history_id")
        .values(field)[:1]
    )


def claim_events(claim_ids, levels):
    """Publications, retractions and evidence level changes, from the claims' own history."""
    history = Claim.history.model
    published, retracted = Claim.State.PUBLISHED, Claim.State.RETRACTED
    rows = (
        history.objects.filter(id__in=claim_ids)
        .annotate(
            previous_state=previous(history, "state"),
            previous_level=previous(history, "evidence_level"),
        )
        .filter(
            Q(state=published) & (Q(previous_state__isnull=True) | ~Q(previous_state=published))
            | Q(state=retracted, previous_state=published)
            | Q(state=published, previous_state=published) & ~Q(evidence_level=F("previous_level"))
        )
        .select_related("history_user")
        .order_by("-history_id")[:FEED_LENGTH]
    )
    events = []
    for row in rows:
        kind, change, at = UPDATED, "", row.history_date
        if row.state == retracted:
            kind = RETRACTED
        elif row.previous_state != published:
            # When readers first saw it: a seed loads its claims long after they were published.
            kind, at = PUBLISHED, row.published_at or row.history_date
        else:
            removed = _("a removed level")
            change = _("evidence level changed from %(before)s to %(after)s") % {
                "before": levels.get(row.previous_level, removed),
                "after": levels.get(row.evidence_level_id, removed),
            }
        by = row.history_user.username if row.history_user else ""
        events.append(Event(row.id, at, kind, change, f"claim-{row.history_id}", by))
    return events


def override_events(claim_ids, jurisdictions):
    """Changes to a flag that one published claim sets for itself."""
    history = ClaimStatusOverride.history.model
    rows = (
        history.objects.filter(
            claim_id__in=claim_ids,
            jurisdiction_id__in=list(jurisdictions),
            history_date__gte=F("claim__published_at"),
        )
        .exclude(history_type="+", history_change_reason=FIXTURE_REASON)
        .annotate(previous_status=previous(history, "status"))
        .filter(~Q(history_type="~") | ~Q(status=F("previous_status")))
        .select_related("history_user")
        .order_by("-history_id")[:FEED_LENGTH]
    )
    events = []
    for row in rows:
        label = jurisdictions[row.jurisdiction_id].short_label
        if row.history_type == "+":
            change = _("%(flag)s flag set to %(status)s for this claim") % {
                "flag": label,
                "status": status_mid_sentence(row.status),
            }
        elif row.history_type == "-":
            change = _("%(flag)s flag back to the treatment's status") % {"flag": label}
        else:
            change = flag_changed(label, row.previous_status, row.status)
        key = f"override-{row.history_id}"
        by = row.history_user.username if row.history_user else ""
        events.append(Event(row.claim_id, row.history_date, UPDATED, change, key, by))
    return events


def treatment_status_events(claim_ids, jurisdictions):
    """A treatment's status change, as one event for each published claim that uses the
    treatment and does not override that jurisdiction's flag."""
    history = RegulatoryStatus.history.model
    claims = Claim.objects.filter(pk__in=claim_ids)
    published_user = claims.filter(
        treatment_id=OuterRef("treatment_id"), published_at__lte=OuterRef("history_date")
    )
    rows = list(
        history.objects.filter(Exists(published_user), jurisdiction_id__in=list(jurisdictions))
        .exclude(history_type="+", history_change_reason=FIXTURE_REASON)
        .annotate(previous_status=previous(history, "status"))
        .filter(~Q(history_type="~") | ~Q(status=F("previous_status")))
        .select_related("history_user")
        .order_by("-history_id")[:FEED_LENGTH]
    )
    affected = claims.filter(treatment_id__in={row.treatment_id for row in rows})
    users = {}
    for pk, treatment_id, published_at in affected.values_list(
        "pk", "treatment_id", "published_at"
    ):
        users.setdefault(treatment_id, []).append((pk, published_at))
    overridden = set(
        ClaimStatusOverride.objects.filter(claim__in=affected).values_list(
            "claim_id", "jurisdiction_id"
        )
    )
    events = []
    for row in rows:
        if row.history_type == "+":
            before, after = Status.UNKNOWN, row.status
        elif row.history_type == "-":
            before, after = row.status, Status.UNKNOWN
        else:
            before, after = row.previous_status, row.status
        if before == after:  # a status recorded as not assessed changes no flag
            continue
        label = jurisdictions[row.jurisdiction_id].short_label
        by = row.history_user.username if row.history_user else ""
        change = flag_changed(label, before, after)
        for claim_id, published_at in users.get(row.treatment_id, []):
            if published_at is None or published_at > row.history_date:
                continue
            if (claim_id, row.jurisdiction_id) in overridden:
                continue
            key = f"status-{row.history_id}-claim-{claim_id}"
            events.append(Event(claim_id, row.history_date, UPDATED, change, key, by))
    return events


def correction_events(claim_ids):
    """Approved changes to what a published claim says or cites (claims.revisions)."""
    rows = (
        ClaimRevision.objects.corrections()
        .filter(claim_id__in=claim_ids)
        .select_related("reviewed_by")
        .order_by("-reviewed_at")[:FEED_LENGTH]
    )
    events = []
    for row in rows:
        parts = [part for part in row.summary.split(", ") if part and part not in REPORTED_APART]
        if parts:
            by = row.reviewed_by.username if row.reviewed_by else ""
            change = _("corrected: %(changes)s") % {"changes": ", ".join(parts)}
            key = f"revision-{row.pk}"
            events.append(Event(row.claim_id, row.reviewed_at, UPDATED, change, key, by))
    return events


class ClaimFeed(Feed):
    feed_type = Atom1Feed
    author_name = "Claimwatch"

    def get_object(self, request):
        return ClaimFilter(request.GET, queryset=Claim.objects.public(), request=request)

    def title(self, claim_filter):
        return xml_safe(" · ".join([_("Claimwatch: claims"), *claim_filter.summary_parts()]))

    def subtitle(self, claim_filter):
        return _(
            "Claims as they are published, retracted, or change evidence level or a "
            "regulator's flag."
        )

    def link(self, claim_filter):
        return claim_filter.url()

    def feed_url(self, claim_filter):
        return with_query(reverse("claims:feed"), claim_filter.canonical_query())

    def items(self, claim_filter):
        claim_ids = claim_filter.qs.order_by().values("pk")
        jurisdictions = {j.pk: j for j in claim_filter.jurisdictions}
        levels = dict(EvidenceLevel.objects.values_list("pk", "name"))
        events = [
            *claim_events(claim_ids, levels),
            *override_events(claim_ids, jurisdictions),
            *treatment_status_events(claim_ids, jurisdictions),
            *correction_events(claim_ids),
        ]
        events.sort(key=lambda event: (event.happened_at, event.claim_id, event.key), reverse=True)
        events = events[:FEED_LENGTH]
        claims = Claim.objects.only("slug", "title", "statement").in_bulk(
            {event.claim_id for event in events}
        )
        return [
            FeedEntry(
                event,
                claims[event.claim_id],
                claim_filter.request.build_absolute_uri(claims[event.claim_id].get_absolute_url()),
            )
            for event in events
        ]

    def item_title(self, entry):
        return xml_safe(entry.title)

    def item_description(self, entry):
        # Atom summaries are HTML: escape the editors' text.
        return escape(xml_safe(entry.claim.statement))

    def item_link(self, entry):
        return entry.link

    def item_guid(self, entry):
        return f"{entry.link}#{entry.event.key}"

    def item_author_name(self, entry):
        return entry.event.by or "Claimwatch"

    def item_updateddate(self, entry):
        return entry.event.happened_at

    def item_pubdate(self, entry):
        return entry.event.happened_at
