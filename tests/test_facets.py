"""The facet registry (claims.facets): one spec per facet, from which the list, its counts,
chips and summary, the API and its OpenAPI document, the exports, the admin and the claim page
all follow. The presentation facet is the worked example: one spec, end to end."""

from datetime import date

import pytest
from django.core import checks
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.urls import reverse

from claims.facets import STATIC_FACETS, facet_specs, reserved_parameters
from claims.filters import ClaimFilter, list_url
from claims.models import Claim, Conference, Jurisdiction, Presentation
from tests.conftest import make_claim
from tests.test_admin import change, claim_form
from tests.test_api import assert_matches_schema, openapi
from tests.test_exports import csv_rows, json_records

pytestmark = pytest.mark.django_db
LIST = reverse("claims:list")


def make_conference(**fields):
    fields = {"slug": "congress", "name": "Skin congress", "starts_on": date(2026, 3, 1), **fields}
    return Conference.objects.create(**fields)


def make_presentation(conference, **fields):
    fields = {"slug": "the-talk", "title": "The talk", "given_on": date(2026, 3, 1), **fields}
    return Presentation.objects.create(conference=conference, **fields)


@pytest.fixture
def talks(jurisdictions):
    """Two presentations at one conference; three published claims, one made in neither."""
    conference = make_conference()
    first = make_presentation(conference, slug="first-talk", title="First talk")
    second = make_presentation(conference, slug="second-talk", title="Second talk")
    return {
        "first": first,
        "second": second,
        "in-first": make_claim(slug="in-first", conference=conference, presentation=first),
        "in-second": make_claim(slug="in-second", conference=conference, presentation=second),
        "elsewhere": make_claim(slug="elsewhere"),
    }


def listed_slugs(client, query):
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 200
    return {claim.slug for claim, _flags in response.context["rows"]}


# --- The presentation facet, end to end -------------------------------------------------------


def test_it_filters_the_list_by_presentation(client, talks):
    assert listed_slugs(client, "presentation=first-talk") == {"in-first"}
    assert listed_slugs(client, "presentation=first-talk&presentation=second-talk") == {
        "in-first",
        "in-second",
    }


def test_it_counts_presentations_under_the_other_filters(talks):
    claim_filter = ClaimFilter(QueryDict("presentation=first-talk"))
    [facet] = [f for f in claim_filter.facets() if f.param == "presentation"]

    assert [(o.value, o.label, o.count, o.selected) for o in facet.options] == [
        ("first-talk", "First talk", 1, True),
        ("second-talk", "Second talk", 1, False),
    ]
    assert facet.options[1].toggle_url == (
        f"{LIST}?presentation=first-talk&presentation=second-talk"
    )


def test_it_names_the_presentation_in_chips_and_summary(talks):
    claim_filter = ClaimFilter(QueryDict("presentation=first-talk"))

    [chip] = claim_filter.chips()
    assert chip.label == "Presentation: First talk"
    assert chip.remove_url == LIST
    assert claim_filter.summary(1) == "1 claim · in the presentation First talk"


def test_it_drops_an_unknown_presentation_with_a_notice(client, talks):
    response = client.get(f"{LIST}?presentation=no-such-talk", follow=True)

    assert response.redirect_chain == [(LIST, 302)]
    assert "Ignored presentation “no-such-talk”: nothing matches it." in response.text
    assert len(response.context["rows"]) == 3


def test_it_filters_the_api_by_presentation_and_counts_it(client, talks):
    data = client.get(reverse("claims:api-claims"), {"presentation": "second-talk"}).json()

    assert [claim["slug"] for claim in data["results"]] == ["in-second"]
    assert data["results"][0]["presentation"] == {"slug": "second-talk", "name": "Second talk"}
    assert {option["value"] for option in data["facets"]["presentation"]} == {
        "first-talk",
        "second-talk",
    }
    assert_matches_schema(client, data, "ClaimPage")


def test_it_documents_the_presentation_parameter(client):
    parameters = openapi(client)["paths"]["/api/claims/"]["get"]["parameters"]

    [presentation] = [p for p in parameters if p["name"] == "presentation"]
    assert presentation["in"] == "query"
    assert presentation["schema"]["type"] == "array"
    assert presentation["description"].startswith("Presentation.")


