"""Atom feeds that follow a search: an entry when a matching claim is published or retracted,
and when a published claim's evidence level or flag changes."""

from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest
from django.core import serializers
from django.urls import reverse

from claims.feeds import FEED_LENGTH
from claims.models import Status
from tests.conftest import (
    make_claim,
    make_clinic,
    make_evidence_level,
    make_override,
    make_status,
    make_treatment,
)

pytestmark = pytest.mark.django_db

FEED = reverse("claims:feed")
ATOM = {"atom": "http://www.w3.org/2005/Atom"}


def read_feed(client, query=""):
    response = client.get(f"{FEED}?{query}" if query else FEED)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    return ElementTree.fromstring(response.content)


def entry_titles(client, query=""):
    feed = read_feed(client, query)
    return [entry.findtext("atom:title", namespaces=ATOM) for entry in entries(feed)]


def entries(feed):
    return feed.findall("atom:entry", ATOM)


@pytest.fixture
def cosmetic_serum(fda, eu):
    treatment = make_treatment(name="Rose serum")
    make_status(treatment, fda, Status.COSMETIC)
    make_status(treatment, eu, Status.COSMETIC)
    return treatment


def test_it_has_an_entry_when_a_claim_is_published(client, jurisdictions):
    claim = make_claim(title="Exosomes erase scars")

    feed = read_feed(client)

    [entry] = entries(feed)
    assert entry.findtext("atom:title", namespaces=ATOM) == "Published: Exosomes erase scars"
    link = entry.find("atom:link", ATOM).get("href")
    assert link == f"http://testserver{claim.get_absolute_url()}"
    assert entry.findtext("atom:summary", namespaces=ATOM) == claim.statement
    assert entry.findtext("atom:updated", namespaces=ATOM).startswith(
        claim.published_at.isoformat()[:19]
    )


def test_it_has_no_entry_for_drafts(client, jurisdictions):
    make_claim(published=False)

    assert entry_titles(client) == []


def test_it_has_an_entry_for_each_claim_when_a_treatments_flag_changes(client, fda, cosmetic_serum):
    first = make_claim(title="First", treatment=cosmetic_serum)
    second = make_claim(title="Second", treatment=cosmetic_serum)
    make_claim(title="Elsewhere")
    status = cosmetic_serum.regulatory_statuses.get(jurisdiction=fda)

    status.status = Status.NOT_APPROVED
    status.save()

    titles = entry_titles(client)
    change = "FDA flag changed from lawful cosmetic (no pre-market review) to not approved"
    assert f"Updated: {first.title} — {change}" in titles
    assert f"Updated: {second.title} — {change}" in titles
    assert not any(title.startswith("Updated: Elsewhere") for title in titles)


def test_it_has_no_flag_entry_for_a_claim_that_overrides_that_flag(client, fda, cosmetic_serum):
    claim = make_claim(title="Disease claim", treatment=cosmetic_serum)
    make_override(claim, fda, Status.NOT_APPROVED)
    status = cosmetic_serum.regulatory_statuses.get(jurisdiction=fda)
    status.status = Status.PROHIBITED
    status.save()

    assert entry_titles(client) == [
        "Updated: Disease claim — FDA flag set to not approved for this claim",
        "Published: Disease claim",
    ]


def test_it_has_an_entry_when_a_claims_own_flag_changes(client, fda, cosmetic_serum):
    claim = make_claim(title="Disease claim", treatment=cosmetic_serum)
    override = make_override(claim, fda, Status.NOT_APPROVED)
    override.status = Status.PROHIBITED
    override.save()
    override.delete()

    assert entry_titles(client)[:3] == [
        "Updated: Disease claim — FDA flag back to the treatment's status",
        "Updated: Disease claim — FDA flag changed from not approved to prohibited",
        "Updated: Disease claim — FDA flag set to not approved for this claim",
    ]


def test_it_ignores_flag_changes_before_publication(client, fda, cosmetic_serum):
    claim = make_claim(title="Later", treatment=cosmetic_serum, published=False)
    status = cosmetic_serum.regulatory_statuses.get(jurisdiction=fda)
    status.status = Status.NOT_APPROVED
    status.save()
    claim.publish()

    assert entry_titles(client) == ["Published: Later"]


def test_it_has_an_entry_when_the_evidence_level_changes(client, jurisdictions):
    weak = make_evidence_level(name="Case series")
    strong = make_evidence_level(name="Randomised trial")
    claim = make_claim(title="Upgraded", evidence_level=weak)

    claim.evidence_level = strong
    claim.save()
    claim.statement = "Reworded."
    claim.save()

    assert entry_titles(client) == [
        "Updated: Upgraded — evidence level changed from Case series to Randomised trial",
        "Published: Upgraded",
    ]


def test_it_has_an_entry_when_a_claim_is_retracted(client, jurisdictions):
    claim = make_claim(title="Withdrawn")

    claim.retract()

    assert entry_titles(client) == ["Retracted: Withdrawn", "Published: Withdrawn"]


def test_it_follows_only_the_claims_matching_the_filters(client, jurisdictions):
    make_claim(title="In Manila", clinic=make_clinic(country="PH"))
    make_claim(title="In London", clinic=make_clinic(country="GB"))

    assert entry_titles(client, "country=PH") == ["Published: In Manila"]


def test_it_titles_the_feed_with_the_filters_and_links_the_list(client, jurisdictions):
    feed = read_feed(client, "route=intradermal-injection&country=GB")

    assert feed.findtext("atom:title", namespaces=ATOM) == (
        "Claimwatch: claims · in United Kingdom · intradermal injection"
    )
    links = {link.get("rel"): link.get("href") for link in feed.findall("atom:link", ATOM)}
    assert links == {
        "alternate": "http://testserver/claims/?country=GB&route=intradermal-injection",
        "self": "http://testserver/claims/feed/?country=GB&route=intradermal-injection",
    }


def test_its_entry_ids_are_unique(client, fda, cosmetic_serum):
    claims = [make_claim(treatment=cosmetic_serum) for _ in range(3)]
    status = cosmetic_serum.regulatory_statuses.get(jurisdiction=fda)
    status.status = Status.NOT_APPROVED
    status.save()
    claims[0].retract()

    ids = [entry.findtext("atom:id", namespaces=ATOM) for entry in entries(read_feed(client))]

    assert len(ids) == len(set(ids)) == 7


def test_it_builds_in_a_fixed_number_of_queries(
    client, fda, cosmetic_serum, django_assert_max_num_queries
):
    for _ in range(60):
        make_claim(treatment=cosmetic_serum)
    status = cosmetic_serum.regulatory_statuses.get(jurisdiction=fda)
    status.status = Status.NOT_APPROVED
    status.save()

    # 9: the approved corrections are one query more.
    with django_assert_max_num_queries(9):
        feed = read_feed(client)

    assert len(entries(feed)) == 50


def test_it_finds_a_flag_change_behind_many_changes_before_publication(client, fda, cosmetic_serum):
    claim = make_claim(title="Patient", treatment=cosmetic_serum, published=False)
    status = cosmetic_serum.regulatory_statuses.get(jurisdiction=fda)
    for value in [Status.NOT_APPROVED, Status.COSMETIC] * (FEED_LENGTH // 2 + 5):
        status.status = value
        status.save()
    claim.publish()
    status.status = Status.PROHIBITED
    status.save()

    assert entry_titles(client)[0] == (
        "Updated: Patient — FDA flag changed from lawful cosmetic (no pre-market review) "
        "to prohibited"
    )


def test_it_dates_a_publication_when_readers_first_saw_it_and_names_an_author(
    client, jurisdictions
):
    first_seen = datetime(2024, 2, 1, 9, 30, tzinfo=UTC)
    make_claim(title="Loaded later", published_at=first_seen)

    feed = read_feed(client)

    [entry] = entries(feed)
    assert entry.findtext("atom:updated", namespaces=ATOM).startswith("2024-02-01T09:30:00")
    assert feed.findtext("atom:author/atom:name", namespaces=ATOM) == "Claimwatch"
    assert entry.findtext("atom:author/atom:name", namespaces=ATOM)


def test_it_has_no_entry_for_a_status_loaded_as_not_assessed(client, fda, eu):
    treatment = make_treatment()
    claim = make_claim(treatment=treatment)
    status = make_status(treatment, fda, Status.UNKNOWN)
    fixture = serializers.serialize("json", [status])
    status.history.all().delete()
    status.delete()
    for loaded in serializers.deserialize("json", fixture):
        loaded.save()  # as loaddata does

    assert entry_titles(client) == [f"Published: {claim.title}"]
