from datetime import date

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from claims.models import Claim, Status
from tests.conftest import make_claim, make_override, make_status, make_treatment

pytestmark = pytest.mark.django_db


def test_it_lists_published_claims_with_both_flags_on_home(client, claim):
    draft = make_claim(published=False, title="Secret draft")

    response = client.get(reverse("claims:home"))

    assert response.status_code == 200
    assert claim.title in response.text
    assert "FDA" in response.text and "Not approved" in response.text
    assert "EU" in response.text and "Prohibited" in response.text
    assert draft.title not in response.text


def test_it_shows_a_claim_with_flags_explanations_and_citations(client, claim):
    response = client.get(claim.get_absolute_url())

    assert response.status_code == 200
    assert claim.statement in response.text
    assert "FDA says not-approved." in response.text
    assert "Inherited from the treatment" in response.text
    assert claim.citations.get().url in response.text
    assert "Questions to ask a clinic" in response.text


def test_it_shows_not_assessed_where_a_jurisdiction_has_no_status(client, fda, eu):
    treatment = make_treatment()
    make_status(treatment, fda, Status.NOT_APPROVED)
    claim = make_claim(treatment=treatment)

    response = client.get(claim.get_absolute_url())

    assert "Not assessed" in response.text
    assert "No status recorded" in response.text


def test_it_shows_the_claims_own_override_over_its_treatments_status(client, fda, eu):
    treatment = make_treatment()
    make_status(treatment, fda, Status.COSMETIC)
    make_status(make_treatment(), eu, Status.APPROVED)
    claim = make_claim(treatment=treatment)
    make_override(claim, fda, Status.NOT_APPROVED, reason="A disease claim: a drug.")
    sibling = make_claim(treatment=treatment)
    make_override(sibling, eu, Status.PROHIBITED)

    response = client.get(claim.get_absolute_url())
    sibling_response = client.get(sibling.get_absolute_url())

    fda_flag, eu_flag = response.context["flags"]
    assert (fda_flag.status, fda_flag.overridden) == (Status.NOT_APPROVED, True)
    assert fda_flag.override_reason == "A disease claim: a drug."
    assert fda_flag.explanation == "Claimed to treat eczema."
    assert fda_flag.source_url == "https://example.org/drug-or-cosmetic"
    assert fda_flag.checked_on == date(2026, 11, 2)
    assert (eu_flag.status, eu_flag.overridden, eu_flag.checked_on) == (Status.UNKNOWN, False, None)
    assert "Why this claim differs from its treatment:</strong> A disease claim: a drug." in (
        response.text
    )
    assert 'href="/claims/?fda=not-approved"' in response.text
    assert 'href="/claims/?eu=unknown"' in response.text
    assert Status.COSMETIC.label not in response.text
    rating = response.context["claim_review"]["reviewRating"]["alternateName"]
    assert "FDA: Not approved; EU: Not assessed." in rating
    fda_flag, eu_flag = sibling_response.context["flags"]
    assert (fda_flag.status, fda_flag.overridden) == (Status.COSMETIC, False)
    assert (eu_flag.status, eu_flag.overridden) == (Status.PROHIBITED, True)


def test_it_hides_drafts_from_the_public(client, jurisdictions):
    draft = make_claim(published=False)
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_it_shows_editors_a_preview_of_a_draft(client, editor, jurisdictions):
    draft = make_claim(published=False)
    client.force_login(editor)

    response = client.get(draft.get_absolute_url())

    assert response.status_code == 200
    assert "Only editors can see this page" in response.text


def test_it_does_not_preview_drafts_for_users_without_permission(client, jurisdictions):
    draft = make_claim(published=False)
    client.force_login(User.objects.create_user("reader"))
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_it_keeps_a_retracted_claims_page_alive_with_a_notice(client, claim):
    claim.retract()

    page = client.get(claim.get_absolute_url())
    home = client.get(reverse("claims:home"))

    assert page.status_code == 200
    assert "Retracted." in page.text
    assert claim.title not in home.text


def test_it_answers_404_for_an_unknown_claim(client, db):
    assert client.get(reverse("claims:detail", args=["nope"])).status_code == 404


@pytest.mark.parametrize("route", ["claims:clinic", "claims:treatment", "claims:source"])
def test_it_shows_an_entity_with_its_published_claims(client, claim, route):
    entity = {
        "claims:clinic": claim.clinic,
        "claims:treatment": claim.treatment,
        "claims:source": claim.treatment.source,
    }[route]
    draft = make_claim(published=False, clinic=claim.clinic, treatment=claim.treatment)

    response = client.get(reverse(route, args=[entity.slug]))

    assert response.status_code == 200
    assert claim.title in response.text
    assert draft.title not in response.text


@pytest.mark.parametrize("name", ["claims:evidence", "claims:regulatory"])
def test_it_serves_the_reference_pages(client, jurisdictions, name):
    assert client.get(reverse(name)).status_code == 200


def test_it_keeps_retracted_claims_out_of_published(claim):
    claim.retract()
    assert not Claim.objects.published().filter(pk=claim.pk).exists()
    assert Claim.objects.public().filter(pk=claim.pk).exists()


def test_it_lists_each_jurisdictions_recorded_statuses_with_sources(client, claim):
    response = client.get(reverse("claims:regulatory"))

    assert response.status_code == 200
    assert "FDA — Food and Drug Administration" in response.text
    assert claim.treatment.get_absolute_url() in response.text
    assert "https://example.org/regulator" in response.text


def test_it_publishes_claim_review_json_ld_escaped(client, claim):
    claim.statement = "Cures all </script><script>alert(1)</script>"
    claim.save()

    response = client.get(claim.get_absolute_url())

    assert '<script type="application/ld+json">' in response.text
    assert "</script><script>alert(1)" not in response.text
    assert "\\u003C/script\\u003E" in response.text


def test_it_links_claim_attributes_to_the_filtered_list(client, claim):
    response = client.get(claim.get_absolute_url())

    assert f'href="/claims/?treatment={claim.treatment.slug}"' in response.text
    assert f'href="/claims/?clinic={claim.clinic.slug}"' in response.text
    assert 'href="/claims/?fda=not-approved"' in response.text


# --- Pages of clinics, treatments and sources nobody may read yet ----------------------------


def entity_urls(claim):
    return [
        claim.clinic.get_absolute_url(),
        claim.treatment.get_absolute_url(),
        claim.treatment.source.get_absolute_url(),
    ]


@pytest.mark.parametrize("state", [Claim.State.DRAFT, Claim.State.IN_REVIEW])
def test_it_hides_the_pages_of_things_only_unpublished_claims_name(client, jurisdictions, state):
    claim = make_claim(published=False)
    Claim.objects.filter(pk=claim.pk).update(state=state)
    claim.clinic.note = "Under investigation: do not publish yet."
    claim.clinic.save()

    for url in entity_urls(claim):
        response = client.get(url)
        assert response.status_code == 404, url
        assert claim.clinic.name not in response.text
    sitemap = "".join(
        client.get(reverse("sitemap-section", args=[section])).text
        for section in ("clinics", "treatments", "sources")
    )
    assert all(url not in sitemap for url in entity_urls(claim))
    assert claim.treatment.name not in client.get(reverse("claims:regulatory")).text


def test_it_shows_the_pages_of_things_a_retracted_claim_names(client, jurisdictions):
    # The retracted claim's page is public and links to them.
    claim = make_claim()
    Claim.objects.filter(pk=claim.pk).update(state=Claim.State.RETRACTED)

    for url in entity_urls(claim):
        assert client.get(url).status_code == 200, url


def test_it_shows_editors_the_pages_of_things_only_drafts_name(client, jurisdictions, editor):
    claim = make_claim(published=False)
    client.force_login(editor)

    for url in entity_urls(claim):
        assert client.get(url).status_code == 200, url
