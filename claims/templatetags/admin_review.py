from datetime import timedelta

from django import template
from django.utils import timezone

from claims.models import ClaimRevision, StatusRevision

register = template.Library()

RECENT = timedelta(days=30)


@register.inclusion_tag("admin/claims/_review_queue.html", takes_context=True)
def review_queue(context):
    """The admin index's review queue: changes awaiting a Publisher, and the decisions of the
    last 30 days on the user's own changes (how a rejected editor learns why)."""
    user = context["request"].user
    since = timezone.now() - RECENT
    mine = []
    for model, names in (
        (ClaimRevision, ["claim"]),
        (StatusRevision, ["treatment", "jurisdiction"]),
    ):
        mine += (
            model.objects.filter(created_by=user, reviewed_at__gte=since)
            .exclude(reviewed_by=user)
            .select_related("reviewed_by", *names)
        )
    return {
        "claims": ClaimRevision.objects.pending().count(),
        "statuses": StatusRevision.objects.pending().count(),
        "mine": sorted(mine, key=lambda revision: revision.reviewed_at, reverse=True)[:10],
    }
