"""Search for readers who mistype: "did you mean" from the published claims' own words (pg_trgm
and unaccent on PostgreSQL, difflib on SQLite), and the facets of an empty search counted
without it."""

import re

import pytest
from django.db import connection
from django.urls import reverse

from claims.search import suggestion
from tests.conftest import make_claim, make_clinic, make_indication, make_source, make_treatment

pytestmark = pytest.mark.django_db
LIST = reverse("claims:list")


@pytest.fixture
def spelled(jurisdictions):
    """Claims whose words readers misspell: acne, hair, placenta, an accented city."""
    placenta = make_source(slug="placenta", name="Placenta")
    make_claim(
        title="Exosomes clear acne",
        treatment=make_treatment(slug="placenta-serum", source=placenta),
        clinic=make_clinic(slug="bogota", name="Clínica Bogotá"),
        indications=[make_indication(slug="acne-scars", name="Acne scars")],
    )
    make_claim(
        title="Exosomes regrow hair",
        clinic=make_clinic(slug="seoul", name="Seoul skin"),
        indications=[make_indication(slug="hair-loss", name="Hair loss")],
    )
    make_claim(
        title="Exosomes for the Zanzibar clinic's drafts",
        clinic=make_clinic(slug="secret", name="Quarantined clinic"),
        published=False,
    )


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("acen", "acne"),
        ("hiar", "hair"),
        ("placnta", "placenta"),
        ("acen scars", "acne scars"),
        ("Scars hiar", "Scars hair"),
        ("bogota", "bogotá"),
    ],
)
def test_it_respells_misspelt_words_with_the_claims_own(spelled, typed, meant):
    assert suggestion(typed) == meant


@pytest.mark.parametrize("typed", ["acne", "Hair loss", "xyzzy", "uv", ""])
def test_it_suggests_nothing_for_known_words_or_for_words_like_none(spelled, typed):
    assert suggestion(typed) is None


def test_it_never_offers_the_words_of_unpublished_claims(spelled):
    assert suggestion("zanzibr") is None
    assert suggestion("quarantned") is None


def test_it_finds_suggestions_in_one_query_on_postgresql(spelled, django_assert_num_queries):
    # pg_trgm narrows the vocabulary inside the database; SQLite reads its five sources.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 5):
        assert suggestion("acen hiar") == "acne hair"


def test_it_links_an_empty_search_to_its_respelling(client, spelled):
    response = client.get(LIST, {"q": "hiar"})

    assert response.status_code == 200
    assert "0 claims" in response.text
    assert re.search(r'Did you mean <a href="/claims/\?q=hair">hair</a>\?', response.text)


def test_it_suggests_nothing_that_the_other_filters_leave_empty(client, spelled):
    response = client.get(LIST, {"q": "hiar", "clinic": "bogota"})

    assert response.status_code == 200
    assert "Did you mean" not in response.text


def test_it_suggests_nothing_when_a_search_finds_claims(client, spelled):
    response = client.get(LIST, {"q": "hair"})

    assert "Exosomes regrow hair" in response.text
    assert "Did you mean" not in response.text


def test_it_counts_an_empty_searchs_facets_without_the_search(client, spelled):
    response = client.get(LIST, {"q": "hiar", "clinic": "seoul"})

    assert "0 claims" in response.text
    assert "The counts below leave the search out" in response.text
    # The clinic facet counts, and links to, the claims under the other filters.
    assert 'value="seoul" id="f-clinic-seoul" data-url="/claims/" checked' in response.text
    assert 'data-url="/claims/?clinic=bogota&amp;clinic=seoul"' in response.text
    # The active filters stay on screen, the search among them.
    assert "Search: “hiar”" in response.text
    assert "Clinic: Seoul skin" in response.text


def test_it_counts_facets_under_the_search_when_it_finds_claims(client, spelled):
    response = client.get(LIST, {"q": "hair"})

    assert "leave the search out" not in response.text
    assert 'data-url="/claims/?q=hair&amp;clinic=seoul"' in response.text
