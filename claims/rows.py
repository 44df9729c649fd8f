"""Claims read as plain values for their JSON shape (claims/shapes.py): one row per claim,
its flags through `with_flag`'s joins, and a chunk of claims' indications and citations in one
query each."""

from collections import defaultdict

from django.db.models import F
from django.db.models.lookups import In
from django.urls import reverse

from claims.models import Citation, Claim

# What the JSON shape reads from a claim's row and the rows it points to.
CLAIM_VALUES = (
    "pk",
    "slug",
    "title",
    "statement",
    "quote",
    "quote_source",
    "outcome",
    "context_note",
    "unverified",
    "made_on",
    "clinic__slug",
    "clinic__name",
    "clinic__country",
    "treatment__slug",
    "treatment__name",
    "treatment__route",
    "treatment__source__slug",
    "treatment__source__name",
    "treatment__source__origin",
    "evidence_level__code",
    "evidence_level__name",
    "evidence_level__ocebm_equivalent",
    "conference__slug",
    "conference__name",
    "conference__starts_on",
    "conference__ends_on",
    "conference__dates_note",
    "presentation__slug",
    "presentation__title",
    "published_at",
    "updated_at",
)


def flag_name(jurisdiction):
    """What `claim_values` calls the flag in `jurisdiction`."""
    return f"status_{jurisdiction.pk}"


# What a flag carries besides its status, read from the claim's override if it has one, else
# from its treatment's status: the same caveats a reader of the claim's page gets.
FLAG_FIELDS = ("explanation", "source_url", "source_title", "checked_on")


def claim_values(queryset, jurisdictions):
    """`queryset` as dicts of `CLAIM_VALUES`, plus each jurisdiction's flag, and the
    override's and the treatment's status record there (their fields None without one),
    all read through `with_flag`'s joins rather than subqueries per claim."""
    flag_values = []
    for jurisdiction in jurisdictions:
        name = flag_name(jurisdiction)
        queryset = queryset.with_flag(jurisdiction, name, select=True)
        # `with_flag` joins the claim's override as `<name>_override` and the treatment's
        # status as `<name>_inherited`.
        flag_values += [name, f"{name}_override__status", f"{name}_override__reason"]
        for record in ("override", "inherited"):
            flag_values += [f"{name}_{record}__{field}" for field in FLAG_FIELDS]
    return queryset.values(*CLAIM_VALUES, *flag_values)


class InIds(In):
    """`field IN ids`, which PostgreSQL receives as `field = ANY(ids)`: one array parameter,
    where binding an IN list of a chunk's 2,000 ids took longer than running the query."""

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, list(self.rhs))


def indications_by_claim(claim_ids):
    """{claim id: its indications' (slug, name), by name}"""
    indications = defaultdict(list)
    tags = (
        Claim.indications.through.objects.filter(InIds(F("claim_id"), claim_ids))
        .order_by("indication__name", "indication__slug")
        .values_list("claim_id", "indication__slug", "indication__name")
    )
    for claim_id, slug, name in tags:
        indications[claim_id].append((slug, name))
    return indications


def citation_urls_by_claim(claim_ids):
    """{claim id: its citations' URLs, in the citations' order}"""
    urls = defaultdict(list)
    citations = (
        Citation.objects.filter(InIds(F("claim_id"), claim_ids))
        .order_by("position", "pk")
        .values_list("claim_id", "url")
    )
    for claim_id, url in citations:
        urls[claim_id].append(url)
    return urls


def claim_url_builder(absolute_uri):
    """slug -> the absolute URL of the claim's page, from one reverse(): claims' URLs differ
    only by the slug, and a reverse() per claim cost more than the rest of its row."""
    placeholder = "slug"
    url = absolute_uri(reverse("claims:detail", args=[placeholder]))
    before, after = url.rsplit(placeholder, 1)
    return lambda slug: f"{before}{slug}{after}"
