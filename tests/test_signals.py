"""Search documents follow the names they include, at a fixed cost, and only when a name
changed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.models import Claim
from tests.conftest import make_claim, make_clinic, make_indication, make_source, make_treatment

pytestmark = pytest.mark.django_db


def claim_updates(queries):
    """The UPDATEs of claims among the `queries` a CaptureQueriesContext caught."""
    return [query["sql"] for query in queries if query["sql"].startswith('UPDATE "claims_claim"')]


def rename(row, name):
    """The queries and claim UPDATEs of saving `row` under `name`."""
    row.name = name
    with CaptureQueriesContext(connection) as queries:
        row.save()
    return len(queries), claim_updates(queries)


@pytest.mark.parametrize("claims", [2, 12])
def test_it_renames_a_clinic_in_a_fixed_number_of_queries(claims, db):
    few, many = make_clinic(), make_clinic()
    for _ in range(2):
        make_claim(clinic=few)
    for _ in range(claims):
        make_claim(clinic=many)

    cost_of_few, updates_of_few = rename(few, "Renamed clinic")
    cost_of_many, updates_of_many = rename(many, "Renamed busier clinic")

    assert cost_of_many == cost_of_few
    assert len(updates_of_many) == len(updates_of_few) == 1
    documents = Claim.objects.filter(clinic=many).values_list("search_document", flat=True)
    assert len(documents) == claims
    assert all("Renamed busier clinic" in document for document in documents)


def test_it_updates_no_claim_when_a_save_changes_no_searched_name(db):
    clinic = make_clinic()
    treatment = make_treatment()
    indication = make_indication()
    make_claim(clinic=clinic, treatment=treatment, indications=[indication])
    clinic.city = "Manila"
    treatment.description = "Sold in clinics only."
    indication.slug = "renamed-slug"

    for row in [clinic, treatment, treatment.source, indication]:
        with CaptureQueriesContext(connection) as queries:
            row.save()
        assert claim_updates(queries) == [], row
        assert not any("claims_claim" in query["sql"] for query in queries), row


@pytest.mark.parametrize(
    ("change", "word"),
    [
        (lambda claim: setattr(claim.treatment, "name", "Salmon serum"), "Salmon serum"),
        (lambda claim: setattr(claim.treatment, "product", "Glow X"), "Glow X"),
        (lambda claim: setattr(claim.treatment.source, "name", "Rose stems"), "Rose stems"),
    ],
    ids=["treatment-name", "product", "source-name"],
)
def test_it_rewrites_the_document_when_a_searched_name_changes(change, word, db):
    claim = make_claim()
    change(claim)
    claim.treatment.save()
    claim.treatment.source.save()

    assert word in Claim.objects.get(pk=claim.pk).search_document


def test_it_rewrites_the_document_when_a_treatment_moves_to_another_source(db):
    claim = make_claim()
    treatment = claim.treatment
    treatment.source = make_source(name="Bovine milk")

    treatment.save()

    assert "Bovine milk" in Claim.objects.get(pk=claim.pk).search_document


def test_it_rewrites_the_document_of_a_row_loaded_without_its_name(db):
    claim = make_claim()
    clinic = type(claim.clinic).objects.only("pk", "slug").get(pk=claim.clinic_id)
    clinic.name = "Loaded later"

    clinic.save()

    assert "Loaded later" in Claim.objects.get(pk=claim.pk).search_document
