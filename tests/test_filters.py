"""The /claims/ URL contract: OR inside a facet, AND across facets, canonical URLs, facet
counts under the other filters, unknown values dropped with a notice."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from claims.facets import reserved_parameters
from claims.filters import ClaimFilter
from claims.models import (
    Claim,
    Jurisdiction,
    Origin,
    Route,
    SourceCategory,
    Status,
)
from tests.conftest import (
    make_claim,
    make_clinic,
    make_evidence_level,
    make_indication,
    make_override,
    make_source,
    make_status,
    make_treatment,
)

pytestmark = pytest.mark.django_db
LIST = reverse("claims:list")


@pytest.fixture
def catalogue(fda, eu):
    """Six published claims spread over routes, origins, statuses and countries."""
    human = make_source(slug="placenta", name="Placenta", category=SourceCategory.HUMAN_PERINATAL)
    plant = make_source(
        slug="rose", name="Rose", category=SourceCategory.PLANT, origin=Origin.PLANT
    )
    injected = make_treatment(
        slug="injected-placenta", source=human, route=Route.INTRADERMAL_INJECTION
    )
    topical_human = make_treatment(
        slug="topical-placenta", source=human, route=Route.TOPICAL_INTACT_SKIN
    )
    topical_plant = make_treatment(slug="rose-serum", source=plant, route=Route.TOPICAL_INTACT_SKIN)
    for treatment, fda_status, eu_status in [
        (injected, Status.NOT_APPROVED, Status.NOT_APPROVED),
        (topical_human, Status.NOT_APPROVED, Status.PROHIBITED),
        (topical_plant, Status.COSMETIC, Status.COSMETIC),
    ]:
        make_status(treatment, fda, fda_status)
        make_status(treatment, eu, eu_status)
    weak = make_evidence_level(code="case-series", name="Case series", rank=5)
    strong = make_evidence_level(code="rct", name="RCT", rank=7)
    london = make_clinic(slug="london", name="London clinic", country="GB")
    manila = make_clinic(slug="manila", name="Manila clinic", country="PH")
    scars = make_indication(slug="scars", name="Scars")
    wrinkles = make_indication(slug="wrinkles", name="Wrinkles")
    claims = {
        "inject-gb": make_claim(
            treatment=injected, clinic=london, evidence_level=weak, indications=[scars]
        ),
        "inject-ph": make_claim(
            treatment=injected, clinic=manila, evidence_level=strong, indications=[wrinkles]
        ),
        "topical-gb": make_claim(
            treatment=topical_human, clinic=london, evidence_level=weak, indications=[wrinkles]
        ),
        "rose-gb": make_claim(
            treatment=topical_plant,
            clinic=london,
            evidence_level=strong,
            indications=[scars, wrinkles],
        ),
        "rose-ph": make_claim(treatment=topical_plant, clinic=manila, evidence_level=weak),
        "draft": make_claim(treatment=injected, clinic=london, published=False),
    }
    # A disease claim on the cosmetic serum: its FDA flag is overridden for this claim only.
    make_override(
        claims["rose-ph"],
        fda,
        Status.NOT_APPROVED,
        reason="A disease claim makes it a drug.",
        source_url="https://example.org/drug",
        checked_on=date(2026, 11, 1),
    )
    return claims


def slugs_for(query, catalogue):
    names = {claim.slug: name for name, claim in catalogue.items()}
    claim_filter = ClaimFilter(query_dict(query))
    return {names[slug] for slug in claim_filter.qs.values_list("slug", flat=True)}


def query_dict(query):
    from django.http import QueryDict

    return QueryDict(query)


def test_it_ors_values_inside_a_facet(catalogue):
    assert slugs_for("country=GB&country=PH", catalogue) == {
        "inject-gb",
        "inject-ph",
        "topical-gb",
        "rose-gb",
        "rose-ph",
    }
    assert slugs_for("route=intradermal-injection", catalogue) == {"inject-gb", "inject-ph"}


def test_it_ands_different_parameters(catalogue):
    assert slugs_for("route=intradermal-injection&country=GB", catalogue) == {"inject-gb"}
    assert slugs_for("origin=human&evidence=rct", catalogue) == {"inject-ph"}


def test_it_filters_by_effective_flag_including_overrides(catalogue):
    assert slugs_for("fda=not-approved", catalogue) == {
        "inject-gb",
        "inject-ph",
        "topical-gb",
        "rose-ph",
    }
    assert slugs_for("fda=cosmetic", catalogue) == {"rose-gb"}
    assert slugs_for("eu=prohibited&fda=not-approved", catalogue) == {"topical-gb"}


def test_it_filters_by_indication_without_duplicates(catalogue):
    claim_filter = ClaimFilter(query_dict("indication=scars&indication=wrinkles"))
    slugs = list(claim_filter.qs.values_list("slug", flat=True))
    assert len(slugs) == len(set(slugs)) == 4


def test_it_never_lists_drafts(catalogue):
    assert "draft" not in slugs_for("", catalogue)


def test_it_counts_each_facet_under_the_other_filters_only(catalogue):
    claim_filter = ClaimFilter(query_dict("route=intradermal-injection&country=GB"))
    facets = {facet.param: facet for facet in claim_filter.facets()}

    route_counts = {o.value: o.count for o in facets["route"].options}
    country_counts = {o.value: o.count for o in facets["country"].options}
    fda_counts = {o.value: o.count for o in facets["fda"].options}

    # Route counts ignore the route selection but respect country=GB.
    assert route_counts == {"intradermal-injection": 1, "topical-intact-skin": 2}
    # Country counts ignore the country selection but respect the route.
    assert country_counts == {"GB": 1, "PH": 1}
    # Other facets respect both.
    assert fda_counts == {"not-approved": 1}


def test_facet_counts_match_independent_queries(catalogue, fda):
    claim_filter = ClaimFilter(query_dict("origin=human"))
    facets = {facet.param: facet for facet in claim_filter.facets()}
    human = Claim.objects.published().filter(treatment__source__origin="human")

    for option in facets["clinic"].options:
        assert option.count == human.filter(clinic__slug=option.value).count()
    for option in facets["fda"].options:
        assert option.count == human.with_status_in(fda, [option.value]).count()
    for option in facets["indication"].options:
        assert option.count == human.filter(indications__slug=option.value).count()


def test_it_keeps_selected_options_visible_at_zero(catalogue):
    claim_filter = ClaimFilter(
        query_dict("country=PH&evidence=case-series&route=topical-intact-skin")
    )
    facets = {facet.param: facet for facet in claim_filter.facets()}
    assert [(o.value, o.count, o.selected) for o in facets["route"].options][0] == (
        "topical-intact-skin",
        1,
        True,
    )
    country_options = {o.value: (o.count, o.selected) for o in facets["country"].options}
    assert country_options["PH"] == (1, True)


def test_it_summarises_the_filters_in_plain_words(catalogue):
    claim_filter = ClaimFilter(
        query_dict("route=intradermal-injection&fda=not-approved&origin=human")
    )
    assert claim_filter.summary(2) == (
        "2 claims · intradermal injection · human-derived · FDA: not approved"
    )


class TestCanonicalUrls:
    def test_it_redirects_to_sorted_deduplicated_parameters_in_fixed_order(self, client, catalogue):
        response = client.get(
            f"{LIST}?route=topical-intact-skin&country=PH&country=GB&country=GB&clinic=&fda=cosmetic"
        )
        assert response.status_code == 302
        assert response.url == (
            f"{LIST}?country=GB&country=PH&route=topical-intact-skin&fda=cosmetic"
        )

    def test_it_serves_the_canonical_url_without_redirect(self, client, catalogue):
        response = client.get(f"{LIST}?country=GB&route=intradermal-injection")
        assert response.status_code == 200
        assert (
            f'<link rel="canonical" href="http://testserver{LIST}?country=GB&amp;'
            'route=intradermal-injection">' in response.text
        )

    def test_it_uppercases_country_codes(self, client, catalogue):
        response = client.get(f"{LIST}?country=gb")
        assert response.url == f"{LIST}?country=GB"

    def test_it_drops_the_default_sort_and_first_page(self, client, catalogue):
        response = client.get(f"{LIST}?sort=newest&page=1")
        assert response.status_code == 302
        assert response.url == LIST

    def test_it_links_facets_chips_and_sort_to_canonical_urls(self, client, catalogue):
        response = client.get(f"{LIST}?country=GB&route=intradermal-injection")
        text = response.text
        # Chip removing the country keeps the route.
        assert f'href="{LIST}?route=intradermal-injection"' in text
        # Sorting keeps both filters.
        assert f'href="{LIST}?country=GB&amp;route=intradermal-injection&amp;sort=clinic"' in text
        # Toggling another country adds it in sorted order.
        assert (
            f'data-url="{LIST}?country=GB&amp;country=PH&amp;route=intradermal-injection"' in text
        )


class TestBadInput:
    @pytest.mark.parametrize(
        "query",
        [
            "clinic=nope",
            "evidence=%3Cscript%3Ealert(1)%3C/script%3E",
            "fda=maybe",
            "page=abc",
            "page=0",
            "sort=sideways",
            "country=ZZ",
            "route=teleportation",
        ],
    )
    def test_it_drops_unknown_values_with_a_notice_on_the_canonical_url(
        self, client, catalogue, query
    ):
        response = client.get(f"{LIST}?{query}", follow=True)
        assert response.redirect_chain == [(LIST, 302)]
        assert response.status_code == 200
        assert "Ignored" in response.text
        assert "<script>alert(1)" not in response.text
        assert "5 claims" in response.text

    def test_it_keeps_the_known_values_next_to_an_unknown_one(self, client, catalogue):
        response = client.get(f"{LIST}?country=GB&country=XX", follow=True)
        assert response.redirect_chain == [(f"{LIST}?country=GB", 302)]
        assert "3 claims · in United Kingdom" in response.text
        assert "Ignored country “XX”" in response.text

    def test_it_sends_a_page_past_the_end_to_the_last_page(self, client, catalogue):
        response = client.get(f"{LIST}?country=GB&page=99")
        assert response.status_code == 302
        assert response.url == f"{LIST}?country=GB"

    def test_it_refuses_an_absurd_page_number_cleanly(self, client, catalogue):
        response = client.get(f"{LIST}?page=99999999999999999999", follow=True)
        assert response.redirect_chain == [(LIST, 302)]
        assert "Ignored the page number" in response.text


class TestSearch:
    def test_it_finds_claims_by_their_words_and_related_names(self, catalogue):
        catalogue["rose-gb"].statement = "Rose exosomes reverse photoageing."
        catalogue["rose-gb"].save()
        assert slugs_for("q=photoageing", catalogue) == {"rose-gb"}
        assert slugs_for("q=Manila", catalogue) == {"inject-ph", "rose-ph"}

    def test_it_sorts_by_relevance_by_default_when_searching(self, catalogue):
        claim_filter = ClaimFilter(query_dict("q=clinic"))
        assert claim_filter.sort == "relevance"
        assert claim_filter.canonical_query() == "q=clinic"

    def test_it_updates_the_search_when_a_clinic_is_renamed(self, catalogue):
        clinic = catalogue["inject-ph"].clinic
        clinic.name = "Cebu aesthetics"
        clinic.save()
        assert slugs_for("q=Cebu", catalogue) == {"inject-ph", "rose-ph"}

    def test_it_finds_claims_by_indication(self, catalogue):
        assert slugs_for("q=scars", catalogue) == {"inject-gb", "rose-gb"}


def test_it_counts_facets_under_a_text_search(catalogue):
    claim_filter = ClaimFilter(query_dict("q=Manila"))
    facets = {facet.param: facet for facet in claim_filter.facets()}
    assert {o.value: o.count for o in facets["clinic"].options} == {"manila": 2}
    assert {o.value: o.count for o in facets["fda"].options} == {
        "not-approved": 2,
    }


def test_it_lists_the_most_frequent_options_and_always_the_selected_ones(fda, eu):
    from claims import filters

    treatment = make_treatment()
    busiest = make_clinic(slug="busiest")
    for _ in range(3):
        make_claim(clinic=busiest, treatment=treatment)
    quiet = [make_clinic(slug=f"quiet-{n:02}") for n in range(filters.MAX_OPTIONS_PER_FACET + 4)]
    for clinic in quiet:
        make_claim(clinic=clinic, treatment=treatment)

    chosen = quiet[-1].slug
    clinic_facet = next(
        f for f in ClaimFilter(query_dict(f"clinic={chosen}")).facets() if f.param == "clinic"
    )

    values = [option.value for option in clinic_facet.options]
    assert len(values) == filters.MAX_OPTIONS_PER_FACET
    assert values[:2] == [chosen, "busiest"]
    assert clinic_facet.hidden_count == len(quiet) + 1 - filters.MAX_OPTIONS_PER_FACET


# --- Jurisdiction codes and the list's own parameters ---------------------------------------


@pytest.mark.parametrize("code", ["page", "q", "sort", "country", "clinic", "conference", "as_of"])
def test_it_refuses_a_jurisdiction_code_that_is_a_parameter_of_the_list(db, code):
    jurisdiction = Jurisdiction(code=code, name="Somewhere", regulator="R", short_label="R")
    with pytest.raises(ValidationError) as error:
        jurisdiction.full_clean()
    assert "already a parameter" in str(error.value.message_dict["code"])


def test_it_reserves_every_facet_and_list_parameter():
    reserved = reserved_parameters()
    assert {"q", "sort", "page", "format", "as_of"} <= reserved
    assert {spec.param for spec in ClaimFilter(jurisdictions=[]).facet_specs()} <= reserved


def test_it_accepts_an_ordinary_jurisdiction_code(db):
    Jurisdiction(
        code="mhra", name="United Kingdom", regulator="MHRA", short_label="MHRA"
    ).full_clean()


@pytest.mark.parametrize("code", ["page", "q", "sort", "country", "evidence"])
def test_it_keeps_every_list_working_with_a_bad_code_already_saved(client, claim, code):
    # Saved past clean(), as rows from before the rule were.
    Jurisdiction.objects.create(code=code, name="Somewhere", regulator="R", short_label="R")
    urls = [
        reverse("claims:home"),
        reverse("claims:list"),
        f"{reverse('claims:list')}?q=wonderful",
        f"{reverse('claims:list')}?sort=clinic&page=1",
        f"{reverse('claims:list')}?country=GB",
        reverse("claims:api-claims"),
        f"{reverse('claims:api-claims')}?q=wonderful&page=1",
        reverse("claims:export-csv"),
        reverse("claims:feed"),
        claim.get_absolute_url(),
        claim.clinic.get_absolute_url(),
    ]
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
    assert claim.title.encode() in client.get(f"{reverse('claims:list')}?country=GB").content
