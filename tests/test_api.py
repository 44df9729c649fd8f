"""The JSON API: the list page's claims and facet counts as data, one claim in full, errors as
JSON, and an OpenAPI description that validates and matches the responses."""

import json

import jsonschema
import pytest
from django.test import Client
from django.urls import reverse
from openapi_spec_validator import validate

from claims.filters import ClaimFilter
from claims.models import Claim, Jurisdiction, Status
from tests import test_filters
from tests.conftest import (
    make_claim,
    make_clinic,
    make_evidence_level,
    make_override,
    make_treatment,
)

pytestmark = pytest.mark.django_db


def headline(flags):
    """Each flag's status, without the caveats that go with it (tested on their own)."""
    return {
        code: {key: flag[key] for key in ("status", "label", "overridden")}
        for code, flag in flags.items()
    }


catalogue = test_filters.catalogue  # six claims over routes, origins, flags and countries

LIST = reverse("claims:api-claims")


def detail_url(claim):
    return reverse("claims:api-claim", args=[claim.slug])


def openapi(client):
    return client.get(reverse("claims:api-openapi")).json()


def assert_matches_schema(client, data, schema_name):
    document = openapi(client)
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)


class TestList:
    def test_it_answers_with_the_documented_shape(self, client, catalogue):
        data = client.get(f"{LIST}?route=intradermal-injection&country=GB").json()

        assert list(data) == [
            "count",
            "summary",
            "canonical_url",
            "next",
            "previous",
            "notices",
            "facets",
            "results",
        ]
        assert data["count"] == 1
        assert data["summary"] == "1 claim · in United Kingdom · intradermal injection"
        assert data["canonical_url"] == (
            "http://testserver/claims/?country=GB&route=intradermal-injection"
        )
        assert (data["next"], data["previous"], data["notices"]) == (None, None, [])
        assert [claim["slug"] for claim in data["results"]] == [catalogue["inject-gb"].slug]

    def test_it_shows_a_claim_with_its_flags(self, client, catalogue):
        data = client.get(f"{LIST}?clinic=manila&route=topical-intact-skin").json()

        [claim] = data["results"]
        assert claim["slug"] == catalogue["rose-ph"].slug
        assert headline(claim["flags"]) == {
            "fda": {"status": "not-approved", "label": "Not approved", "overridden": True},
            "eu": {
                "status": "cosmetic",
                "label": "Lawful cosmetic (no pre-market review)",
                "overridden": False,
            },
        }
        assert claim["clinic"] == {"slug": "manila", "name": "Manila clinic"}
        assert claim["country"] == "PH"
        assert (claim["route"], claim["origin"]) == ("topical-intact-skin", "plant")

    def test_its_facets_are_the_list_pages_facets(self, client, catalogue):
        query = "origin=human&fda=not-approved"
        data = client.get(f"{LIST}?{query}").json()

        page_facets = client.get(f"/claims/?{query}").context["facets"]
        assert data["facets"] == {
            facet.param: [
                {"value": o.value, "label": o.label, "count": o.count, "selected": o.selected}
                for o in facet.options
            ]
            for facet in page_facets
        }

    def test_its_facet_counts_equal_an_independent_count(self, client, catalogue, fda, eu):
        data = client.get(f"{LIST}?origin=human&country=GB").json()
        facets = {
            param: {o["value"]: o["count"] for o in options}
            for param, options in data["facets"].items()
        }
        human = Claim.objects.published().filter(treatment__source__origin="human")
        human_gb = human.filter(clinic__country="GB")

        # Each facet counts under the other filters, never its own.
        for country, count in facets["country"].items():
            assert count == human.filter(clinic__country=country).count()
        for route, count in facets["route"].items():
            assert count == human_gb.filter(treatment__route=route).count()
        for slug, count in facets["indication"].items():
            assert count == human_gb.filter(indications__slug=slug).count()
        for jurisdiction in [fda, eu]:
            for status, count in facets[jurisdiction.code].items():
                assert count == human_gb.with_status_in(jurisdiction, [status]).count()
        gb = Claim.objects.published().filter(clinic__country="GB")
        for origin, count in facets["origin"].items():
            assert count == gb.filter(treatment__source__origin=origin).count()
        assert facets["origin"] == {"human": 2, "plant": 1}

    def test_it_pages_with_links_that_keep_the_filters(self, client, jurisdictions):
        clinic, treatment, level = make_clinic(), make_treatment(), make_evidence_level()
        for _ in range(30):
            make_claim(clinic=clinic, treatment=treatment, evidence_level=level)

        first = client.get(f"{LIST}?country=GB").json()
        second = client.get(first["next"]).json()

        assert first["next"] == "http://testserver/api/claims/?country=GB&page=2"
        assert (len(first["results"]), len(second["results"])) == (25, 5)
        assert second["previous"] == "http://testserver/api/claims/?country=GB"
        assert second["next"] is None
        assert second["canonical_url"] == "http://testserver/claims/?country=GB&page=2"
        slugs = [c["slug"] for c in first["results"] + second["results"]]
        assert len(set(slugs)) == 30

    def test_it_ignores_unknown_values_and_says_so(self, client, catalogue):
        response = client.get(f"{LIST}?country=GB&country=XX&fda=maybe&sort=sideways")

        assert response.status_code == 200
        data = response.json()
        assert data["count"] == 3
        assert data["notices"] == [
            "Ignored country “XX”: nothing matches it.",
            "Ignored fda status “maybe”: nothing matches it.",
            "Ignored the sort order “sideways”.",
        ]

    @pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "99999999999999999999", ""])
    def test_it_refuses_a_page_that_is_not_a_positive_whole_number(self, client, catalogue, page):
        response = client.get(f"{LIST}?page={page}")

        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"error": "“page” must be a positive whole number."}

    def test_it_answers_404_past_the_last_page(self, client, catalogue):
        response = client.get(f"{LIST}?page=2")

        assert response.status_code == 404
        assert response.json() == {"error": "There is no page 2: the last page is 1."}

    def test_it_serves_an_empty_first_page(self, client, catalogue):
        data = client.get(
            f"{LIST}?country=PH&route=intradermal-injection&evidence=case-series"
        ).json()

        assert (data["count"], data["results"]) == (0, [])


class TestDetail:
    def test_it_shows_each_jurisdictions_status_in_full(self, client, catalogue):
        claim = catalogue["rose-ph"]

        data = client.get(detail_url(claim)).json()

        assert data["slug"] == claim.slug
        assert data["state"] == "published"
        assert data["flags"]["fda"] == {
            "status": "not-approved",
            "label": "Not approved",
            "overridden": True,
            "explanation": "Claimed to treat eczema.",
            "source_url": "https://example.org/drug",
            "source_title": "",
            "checked_on": "2026-11-01",
            "override_reason": "A disease claim makes it a drug.",
        }
        assert data["flags"]["eu"]["status"] == "cosmetic"
        assert data["flags"]["eu"]["overridden"] is False
        assert data["flags"]["eu"]["override_reason"] == ""

    def test_it_lists_the_citations(self, client, catalogue):
        claim = catalogue["inject-gb"]
        citation = claim.citations.get()

        data = client.get(detail_url(claim)).json()

        assert data["citations"] == [
            {
                "kind": "write-up",
                "title": citation.title,
                "publisher": "",
                "url": citation.url,
                "accessed_on": "2026-11-01",
                "note": "",
            }
        ]
        assert data["citation_urls"] == [citation.url]

    def test_it_says_not_assessed_where_nothing_is_recorded(self, client, jurisdictions):
        claim = make_claim()

        data = client.get(detail_url(claim)).json()

        assert data["flags"]["fda"]["status"] == "unknown"
        assert data["flags"]["fda"]["label"] == "Not assessed"

    def test_it_shows_the_lists_claim_with_its_state_and_citations(self, client, catalogue):
        for claim in client.get(LIST).json()["results"]:
            detail = client.get(reverse("claims:api-claim", args=[claim["slug"]])).json()
            assert list(detail) == [*claim, "state", "citations"]
            for key, value in claim.items():
                if key != "flags":
                    assert detail[key] == value

    def test_it_agrees_with_the_list_on_every_flag(self, client, catalogue):
        for claim in client.get(LIST).json()["results"]:
            detail = client.get(reverse("claims:api-claim", args=[claim["slug"]])).json()
            for code, flag in claim["flags"].items():
                assert {key: detail["flags"][code][key] for key in flag} == flag

    def test_it_shows_a_retracted_claim_as_retracted(self, client, catalogue):
        claim = catalogue["inject-ph"]
        claim.retract()

        response = client.get(detail_url(claim))

        assert response.status_code == 200
        assert response.json()["state"] == "retracted"
        assert claim.slug not in [c["slug"] for c in client.get(LIST).json()["results"]]

    @pytest.mark.parametrize("slug", ["no-such-claim", "draft"])
    def test_it_answers_404_in_json_for_unknown_and_draft_claims(self, client, catalogue, slug):
        slug = catalogue[slug].slug if slug in catalogue else slug

        response = client.get(reverse("claims:api-claim", args=[slug]))

        assert response.status_code == 404
        assert response.json() == {"error": "No published claim has this slug."}


