"""Each JSON shape and its schema name the same keys: a key added to a builder in
claims/shapes.py and not to the schema beside it (or the other way round) fails here, on a
claim with every optional part filled in."""

import json
from datetime import date

import pytest
from django.urls import reverse

from claims.models import Claim, Conference, Jurisdiction, Status
from claims.openapi import openapi
from claims.responses import json_error
from claims.shapes import claim_detail_data, claims_as_data
from tests.conftest import make_claim, make_indication, make_override

pytestmark = pytest.mark.django_db


def undescribed_keys(data, schema, schemas, path="$"):
    """Where an object in `data` has keys other than its schema's properties, as
    (path, keys only in the data, keys only in the schema)."""
    if "oneOf" in schema:
        [schema] = [option for option in schema["oneOf"] if option.get("type") != "null"]
    if "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
    if isinstance(data, dict):
        properties = schema["properties"]
        mismatches = []
        if set(data) != set(properties):
            mismatches.append((path, set(data) - set(properties), set(properties) - set(data)))
        for key in [key for key in data if key in properties]:
            mismatches += undescribed_keys(data[key], properties[key], schemas, f"{path}.{key}")
        return mismatches
    if isinstance(data, list):
        return [
            mismatch
            for i, item in enumerate(data)
            for mismatch in undescribed_keys(item, schema["items"], schemas, f"{path}[{i}]")
        ]
    return []


@pytest.fixture
def full_claim(claim, jurisdictions):
    """A claim with a conference, an indication, an override and two citations."""
    claim.conference = Conference.objects.create(
        name="IMCAS World Congress 2024", slug="imcas-2024", starts_on=date(2024, 2, 1)
    )
    claim.save()
    claim.indications.set([make_indication()])
    make_override(claim, jurisdictions[1], Status.NOT_APPROVED)
    make_claim(citations=2)  # another claim, so the list has more than one
    return claim


def schemas():
    return openapi("http://testserver")["components"]["schemas"]


def absolute_uri(path):
    return f"http://testserver{path}"


def test_it_describes_every_key_of_a_claim_in_the_list_and_the_downloads(full_claim):
    jurisdictions = list(Jurisdiction.objects.all())
    [data] = claims_as_data(Claim.objects.filter(pk=full_claim.pk), jurisdictions, absolute_uri)

    assert data["conference"] is not None and data["evidence_level"] is not None
    assert data["indications"] and data["citation_urls"]
    assert undescribed_keys(data, {"$ref": "#/Claim"}, schemas()) == []


def test_it_describes_every_key_of_a_claims_own_page(full_claim):
    data = claim_detail_data(full_claim, list(Jurisdiction.objects.all()), absolute_uri)

    assert data["citations"] and any(flag["overridden"] for flag in data["flags"].values())
    assert undescribed_keys(data, {"$ref": "#/ClaimDetail"}, schemas()) == []


def test_it_describes_every_key_of_a_page_of_the_list(client, full_claim):
    data = client.get(reverse("claims:api-claims")).json()

    assert data["results"] and any(data["facets"].values())
    assert undescribed_keys(data, {"$ref": "#/ClaimPage"}, schemas()) == []


def test_it_describes_every_key_of_an_error(db):
    data = json.loads(json_error(404, "Nothing here.").content)

    assert undescribed_keys(data, {"$ref": "#/Error"}, schemas()) == []


def test_it_finds_a_key_the_schema_does_not_list(full_claim):
    data = claim_detail_data(full_claim, list(Jurisdiction.objects.all()), absolute_uri)
    data["citations"][0]["doi"] = "10.1000/1"
    del data["conference"]["dates_note"]

    assert undescribed_keys(data, {"$ref": "#/ClaimDetail"}, schemas()) == [
        ("$.conference", set(), {"dates_note"}),
        ("$.citations[0]", {"doi"}, set()),
    ]
