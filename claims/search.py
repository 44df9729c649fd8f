"""The text search of the claim list: matching, ranking, and "did you mean" for misspellings.

PostgreSQL searches the stemmed, weighted `search_vector` column (migration 0003) and finds
spelling suggestions with pg_trgm and unaccent (migration 0011). SQLite, for laptops and
tests, matches words with LIKE and suggests with difflib: simpler, the same answers on the
seed's misspellings.
"""

import difflib
import re
import unicodedata

from django.db import connection
from django.db.models import Case, IntegerField, Value, When
from django.db.models.expressions import RawSQL

from claims.models import Claim

# A word, as a reader types it and as the vocabulary splits it: letters and digits.
WORD = re.compile(r"[^\W_]+")
SHORTEST_WORD = 3  # "uv", "of": too short to tell a slip of the finger from another word
# pg_trgm's similarity is how many trigrams two words share. A swap of two letters in a short
# word ("hiar") leaves a single one in common, so the database only narrows the vocabulary to
# words sharing some trigrams, and difflib, which sees transpositions, picks among those.
TRIGRAM_FLOOR = 0.1
CLOSE_ENOUGH = 0.7  # difflib's ratio: "acen" and "acne", "hiar" and "hair" are 0.75


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


def vocabulary_texts():
    """The texts whose words a suggestion may offer: the titles of published claims and the
    names of the clinics, treatments, sources and indications they name. Only published
    claims: a clinic with nothing but drafts is under investigation, and its name is not for
    readers yet."""
    published = Claim.objects.published().order_by()
    return [
        published.values_list(path, flat=True).distinct()
        for path in (
            "title",
            "clinic__name",
            "treatment__name",
            "treatment__source__name",
            "indications__name",
        )
    ]


def _plain(word):
    """`word` without its accents, as unaccent() reads it: "eczéma" is "eczema"."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _candidates_by_trigrams(words):
    """{typed word: vocabulary words sharing trigrams with it}, found by PostgreSQL."""
    texts, params = [], []
    for queryset in vocabulary_texts():
        sql, query_params = queryset.query.sql_with_params()
        texts.append(sql)
        params += query_params
    sql = f"""
        WITH vocabulary AS (
            SELECT DISTINCT word
            FROM ({" UNION ".join(texts)}) AS texts (text),
                regexp_split_to_table(lower(text), '[^[:alnum:]]+') AS word
            WHERE length(word) >= %s
        )
        SELECT typed.word, vocabulary.word
        FROM unnest(%s::text[]) AS typed (word)
        JOIN vocabulary
            ON similarity(unaccent(vocabulary.word), unaccent(typed.word)) >= %s
    """
    candidates = {word: [] for word in words}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, SHORTEST_WORD, sorted(words), TRIGRAM_FLOOR])
        for typed, word in cursor.fetchall():
            candidates[typed].append(word)
    return candidates


def _candidates_by_reading(words):
    """{typed word: every vocabulary word}, read into Python: SQLite has no trigrams."""
    vocabulary = {
        word.lower()
        for queryset in vocabulary_texts()
        for text in queryset
        if text
        for word in WORD.findall(text)
        if len(word) >= SHORTEST_WORD
    }
    return {word: sorted(vocabulary) for word in words}


def _closest(word, candidates):
    """The candidate nearest `word`, accents aside, or None when none is close enough. difflib's
    own search, whose quick bounds skip most candidates before comparing them."""
    plain = {_plain(candidate): candidate for candidate in sorted(candidates, reverse=True)}
    best = difflib.get_close_matches(_plain(word), plain, n=1, cutoff=CLOSE_ENOUGH)
    return plain[best[0]] if best else None


def suggestion(text):
    """`text` with each word the published claims never use replaced by the nearest word they
    do, or None when there is nothing to correct. One query on PostgreSQL."""
    words = {word.lower() for word in WORD.findall(text) if len(word) >= SHORTEST_WORD}
    if not words:
        return None
    if connection.vendor == "postgresql":
        candidates = _candidates_by_trigrams(words)
    else:
        candidates = _candidates_by_reading(words)
    corrections = {
        word: _closest(word, found) for word, found in candidates.items() if word not in found
    }

    def corrected(match):
        return corrections.get(match.group().lower()) or match.group()

    suggested = WORD.sub(corrected, text)
    return suggested if suggested.lower() != text.lower() else None