class TestErrorsAndCors:
    @pytest.mark.parametrize(
        "path",
        [LIST, "/api/claims/x/", "/api/openapi.json", "/claims.csv", "/claims.json"],
    )
    def test_it_allows_reads_from_any_origin(self, client, catalogue, path):
        assert client.get(path)["Access-Control-Allow-Origin"] == "*"

    def test_it_refuses_writes_in_json(self, catalogue):
        client = Client(enforce_csrf_checks=True)

        response = client.post(LIST, {"title": "x"})

        assert response.status_code == 405
        assert response["Allow"] == "GET, HEAD"
        assert response.json() == {"error": "Only GET is allowed: this API is read-only."}

    def test_it_answers_unknown_api_paths_in_json(self, client, jurisdictions):
        response = client.get("/api/no-such-thing/")

        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert "error" in response.json()

    def test_it_answers_a_crash_in_json_not_an_html_page(self, catalogue, monkeypatch):
        def crash(self):
            raise RuntimeError("boom")

        monkeypatch.setattr(ClaimFilter, "facets", crash)
        client = Client(raise_request_exception=False)

        response = client.get(LIST)

        assert response.status_code == 500
        assert response.json() == {
            "error": "Something went wrong on our side. Please try again later."
        }

    def test_it_keeps_html_error_pages_outside_the_api(self, client, jurisdictions):
        response = client.get("/no-such-page/")

        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")


class TestOpenApi:
    def test_it_is_a_valid_openapi_document(self, client, catalogue):
        validate(openapi(client))

    def test_it_describes_a_parameter_and_a_flag_for_each_jurisdiction(self, client, catalogue):
        Jurisdiction.objects.create(code="mhra", name="UK", regulator="MHRA", short_label="MHRA")

        document = openapi(client)

        validate(document)
        parameters = document["paths"]["/api/claims/"]["get"]["parameters"]
        mhra = next(p for p in parameters if p["name"] == "mhra")
        # Known values, not an enum: the API ignores others with a notice (see TestList).
        assert mhra["schema"]["items"]["examples"] == [status.value for status in Status]
        assert "enum" not in mhra["schema"]["items"]
        assert (
            "mhra"
            in document["components"]["schemas"]["Claim"]["properties"]["flags"]["properties"]
        )
        assert {"q", "clinic", "country", "fda", "eu", "sort", "page"} <= {
            p["name"] for p in parameters
        }

    def test_its_page_bounds_are_the_ones_the_api_reads(self, client, catalogue):
        # Issue 15: the document said any page >= 1, and page=1000000000 answered 400.
        parameters = openapi(client)["paths"]["/api/claims/"]["get"]["parameters"]
        bounds = next(p for p in parameters if p["name"] == "page")["schema"]

        assert client.get(f"{LIST}?page={bounds['minimum']}").status_code == 200
        assert client.get(f"{LIST}?page={bounds['maximum']}").status_code == 404  # past the last
        assert client.get(f"{LIST}?page={bounds['maximum'] + 1}").status_code == 400
        assert client.get(f"{LIST}?page={bounds['minimum'] - 1}").status_code == 400

    def test_it_documents_known_values_without_refusing_others(self, client, catalogue):
        # Issue 15: sort and the flags were enums, yet other values are ignored with a notice.
        parameters = openapi(client)["paths"]["/api/claims/"]["get"]["parameters"]
        sort = next(p for p in parameters if p["name"] == "sort")["schema"]

        assert "enum" not in sort
        assert "newest" in sort["examples"]
        assert client.get(f"{LIST}?sort=sideways").status_code == 200

    @pytest.mark.parametrize(
        "query", ["", "country=GB&fda=not-approved", "q=clinic&sort=relevance", "clinic=nope"]
    )
    def test_the_list_matches_its_schema(self, client, catalogue, query):
        assert_matches_schema(client, client.get(f"{LIST}?{query}").json(), "ClaimPage")

    def test_a_claim_matches_its_schema(self, client, catalogue):
        make_override(
            catalogue["inject-gb"], Jurisdiction.objects.get(code="eu"), Status.PROHIBITED
        )
        for claim in catalogue.values():
            if claim.is_published():
                data = client.get(detail_url(claim)).json()
                assert_matches_schema(client, data, "ClaimDetail")

    def test_the_json_export_matches_its_schema(self, client, catalogue):
        response = client.get("/claims.json")
        document = json.loads(b"".join(response.streaming_content))

        assert len(document["claims"]) == document["count"] == 5
        for record in document["claims"]:
            assert_matches_schema(client, record, "Claim")

    def test_the_errors_match_their_schema(self, client, catalogue):
        for path in [f"{LIST}?page=0", f"{LIST}?page=9", "/api/claims/nope/"]:
            assert_matches_schema(client, client.get(path).json(), "Error")

    def test_a_schema_violation_is_caught(self, client, catalogue):
        data = client.get(LIST).json()
        data["results"][0]["flags"]["fda"]["status"] = "approved-ish"

        with pytest.raises(jsonschema.ValidationError):
            assert_matches_schema(client, data, "ClaimPage")


def test_the_api_page_gives_copy_paste_examples(client, catalogue):
    response = client.get(reverse("claims:api"))

    assert response.status_code == 200
    assert (
        "curl 'http://testserver/api/claims/?route=intradermal-injection&amp;fda=not-approved'"
        in response.text
    )
    assert f"curl 'http://testserver/api/claims/{Claim.objects.published().first().slug}/'" in (
        response.text
    )
    assert "curl -OJ 'http://testserver/claims.csv?" in response.text
    assert "http://testserver/api/openapi.json" in response.text
