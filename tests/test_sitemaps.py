"""sitemap.xml and robots.txt: search engines find every public page and stay out of the
admin."""

from xml.etree import ElementTree

import pytest
from django.urls import reverse

from tests.conftest import make_claim, make_clinic, make_treatment

pytestmark = pytest.mark.django_db

SITEMAP = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def locations(client, url):
    response = client.get(url)
    assert response.status_code == 200
    document = ElementTree.fromstring(response.content)
    return [loc.text for loc in document.iterfind(".//sm:loc", SITEMAP)]


def test_it_indexes_one_sitemap_per_kind_of_page(client, jurisdictions):
    assert locations(client, reverse("sitemap")) == [
        f"http://testserver/sitemap-{section}.xml"
        for section in ["pages", "claims", "clinics", "treatments", "sources"]
    ]


def test_it_lists_published_and_retracted_claims_but_not_drafts(client, jurisdictions):
    published, retracted = make_claim(), make_claim()
    retracted.retract()
    draft = make_claim(published=False)

    urls = locations(client, "/sitemap-claims.xml")

    assert f"http://testserver{published.get_absolute_url()}" in urls
    assert f"http://testserver{retracted.get_absolute_url()}" in urls
    assert f"http://testserver{draft.get_absolute_url()}" not in urls


def test_it_lists_clinics_treatments_and_sources_with_published_claims(client, jurisdictions):
    claim = make_claim()
    quiet_clinic, quiet_treatment = make_clinic(), make_treatment()
    make_claim(published=False, clinic=quiet_clinic, treatment=quiet_treatment)

    clinics = locations(client, "/sitemap-clinics.xml")
    treatments = locations(client, "/sitemap-treatments.xml")
    sources = locations(client, "/sitemap-sources.xml")

    assert clinics == [f"http://testserver{claim.clinic.get_absolute_url()}"]
    assert treatments == [f"http://testserver{claim.treatment.get_absolute_url()}"]
    assert sources == [f"http://testserver{claim.treatment.source.get_absolute_url()}"]


def test_it_lists_the_fixed_pages(client, jurisdictions):
    urls = locations(client, "/sitemap-pages.xml")

    for name in ["claims:home", "claims:list", "claims:evidence", "claims:api"]:
        assert f"http://testserver{reverse(name)}" in urls


def test_it_serves_robots_txt_pointing_at_the_sitemap(client, db):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    lines = response.text.splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines
