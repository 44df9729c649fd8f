from datetime import date

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from claims.models import Claim, Conference, Route, Status
from tests.conftest import make_claim, make_override, make_status, make_treatment

pytestmark = pytest.mark.django_db


def test_it_lists_published_claims_with_both_flags_on_home(client, claim):
    draft = make_claim(published=False, title="Secret draft")

    response = client.get(reverse("claims:home"))

    assert response.status_code == 200
    rows = {
        row.title: [(flag.jurisdiction.short_label, flag.status.label) for flag in flags]
        for row, flags in response.context["rows"]
    }
    assert rows == {claim.title: [("FDA", "Not approved"), ("EU", "Prohibited")]}
    # The headings name every jurisdiction and status too: read the claim's own card.
    (card,) = [card for card in response.text.split("<article")[1:] if claim.title in card]
    card = card.split("</article>")[0]
    assert 'FDA</span> <span class="flag__status">Not approved' in card
    assert 'EU</span> <span class="flag__status">Prohibited' in card
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
    assert str(Status.COSMETIC.label) not in response.text
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


@pytest.mark.parametrize(
    "name",
    [
        "claims:evidence",
        "claims:regulatory",
        "claims:method",
        "claims:safety",
        "claims:exosomes",
    ],
)
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


@pytest.mark.parametrize("name", ["claims:home", "claims:list", "claims:evidence"])
def test_it_links_how_we_work_safety_and_exosomes_from_every_footer(client, jurisdictions, name):
    text = client.get(reverse(name)).text
    footer = text[text.index('<footer class="site-footer">') :]

    for page in ("claims:method", "claims:safety", "claims:exosomes"):
        assert f'href="{reverse(page)}"' in footer


def test_it_shows_the_regulators_explanations_dates_and_named_sources(client, fda, eu):
    treatment = make_treatment()
    make_status(
        treatment,
        fda,
        Status.NOT_APPROVED,
        explanation="No exosome product is approved.",
        source_url="https://www.fda.gov/a/very/long/path/to/the/public-safety-notification",
        source_title="Public Safety Notification on Exosome Products",
    )
    make_status(treatment, eu, Status.UNKNOWN, source_url="https://eur-lex.europa.eu/eli/x")
    make_claim(treatment=treatment)

    text = client.get(reverse("claims:regulatory")).text

    assert "No exosome product is approved." in text
    assert "Checked on" in text and "1 November 2026" in text
    assert ">Public Safety Notification on Exosome Products</a>" in text
    # Without a recorded title the link reads as its site, never as a URL cut short.
    assert ">eur-lex.europa.eu</a>" in text
    assert "…" not in text.split('id="j-fda"', 1)[1]


def test_it_asks_the_clinic_questions_wherever_no_regulator_approved_the_use(client, fda):
    # Issue 12: with no warning flag (a cosmetic, or nothing assessed) the box was hidden.
    for status in (Status.COSMETIC, Status.UNKNOWN):
        treatment = make_treatment(route=Route.TOPICAL_INTACT_SKIN)
        make_status(treatment, fda, status)
        claim = make_claim(treatment=treatment)

        assert "Questions to ask a clinic" in client.get(claim.get_absolute_url()).text


def test_it_links_the_safety_page_from_claims_about_injections_only(client, fda):
    injected = make_claim(treatment=make_treatment(route=Route.INTRADERMAL_INJECTION))
    topical = make_claim(treatment=make_treatment(route=Route.TOPICAL_INTACT_SKIN))

    link = f'href="{reverse("claims:safety")}"'
    assert link in client.get(injected.get_absolute_url()).text.split("<footer", 1)[0]
    assert link not in client.get(topical.get_absolute_url()).text.split("<footer", 1)[0]


def test_it_shows_the_quote_and_what_is_unverified_once_in_plain_words(client, fda):
    imcas = Conference.objects.create(
        name="IMCAS World Congress 2024",
        slug="imcas-2024",
        starts_on=date(2024, 2, 1),
        ends_on=date(2024, 2, 3),
        dates_note="UNVERIFIED: no primary page.",
    )
    claim = make_claim(
        conference=imcas,
        quote="One study showcased the effect",
        quote_source="Mitra Bio",
        unverified="the study",
    )

    text = client.get(claim.get_absolute_url()).text

    assert "“One study showcased the effect”" in text
    assert "— Mitra Bio" in text
    assert "We found no independent source for the study, nor for the congress's dates" in text
    assert "UNVERIFIED" not in text.split("<body", 1)[1]


def test_it_shows_when_a_claim_was_made_apart_from_when_we_published_it(client, fda):
    imcas = Conference.objects.create(
        name="IMCAS World Congress 2024",
        slug="imcas-2024",
        starts_on=date(2024, 2, 1),
        ends_on=date(2024, 2, 3),
        dates_note="UNVERIFIED: no primary page.",
    )
    claim = make_claim(conference=imcas)

    card = client.get(reverse("claims:list")).text
    page = client.get(claim.get_absolute_url()).text

    assert "IMCAS World Congress 2024, 1–3 February 2024" in card
    assert "Published here" in card
    assert "1–3 February 2024" in page and "Published on Claimwatch" in page


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
