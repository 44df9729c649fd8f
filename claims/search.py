"""Full-text search over claims: the search box of the list, the API and the exports.

PostgreSQL reads a stemmed, weighted tsvector column with a GIN index (migration 0003); SQLite
reads the same search document (`Claim.build_search_document`) with LIKE.
"""

from django.db import connection
from django.db.models import Case, IntegerField, Value, When
from django.db.models.expressions import RawSQL


def _search_parts(text):
    from django.contrib.postgres.search import SearchQuery, SearchVectorField

    # Unqualified: only claims_claim has this column, and a query that nests the filtered
    # claims as a subquery (the feed's) renames claims_claim to U0.
    vector = RawSQL('"search_vector"', [], output_field=SearchVectorField())
    return vector, SearchQuery(text, config="english", search_type="websearch")


def search(queryset, text):
    """Full-text search. PostgreSQL: the stemmed, weighted `search_vector` column (GIN index,
    migration 0003). Elsewhere: every word must appear in the claim's search document."""
    if connection.vendor == "postgresql":
        vector, query = _search_parts(text)
        return queryset.alias(search_vector=vector).filter(search_vector=query)
    for word in text.split():
        queryset = queryset.filter(search_document__icontains=word)
    return queryset


def rank_by_relevance(queryset, text):
    """Annotate `search_rank`: ts_rank on PostgreSQL; title, then statement matches elsewhere."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchRank

        return queryset.annotate(search_rank=SearchRank(*_search_parts(text)))
    return queryset.annotate(
        search_rank=Case(
            When(title__icontains=text, then=Value(2)),
            When(statement__icontains=text, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )
