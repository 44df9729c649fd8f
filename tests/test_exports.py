"""CSV and JSON downloads: the same claims as the list page, all of them, streamed, and safe to
open in a spreadsheet."""

import csv
import io
import json
import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from claims import shapes
from claims.models import Claim, Conference, Route, Status
from tests import test_filters
from tests.conftest import (
    make_claim,
    make_clinic,
    make_evidence_level,
    make_indication,
    make_override,
    make_status,
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


def export_queries(chunks):
    """The jurisdictions, a count for the filename, the claims, then per chunk of claims their
    indications and their citations."""
    return 3 + 2 * chunks


QUERIES = [
    "",
    "country=GB",
    "country=GB&route=intradermal-injection",
    "origin=human&evidence=rct",
    "indication=scars&indication=wrinkles",
    "fda=not-approved",
    "eu=prohibited&fda=not-approved",
    "q=clinic",
    "country=PH&sort=clinic",
    "clinic=nowhere",
]


def url(name, query=""):
    return f"{reverse(name)}?{query}" if query else reverse(name)


def html_results(client, query):
    response = client.get(url("claims:list", query), follow=True)
    assert response.status_code == 200
    count = int(re.search(r'class="results__summary"[^>]*>(\d+) claim', response.text).group(1))
    slugs = re.findall(r'class="claim-card__title"><a href="/claims/([^/]+)/"', response.text)
    return count, slugs


def streamed(response):
    assert response.streaming is True
    return b"".join(response.streaming_content).decode("utf-8")


def csv_rows(client, query=""):
    text = streamed(client.get(url("claims:export-csv", query)))
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def json_records(client, query=""):
    document = json.loads(streamed(client.get(url("claims:export-json", query))))
    assert document["count"] == len(document["claims"])
    return document["claims"]


@pytest.mark.parametrize("query", QUERIES)
def test_it_returns_the_same_claims_in_every_format(client, catalogue, query):
    count, html_slugs = html_results(client, query)
    api = client.get(url("claims:api-claims", query)).json()

    assert [row["slug"] for row in csv_rows(client, query)] == html_slugs
    assert [record["slug"] for record in json_records(client, query)] == html_slugs
    assert [record["slug"] for record in api["results"]] == html_slugs
    assert api["count"] == count == len(html_slugs)
    assert catalogue["draft"].slug not in html_slugs


def test_it_exports_every_matching_claim_not_one_page(client, jurisdictions):
    clinic, treatment, level = make_clinic(), make_treatment(), make_evidence_level()
    for _ in range(30):
        make_claim(clinic=clinic, treatment=treatment, evidence_level=level)

    assert client.get(url("claims:api-claims")).json()["count"] == 30
    assert len(client.get(url("claims:api-claims")).json()["results"]) == 25
    assert len(csv_rows(client)) == 30
    assert len(json_records(client)) == 30


@pytest.mark.parametrize("name", ["claims:export-csv", "claims:export-json"])
def test_it_streams_a_large_export_in_a_fixed_number_of_queries_per_chunk(
    client, jurisdictions, django_assert_max_num_queries, monkeypatch, name
):
    monkeypatch.setattr(shapes, "CHUNK_SIZE", 100)
    clinic, level = make_clinic(), make_evidence_level()
    treatments = [make_treatment(route=route) for route in Route]
    for treatment in treatments:
        make_status(treatment, jurisdictions[0], Status.NOT_APPROVED)
    for i in range(300):
        make_claim(clinic=clinic, treatment=treatments[i % len(treatments)], evidence_level=level)

    with django_assert_max_num_queries(export_queries(chunks=3)):
        response = client.get(url(name, "fda=not-approved&fda=unknown"))
        text = streamed(response)

    assert text.count("/claims/claim-") == 300


def test_it_keeps_the_order_of_claims_indications_and_citations_across_chunks(
    client, jurisdictions, monkeypatch
):
    monkeypatch.setattr(shapes, "CHUNK_SIZE", 2)
    wrinkles, acne = make_indication(name="Wrinkles"), make_indication(name="Acne")
    cities = ["Cork", "Arles", "Eilat", "Bonn", "Delft"]
    citation_urls = {}
    for city in cities:
        claim = make_claim(clinic=make_clinic(name=city), indications=[wrinkles, acne], citations=2)
        first, second = claim.citations.order_by("pk")
        first.position = 1
        first.save()
        citation_urls[city] = f"{second.url}; {first.url}"

    rows = csv_rows(client, "sort=clinic")

    assert [row["clinic"] for row in rows] == sorted(cities)
    assert [row["slug"] for row in rows] == [r["slug"] for r in json_records(client, "sort=clinic")]
    assert {row["indications"] for row in rows} == {"Acne; Wrinkles"}
    assert [row["citation_urls"] for row in rows] == [citation_urls[c] for c in sorted(cities)]


def test_it_names_the_file_after_the_filters_and_the_date(client, catalogue):
    response = client.get(url("claims:export-csv", "country=GB&route=intradermal-injection"))

    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="claimwatch-1-claim-in-united-kingdom-intradermal-injection-'
        f'{today}.csv"'
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"


def test_it_bounds_the_filename_however_many_filters(client, catalogue):
    query = "&".join(f"clinic={c}" for c in ["london", "manila"]) + "&indication=scars"
    query += "&indication=wrinkles&origin=human&origin=plant&fda=not-approved&fda=cosmetic"

    response = client.get(url("claims:export-json", query))

    filename = re.search(r'filename="(.+)"', response["Content-Disposition"]).group(1)
    assert filename.startswith("claimwatch-")
    assert filename.endswith(f"-{timezone.localdate().isoformat()}.json")
    assert len(filename) <= len("claimwatch--YYYY-MM-DD.json") + 80


def test_it_exports_each_jurisdictions_flag_and_whether_it_is_overridden(client, catalogue):
    rows = {row["slug"]: row for row in csv_rows(client)}
    records = {record["slug"]: record for record in json_records(client)}

    # rose-ph overrides its treatment's FDA status; in the EU it has only the treatment's.
    overridden = rows[catalogue["rose-ph"].slug]
    assert (overridden["fda_status"], overridden["fda_overridden"]) == ("not-approved", "yes")
    assert (overridden["eu_status"], overridden["eu_overridden"]) == ("cosmetic", "no")
    assert headline(records[catalogue["rose-ph"].slug]["flags"]) == {
        "fda": {"status": "not-approved", "label": "Not approved", "overridden": True},
        "eu": {
            "status": "cosmetic",
            "label": "Lawful cosmetic (no pre-market review)",
            "overridden": False,
        },
    }
    inherited = rows[catalogue["rose-gb"].slug]
    assert (inherited["fda_status"], inherited["fda_overridden"]) == ("cosmetic", "no")
    assert records[catalogue["rose-gb"].slug]["flags"]["fda"]["overridden"] is False


def test_it_exports_an_override_where_the_treatment_has_no_status(client, fda, eu):
    claim = make_claim()
    make_override(claim, eu, Status.PROHIBITED)

    [row] = csv_rows(client)
    [record] = json_records(client)

    assert (row["fda_status"], row["fda_overridden"]) == ("unknown", "no")
    assert (row["eu_status"], row["eu_overridden"]) == ("prohibited", "yes")
    assert headline(record["flags"]) == {
        "fda": {"status": "unknown", "label": "Not assessed", "overridden": False},
        "eu": {"status": "prohibited", "label": "Prohibited", "overridden": True},
    }


@pytest.mark.parametrize("query", ["", "country=GB&sort=clinic", "fda=not-approved"])
def test_it_exports_each_claim_as_the_api_lists_it(client, catalogue, query):
    api_results = client.get(url("claims:api-claims", query)).json()["results"]

    assert json_records(client, query) == api_results


def test_it_exports_the_documented_columns(client, catalogue):
    rows = csv_rows(client, "indication=scars&route=intradermal-injection")
    claim = catalogue["inject-gb"]

    assert list(rows[0]) == [
        "slug",
        "url",
        "title",
        "statement",
        "quote",
        "quote_source",
        "outcome",
        "context_note",
        "unverified",
        "clinic",
        "country",
        "treatment",
        "route",
        "source",
        "origin",
        "indications",
        "evidence_level",
        "conference",
        "conference_dates",
        "conference_dates_note",
        "presentation",
        "fda_status",
        "fda_overridden",
        "fda_explanation",
        "fda_source_url",
        "fda_checked_on",
        "eu_status",
        "eu_overridden",
        "eu_explanation",
        "eu_source_url",
        "eu_checked_on",
        "citation_urls",
        "published_at",
        "updated_at",
    ]
    assert rows[0]["url"] == f"http://testserver{claim.get_absolute_url()}"
    assert rows[0]["clinic"] == "London clinic"
    assert rows[0]["indications"] == "Scars"
    assert rows[0]["evidence_level"] == "Case series"
    assert rows[0]["conference"] == ""
    assert rows[0]["citation_urls"] == claim.citations.get().url
    assert rows[0]["published_at"] == claim.published_at.isoformat()


@pytest.mark.parametrize(
    "title",
    ['=HYPERLINK("https://evil.example","Click")', "+1", "-2", "@SUM(A1:A9)", "\tx", "\rx"],
)
def test_it_neutralises_cells_a_spreadsheet_would_run_as_formulas(client, jurisdictions, title):
    claim = make_claim(title=title, statement="=1+1")

    row = csv_rows(client)[0]

    assert row["title"] == f"'{title}"
    assert row["statement"] == "'=1+1"
    # The JSON keeps the text as it is: only spreadsheets need the apostrophe.
    assert json_records(client)[0]["title"] == claim.title


def test_it_leaves_ordinary_cells_alone(client, jurisdictions):
    make_claim(title="Exosomes – a 30% improvement?", statement="Said on stage, 2026.")

    row = csv_rows(client)[0]

    assert row["title"] == "Exosomes – a 30% improvement?"
    assert row["statement"] == "Said on stage, 2026."


def test_it_allows_any_origin_to_read_exports(client, catalogue):
    for name in ["claims:export-csv", "claims:export-json"]:
        assert client.get(url(name))["Access-Control-Allow-Origin"] == "*"


def test_it_links_the_downloads_and_the_feed_from_the_list_page(client, catalogue):
    response = client.get(url("claims:list", "country=GB&route=intradermal-injection"))

    query = "country=GB&amp;route=intradermal-injection"
    assert "Download this claim as" in response.text
    assert f'href="/claims.csv?{query}"' in response.text
    assert f'href="/claims.json?{query}"' in response.text
    assert (
        f'<link rel="alternate" type="application/atom+xml" title="Claimwatch: 1 claim · in '
        f'United Kingdom · intradermal injection" href="/claims/feed/?{query}">' in response.text
    )


def test_it_counts_the_claims_in_the_download_link(client, catalogue):
    response = client.get(url("claims:list", "country=GB"))

    assert 'Download these 3 claims as <a href="/claims.csv?country=GB"' in response.text


def test_it_names_the_conference_a_claim_was_made_at_in_every_format(client, jurisdictions):
    imcas = Conference.objects.create(name="IMCAS World Congress 2024", slug="imcas-2024")
    claim = make_claim(conference=imcas)
    query = f"conference={imcas.slug}"

    assert [row["conference"] for row in csv_rows(client, query)] == [imcas.name]
    # With its dates and what is unverified about them (none recorded here).
    expected = {
        "slug": imcas.slug,
        "name": imcas.name,
        "starts_on": None,
        "ends_on": None,
        "dates_note": "",
    }
    assert [record["conference"] for record in json_records(client, query)] == [expected]
    api = client.get(reverse("claims:api-claim", args=[claim.slug])).json()
    assert api["conference"] == expected


def test_it_exports_every_caveat_a_reader_of_the_page_gets(client, fda, eu):
    # Issue 12: CSV, JSON and the API dropped the context note, the outcome, the congress's
    # unverified dates and every flag's explanation, source and checked-on date.
    imcas = Conference.objects.create(
        name="IMCAS World Congress 2024",
        slug="imcas-2024",
        starts_on=date(2024, 2, 1),
        ends_on=date(2024, 2, 3),
        dates_note="UNVERIFIED: no primary page.",
    )
    treatment = make_treatment()
    make_status(treatment, eu, Status.UNKNOWN, explanation="No source says.")
    claim = make_claim(
        treatment=treatment,
        conference=imcas,
        outcome="Wrinkles down, as reported.",
        context_note="A claim without data.",
        quote="outperformed the retinol",
        quote_source="Mitra Bio",
        unverified="the study",
    )
    make_override(claim, fda, Status.NOT_APPROVED, explanation="Arguably a drug claim.")

    [row] = csv_rows(client)
    [record] = json_records(client)
    api = client.get(reverse("claims:api-claim", args=[claim.slug])).json()

    assert (row["outcome"], row["context_note"]) == (claim.outcome, claim.context_note)
    assert (row["quote"], row["unverified"]) == ("outperformed the retinol", "the study")
    assert row["conference_dates"] == "2024-02-01/2024-02-03"
    assert row["conference_dates_note"] == "UNVERIFIED: no primary page."
    assert row["fda_explanation"] == "Arguably a drug claim."
    assert row["fda_source_url"] == "https://example.org/drug-or-cosmetic"
    assert row["fda_checked_on"] == "2026-11-02"
    assert (row["eu_explanation"], row["eu_checked_on"]) == ("No source says.", "2026-11-01")
    for data in (record, api):
        assert data["context_note"] == "A claim without data."
        assert data["outcome"] == "Wrinkles down, as reported."
        assert data["conference"]["dates_note"] == "UNVERIFIED: no primary page."
        assert data["flags"]["fda"]["explanation"] == "Arguably a drug claim."
        assert data["flags"]["fda"]["override_reason"] == "A disease claim makes this a drug."
        assert data["flags"]["eu"]["checked_on"] == "2026-11-01"
        assert data["flags"]["eu"]["source_url"] == "https://example.org/regulator"
    assert record["flags"] == api["flags"]


# --- Telling a complete download from one cut short -------------------------------------------


@pytest.mark.parametrize("name", ["claims:export-csv", "claims:export-json"])
def test_it_sends_the_number_of_claims_before_the_first_one(client, catalogue, name):
    response = client.get(url(name, "route=intradermal-injection"))

    expected = client.get(url("claims:api-claims", "route=intradermal-injection")).json()["count"]
    assert response["X-Total-Count"] == str(expected)
    assert "X-Total-Count" in response["Access-Control-Expose-Headers"]


def test_it_ends_the_json_with_the_number_of_claims_it_holds(client, catalogue):
    text = streamed(client.get(url("claims:export-json")))

    document = json.loads(text)
    assert text.rstrip().endswith(f'"count": {len(document["claims"])}}}')
    assert document["count"] == Claim.objects.published().count()


def test_it_leaves_a_cut_json_download_without_its_count(client, catalogue, monkeypatch):
    from claims import exports

    def dying(records):
        yield next(iter(records))
        raise ConnectionError("the database went away")

    real = exports.json_lines
    monkeypatch.setattr(exports, "json_lines", lambda records, j: real(dying(records), j))
    response = client.get(url("claims:export-json"))
    received = []
    with pytest.raises(ConnectionError):
        for piece in response.streaming_content:
            received.append(piece)

    assert b'"count"' not in b"".join(received)
