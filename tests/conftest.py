"""Shared fixtures: small factories for the curated models, and the personas the site serves."""

import itertools
from datetime import date

import pytest
from django.contrib.auth.models import Group, User

from claims.models import (
    Citation,
    Claim,
    Clinic,
    EvidenceLevel,
    ExosomeSource,
    Indication,
    Jurisdiction,
    Origin,
    RegulatoryStatus,
    Route,
    SourceCategory,
    Status,
    Treatment,
)

_numbers = itertools.count(1)


def make_clinic(**fields):
    n = next(_numbers)
    fields = {"name": f"Clinic {n}", "slug": f"clinic-{n}", "country": "GB", **fields}
    return Clinic.objects.create(**fields)


def make_source(**fields):
    n = next(_numbers)
    fields = {
        "name": f"Source {n}",
        "slug": f"source-{n}",
        "category": SourceCategory.HUMAN_STEM_CELL,
        "origin": Origin.HUMAN,
        **fields,
    }
    return ExosomeSource.objects.create(**fields)


def make_treatment(**fields):
    n = next(_numbers)
    if "source" not in fields:
        fields["source"] = make_source()
    fields = {
        "name": f"Treatment {n}",
        "slug": f"treatment-{n}",
        "route": Route.TOPICAL_POST_PROCEDURE,
        **fields,
    }
    return Treatment.objects.create(**fields)


def make_evidence_level(**fields):
    n = next(_numbers)
    fields = {
        "code": f"level-{n}",
        "name": f"Level {n}",
        "definition": "A test level.",
        "ocebm_equivalent": "L4",
        "rank": 100 + n,
        **fields,
    }
    return EvidenceLevel.objects.create(**fields)


def make_status(treatment, jurisdiction, status, **fields):
    fields = {
        "explanation": f"{jurisdiction} says {status}.",
        "source_url": "https://example.org/regulator",
        "checked_on": date(2026, 11, 1),
        **fields,
    }
    return RegulatoryStatus.objects.create(
        treatment=treatment, jurisdiction=jurisdiction, status=status, **fields
    )


def make_claim(*, published=True, citations=1, indications=(), **fields):
    n = next(_numbers)
    if "clinic" not in fields:
        fields["clinic"] = make_clinic()
    if "treatment" not in fields:
        fields["treatment"] = make_treatment()
    if "evidence_level" not in fields:
        fields["evidence_level"] = make_evidence_level()
    fields = {
        "slug": f"claim-{n}",
        "title": f"Claim {n}",
        "statement": f"Exosomes do wonderful thing number {n}.",
        **fields,
    }
    claim = Claim.objects.create(**fields)
    claim.indications.set(indications)
    for i in range(citations):
        Citation.objects.create(
            claim=claim,
            kind=Citation.Kind.WRITE_UP,
            title=f"Source {i} for claim {n}",
            url=f"https://example.org/claim-{n}/{i}",
            accessed_on=date(2026, 11, 1),
        )
    if published:
        claim.publish()
    return claim


def make_indication(**fields):
    n = next(_numbers)
    return Indication.objects.create(**{"name": f"Indication {n}", "slug": f"ind-{n}", **fields})


@pytest.fixture
def fda(db):
    return Jurisdiction.objects.get_or_create(
        code="fda",
        defaults={
            "name": "United States",
            "regulator": "Food and Drug Administration",
            "short_label": "FDA",
            "position": 1,
        },
    )[0]


@pytest.fixture
def eu(db):
    return Jurisdiction.objects.get_or_create(
        code="eu",
        defaults={
            "name": "European Union",
            "regulator": "European Commission and EMA",
            "short_label": "EU",
            "position": 2,
        },
    )[0]


@pytest.fixture
def jurisdictions(fda, eu):
    return [fda, eu]


@pytest.fixture
def claim(jurisdictions):
    treatment = make_treatment()
    make_status(treatment, jurisdictions[0], Status.NOT_APPROVED)
    make_status(treatment, jurisdictions[1], Status.PROHIBITED)
    return make_claim(treatment=treatment)


@pytest.fixture
def editor(db):
    user = User.objects.create_user("editor", password="pw-editor-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("admin", password="pw-admin-123")
