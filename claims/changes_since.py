"""What changed since a moment, for exactly one view: the claims it showed then (rebuilt by
`claims.as_of`) against those it shows now. Whoever was sent a pinned link sees at once whether
what they were sent still holds."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from claims.as_of import ClaimThen
from claims.models import Claim, Jurisdiction
from claims.text import lower_first


@dataclass(frozen=True)
class ClaimChange:
    """One difference, about one claim, in readers' words, with what links to the claim."""

    kind: str  # "added", "retracted", "removed", "flag", "evidence" or "corrected"
    slug: str
    title: str
    text: str

    @property
    def url(self):
        return Claim(slug=self.slug).get_absolute_url()


@dataclass(frozen=True)
class ChangesSince:
    added: list[ClaimChange] = field(default_factory=list)
    removed: list[ClaimChange] = field(default_factory=list)  # retracted ones included
    flags: list[ClaimChange] = field(default_factory=list)
    evidence: list[ClaimChange] = field(default_factory=list)
    corrections: list[ClaimChange] = field(default_factory=list)

    def all(self):
        return [*self.added, *self.removed, *self.flags, *self.evidence, *self.corrections]

    def __bool__(self):
        return bool(self.all())


def changes_since(then, now):
    """The differences between `then`, the ClaimThen a view showed at a moment (as
    `published_claims_as_of` returns them, filtered like the view), and `now`, a queryset of
    the claims the view shows now. Five queries for the claims now (with their treatments,
    statuses, overrides and citations), one for the jurisdictions, and one for what became of
    the claims that left the view (when some did), whatever the number of claims."""
    then = {entry.claim.pk: entry for entry in then}
    jurisdictions = list(Jurisdiction.objects.all())
    current = {
        claim.pk: ClaimThen(
            claim,
            tuple(claim.flags(jurisdictions)),
            tuple(claim.citations.all()),
        )
        for claim in now.select_related("evidence_level")
        .prefetch_related("treatment__regulatory_statuses", "status_overrides", "citations")
        .order_by("-published_at", "-pk")
    }
    changes = ChangesSince()
    for pk, entry in current.items():
        claim = entry.claim
        if pk not in then:
            changes.added.append(ClaimChange("added", claim.slug, claim.title, _("Added")))
            continue
        old = then[pk]
        changes.flags.extend(_flag_changes(old, entry))
        old_level, new_level = old.claim.evidence_level, claim.evidence_level
        if old_level != new_level:
            text = _("Evidence level changed from %(old)s to %(new)s") % {
                "old": old_level.name if old_level else _("not rated"),
                "new": new_level.name if new_level else _("not rated"),
            }
            changes.evidence.append(ClaimChange("evidence", claim.slug, claim.title, text))
        corrected = [
            part
            for part, value in old.corrected_parts.items()
            if entry.corrected_parts[part] != value
        ]
        if corrected:
            text = _("Corrected: %(parts)s") % {"parts": ", ".join(corrected)}
            changes.corrections.append(ClaimChange("corrected", claim.slug, claim.title, text))
    gone = [pk for pk in then if pk not in current]
    states = dict(Claim.objects.filter(pk__in=gone).values_list("pk", "state"))
    for pk in gone:
        claim = then[pk].claim
        if states.get(pk) == Claim.State.RETRACTED:
            change = ClaimChange("retracted", claim.slug, claim.title, _("Retracted"))
        else:
            change = ClaimChange("removed", claim.slug, claim.title, _("No longer in this view"))
        changes.removed.append(change)
    return changes


def _flag_changes(old, new):
    """“FDA flag changed from not assessed to not approved”, for each jurisdiction whose flag
    changed."""
    before = {flag.jurisdiction.pk: flag for flag in old.flags}
    claim = new.claim
    for flag in new.flags:
        was = before.get(flag.jurisdiction.pk)
        if was is not None and was.status != flag.status:
            text = _("%(jurisdiction)s flag changed from %(old)s to %(new)s") % {
                "jurisdiction": flag.jurisdiction.short_label,
                "old": lower_first(was.status.label),
                "new": lower_first(flag.status.label),
            }
            yield ClaimChange("flag", claim.slug, claim.title, text)