def test_it_exports_the_presentation_in_csv_and_json(client, talks):
    rows = {row["slug"]: row for row in csv_rows(client, "presentation=first-talk")}
    assert set(rows) == {"in-first"}
    assert rows["in-first"]["presentation"] == "First talk"

    records = {record["slug"]: record for record in json_records(client)}
    assert records["in-first"]["presentation"] == {"slug": "first-talk", "name": "First talk"}
    assert records["elsewhere"]["presentation"] is None
    every_row = {row["slug"]: row for row in csv_rows(client)}
    assert every_row["elsewhere"]["presentation"] == ""


def test_it_filters_the_admin_changelist_by_presentation(client, editor, talks):
    client.force_login(editor)
    url = reverse("admin:claims_claim_changelist")

    response = client.get(url, {"presentation__id__exact": talks["second"].pk})

    assert response.status_code == 200
    assert [claim.slug for claim in response.context["cl"].result_list] == ["in-second"]
    assert "By presentation" in response.text


def test_it_links_a_claims_presentation_to_the_filtered_list(client, talks):
    response = client.get(talks["in-first"].get_absolute_url())

    assert response.context["links"]["presentation"] == f"{LIST}?presentation=first-talk"
    assert f'href="{LIST}?presentation=first-talk"' in response.text


def test_it_has_no_presentation_link_for_a_claim_made_elsewhere(client, talks):
    response = client.get(talks["elsewhere"].get_absolute_url())

    assert response.context["links"]["presentation"] is None
    assert "?presentation=" not in response.text


# --- The registry ---------------------------------------------------------------------------


def test_it_builds_a_link_in_the_filters_canonical_form(fda):
    state = {"route": ["topical"], "fda": ["not-approved"], "clinic": ["b", "a", "a"]}

    assert list_url([fda], **state) == ClaimFilter(jurisdictions=[fda]).url(**state)
    assert list_url([fda], **state) == f"{LIST}?clinic=a&clinic=b&route=topical&fda=not-approved"


def test_it_puts_each_jurisdictions_flag_among_the_facets(fda, eu):
    params = [spec.param for spec in facet_specs([fda, eu])]

    assert params.index("evidence") < params.index("fda") < params.index("eu")
    assert params.index("eu") < params.index("conference") < params.index("presentation")


def test_it_reserves_every_facet_name_and_nothing_else():
    assert reserved_parameters() == {
        "q",
        "sort",
        "page",
        "as_of",
        "since",
        "format",
        *(spec.param for spec in STATIC_FACETS),
    }


def test_it_refuses_a_jurisdiction_coded_like_a_facet(db):
    jurisdiction = Jurisdiction(code="Presentation", name="X", regulator="R", short_label="R")

    with pytest.raises(ValidationError) as error:
        jurisdiction.full_clean()
    assert "already a parameter" in str(error.value.message_dict["code"])


def test_its_check_reports_a_saved_jurisdiction_a_facet_shadows(db):
    Jurisdiction.objects.create(code="presentation", name="X", regulator="R", short_label="R")

    errors = checks.run_checks(tags=[checks.Tags.database], databases=["default"])

    assert [(error.id, error.msg) for error in errors] == [
        ("claims.E001", "Jurisdiction code “presentation” is also a parameter of the claims list.")
    ]


def test_its_check_passes_on_ordinary_codes(jurisdictions):
    assert checks.run_checks(tags=[checks.Tags.database], databases=["default"]) == []


# --- A claim made in a presentation was made at its conference -----------------------------


def test_it_refuses_a_presentation_of_another_conference(talks):
    claim = talks["in-first"]
    claim.conference = make_conference(slug="other", name="Other congress")

    with pytest.raises(ValidationError) as error:
        claim.full_clean()
    assert error.value.message_dict == {
        "presentation": ["This presentation belongs to another conference."]
    }


def test_it_lets_a_draft_name_its_conference_later_but_not_be_published(talks):
    draft = make_claim(published=False, presentation=talks["first"])
    draft.full_clean()

    assert "a claim made in a presentation needs that presentation's conference" in (
        draft.publication_problems()
    )


def test_it_refuses_to_take_the_conference_off_a_published_claim_made_in_a_talk(
    client, editor, talks
):
    claim = talks["in-first"]
    client.force_login(editor)

    response = client.post(change(claim), claim_form(claim, conference=""))

    assert response.status_code == 200
    assert "needs that presentation&#x27;s conference" in response.text
    claim.refresh_from_db()
    assert claim.conference is not None
    assert Claim.objects.filter(conference=None, presentation__isnull=False).count() == 0
