"""Claimwatch as it was at a moment: the `as_of` parameter, and the claims readers saw then,
rebuilt from the history django-simple-history records of every save.

The moment. `as_of` is a date and time in UTC, canonically `2026-12-01T10:00:00Z` (whole
seconds). A date alone means the start of that day, UTC (`2026-12-01` is 00:00:00Z), as ISO 8601
reads a date; a time without a zone is UTC; a time with an offset is converted to UTC. A value
that is none of these gets a notice and the live view; so does a moment in the future (the
future has not been recorded: it is the live view, which still changes). A moment before the
first record gives an empty view that says why.

What is rebuilt, and from what. A claim's own fields (title, statement, evidence level, state,
what it points to), its indications (simple_history snapshots them with each of its records),
its citations, its treatment's regulatory statuses and its own status overrides are read from
their history tables, each as its newest record at or before the moment. What a claim points to
(its clinic, treatment, source, evidence level, conference) and the jurisdictions are shown as
they are now: their names and descriptions are reference data, and only which of them a claim
pointed to is rebuilt. A row with no history at all (bulk-generated data, rows loaded before
fixtures were recorded) is taken as it always was, as `claims.history` takes it; a claim of
those counts as published from its `published_at`.

Query plan. One query per history table, whatever the number of claims: the table's rows with
`history_date <= T` for the objects asked for, numbered per object newest first (ROW_NUMBER()
OVER (PARTITION BY id ORDER BY history_date DESC, history_id DESC)), of which the first is kept
unless it records a deletion. Window functions run on PostgreSQL and on SQLite (3.25+). The
index on (id, history_date, history_id) of each table read (migration 0009) hands PostgreSQL
each object's records in that order, and finds one object's records for a claim's page. Then
one query per live table for its rows that have no history at all, and one for the jurisdictions.

Measured on PostgreSQL 15 with 20,000 generated claims of four records each: one claim's records
are an Index Scan of that index (about 1 ms); all 40,000 claim records at or before T are an
Index Scan feeding a WindowAgg with a run condition, without a sort (about 0.5 s), and rebuilding
every claim takes about 4.5 s in all. So a list rebuilds only the page it shows: it counts,
filters and pages `published_ids_as_of(moment)` in SQL, then calls `claims_as_of(moment, ids)`
for the page's ids.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import wraps

from django.db.models import Exists, F, OuterRef, Q, Window
from django.db.models.functions import FirstValue, RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.history import DELETED
from claims.models import (
    Citation,
    Claim,
    ClaimStatusOverride,
    Flag,
    Indication,
    Jurisdiction,
    RegulatoryStatus,
)

# A date, then optionally a time and a zone. ASCII digits only ("²" is a digit to Python). In a
# URL an unencoded "+" arrives as a space, so a space before an offset is read as a "+".
AS_OF = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[T ](?P<time>[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)"
    r"(?P<zone>Z|[+ -][0-9]{2}:[0-9]{2})?)?",
    re.ASCII,
)
LONGEST_AS_OF = len("2026-12-01T10:00:00.000000+00:00")
# Pinned pages never change: browsers and CDNs may keep them for a year without asking again.
PINNED_MAX_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class Moment:
    """The moment a view shows: `at` (UTC, whole seconds), or None for the live view; with the
    notices that say how the value asked for was read."""

    at: datetime | None = None
    notices: tuple[str, ...] = ()

    @property
    def is_pinned(self):
        return self.at is not None

    @property
    def canonical(self):
        """The canonical `as_of` value: `2026-12-01T10:00:00Z`. Empty for the live view."""
        if self.at is None:
            return ""
        return self.at.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def parse_as_of(raw, now=None):
    """The Moment an `as_of` value names. Never raises: a value that names no moment gives
    the live view with a notice."""
    if raw is None or raw == "":
        return Moment()
    at = _read_moment(raw)
    if at is None:
        return Moment(
            notices=(
                _(
                    "Ignored the date: it is not a date and time in UTC such as "
                    "2026-12-01T10:00:00Z. Showing Claimwatch as it is now."
                ),
            )
        )
    now = now or timezone.now()
    if at > now:
        return Moment(notices=(_("The date is in the future: showing Claimwatch as it is now."),))
    return Moment(at=at)


def _read_moment(raw):
    if len(raw) > LONGEST_AS_OF:
        return None
    match = AS_OF.fullmatch(raw)
    if match is None:
        return None
    zone = match["zone"] or "Z"
    if zone[0] == " ":
        zone = "+" + zone[1:]
    try:
        day = date.fromisoformat(match["date"])
        clock = time.fromisoformat(match["time"]) if match["time"] else time()
        local = datetime.combine(day, clock, tzinfo=UTC)
        if zone != "Z":
            hours, minutes = int(zone[1:3]), int(zone[4:6])
            if hours > 23 or minutes > 59:
                return None
            offset = timedelta(hours=hours, minutes=minutes)
            local -= offset if zone[0] == "+" else -offset
    except (ValueError, OverflowError):  # 2026-02-30, 25:00, or before year 1 once in UTC
        return None
    return local.replace(microsecond=0)


def history_begins():
    """When the first claim was recorded: before it Claimwatch showed nothing. One query."""
    return Claim.history.order_by("history_date").values_list("history_date", flat=True).first()


def empty_view_notice(moment, begins):
    """Why a pinned view is empty, when it is because nothing had been recorded yet."""
    if moment.is_pinned and (begins is None or moment.at < begins):
        return _("Claimwatch had published nothing yet at that time.")
    return None


@dataclass(frozen=True)
class ClaimThen:
    """A claim as readers saw it at a moment. `claim` is an unsaved copy of it, rebuilt from
    its history; what it points to (clinic, treatment, evidence level…) is as it is now."""

    claim: Claim
    flags: tuple[Flag, ...]
    citations: tuple[Citation, ...]
    indications: tuple[Indication, ...] = field(default=())

    @property
    def corrected_parts(self):
        """What `changes_since` compares to tell a correction: its words and its sources."""
        return {
            "title": self.claim.title,
            "statement": self.claim.statement,
            "citations": [(citation.url, citation.title) for citation in self.citations],
        }


def newest_records(history, at):
    """Of the history rows in `history`, each object's newest at or before `at`, unless it
    records the object's deletion: the rows as they were live at `at`. One query.

    Both tests are on window functions, so that they apply after each object's records are
    ranked (a filter on a column would apply before, and pick an older record instead)."""
    newest_first = [F("history_date").desc(), F("history_id").desc()]
    return (
        history.filter(history_date__lte=at)
        .order_by()  # the history's own order (newest first) would sort every row once more
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("id")], order_by=newest_first),
            newest_type=Window(
                FirstValue("history_type"), partition_by=[F("id")], order_by=newest_first
            ),
        )
        .filter(rank=1)
        .exclude(newest_type=DELETED)
    )


def without_history(model):
    """The live rows of `model` that have no history at all: as they always were."""
    return model.objects.filter(~Exists(model.history.filter(id=OuterRef("pk"))))


def _rebuilt(model, record):
    """An unsaved `model` with the values `record` (a history row) kept. Not simple_history's
    `record.instance`, which reads the fields it does not keep from the live row, one query
    per row."""
    return model(
        **{
            column.attname: getattr(record, column.attname)
            for column in model._meta.concrete_fields
            if hasattr(record, column.attname)
        }
    )


def claims_as_of(moment, ids=None):
    """{claim id: ClaimThen} of every claim that existed at `moment` (in any state), of those
    in `ids` (ids or a queryset of them) when given. Ten queries whatever the number of claims
    (see the module's query plan), and one more for the indications of claims without history."""
    at = moment.at
    claims = Claim.history.select_related(
        "clinic", "treatment__source", "evidence_level", "conference", "presentation"
    )
    unrecorded = without_history(Claim).filter(published_at__lte=at).with_facts()
    if ids is not None:
        claims, unrecorded = claims.filter(id__in=ids), unrecorded.filter(pk__in=ids)
    rows = {}  # claim id: (claim then, its indications then)
    records = list(newest_records(claims, at))
    snapshots = Claim.history.model._meta.get_field(
        "historicalclaim_indications"
    ).related_model.objects
    indications = {}
    for snapshot in snapshots.filter(history__in=[r.history_id for r in records]).select_related(
        "indication"
    ):
        indications.setdefault(snapshot.history_id, []).append(snapshot.indication)
    for record in records:
        claim = _rebuilt(Claim, record)
        for name in ("clinic", "treatment", "evidence_level", "conference", "presentation"):
            setattr(claim, name, getattr(record, name))
        rows[claim.pk] = (claim, indications.get(record.history_id, []))
    for claim in unrecorded:
        rows[claim.pk] = (claim, list(claim.indications.all()))

    treatments = None if ids is None else {claim.treatment_id for claim, _tagged in rows.values()}
    statuses = _records_then(RegulatoryStatus, at, "treatment_id", treatments)
    overrides = _records_then(ClaimStatusOverride, at, "claim_id", ids)
    citations = _records_then(Citation, at, "claim_id", ids)
    jurisdictions = list(Jurisdiction.objects.all())
    result = {}
    for pk, (claim, tagged) in rows.items():
        inherited = {r.jurisdiction_id: r for r in statuses.get(claim.treatment_id, [])}
        overridden = {r.jurisdiction_id: r for r in overrides.get(pk, [])}
        flags = tuple(
            Flag.from_records(j, overridden.get(j.pk), inherited.get(j.pk)) for j in jurisdictions
        )
        cited = sorted(citations.get(pk, []), key=lambda c: (c.position, c.pk))
        tagged = sorted(tagged, key=lambda indication: indication.name)
        result[pk] = ClaimThen(claim, flags, tuple(cited), tuple(tagged))
    return result


def _records_then(model, at, owner, owners=None):
    """{owner id: [rows of `model` as they were at `at`]}: statuses by treatment, overrides
    and citations by claim; only of the owners in `owners` (ids, or a queryset of them) when
    given. An object that moved between owners is counted where it was at `at`. Two queries."""
    history, unrecorded = model.history.all(), without_history(model)
    if owners is not None:
        ever = model.history.filter(**{f"{owner}__in": owners}).values("id")
        history, unrecorded = (
            history.filter(id__in=ever),
            unrecorded.filter(**{f"{owner}__in": owners}),
        )
    recorded = (_rebuilt(model, record) for record in newest_records(history, at))
    grouped = {}
    for row in [*recorded, *unrecorded]:
        grouped.setdefault(getattr(row, owner), []).append(row)
    return grouped


def published_claims_as_of(moment, ids=None):
    """The claims that were published at `moment` (of those in `ids` when given), as they
    were, newest first as the list orders them: a list of ClaimThen, empty for the live view's
    moment. The queries of `claims_as_of`."""
    if not moment.is_pinned:
        return []
    published = [
        then
        for then in claims_as_of(moment, ids).values()
        if then.claim.state == Claim.State.PUBLISHED
    ]
    published.sort(key=lambda then: then.claim.slug)
    published.sort(key=lambda then: (then.claim.published_at, then.claim.created_at), reverse=True)
    return published


def published_ids_as_of(moment):
    """The ids of the claims published at `moment`, as a subquery, unordered: for a list to
    count, filter and page in SQL, then rebuild only the page it shows with `claims_as_of`.
    The state is tested on the records the window kept (a filter applied with the window would
    pick each claim's newest published record instead)."""
    live_then = newest_records(Claim.history.all(), moment.at).values("history_id")
    recorded = Claim.history.filter(history_id__in=live_then, state=Claim.State.PUBLISHED)
    unrecorded = without_history(Claim).filter(
        state=Claim.State.PUBLISHED, published_at__lte=moment.at
    )
    return Claim.objects.filter(
        Q(pk__in=recorded.values("id")) | Q(pk__in=unrecorded.values("pk"))
    ).values("pk")


def cached_for_long_when_pinned(view):
    """Decorate a public page (outside `claims.cache.public_page`): a pinned page answered to
    everyone (not a signed-in editor's private one) may be kept for a year and never asked for
    again, since what was published at a past moment never changes. The view marks such a
    response `immutable`; `public_page` would cap its max-age at PAGE_MAX_AGE."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        directives = response.get("Cache-Control", "")
        if "immutable" in directives and "private" not in directives:
            response["Cache-Control"] = f"public, max-age={PINNED_MAX_AGE}, immutable"
        return response

    return wrapper
