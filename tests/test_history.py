"""History: every curated model's changes, diffs and reverts in the admin; regulatory updates
that reach every claim using a treatment at once; and the change log readers see on a claim's
page, read from that history."""

from datetime import date, timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core import serializers
from django.urls import reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from claims.history import FIXTURE_REASON, public_changes
from claims.models import (
    Claim,
    EvidenceLevel,
    Jurisdiction,
    Origin,
    RegulatoryStatus,
    Route,
    SourceCategory,
    Status,
)
from tests.conftest import (
    CLAIM_PAGE_QUERIES,
    CURATED,
    make_claim,
    make_evidence_level,
    make_override,
    make_source,
    make_status,
    make_treatment,
)

pytestmark = pytest.mark.django_db


def history_url(obj):
    return reverse(f"admin:claims_{obj._meta.model_name}_history", args=[obj.pk])


def texts(claim):
    """The change log as the claim's page reads it, from the database as it is now."""
    claim = Claim.objects.get(pk=claim.pk)
    jurisdictions = list(Jurisdiction.objects.all())
    changes = public_changes(claim, jurisdictions, claim.flag_records())
    return [change.text for change in changes]


@pytest.fixture
def serum(fda, eu):
    """A treatment the FDA sees as a cosmetic and the EU prohibits: on intact skin, from fish,
    so that the cosmetic rule lets an editor revert to its first status."""
    source = make_source(category=SourceCategory.ANIMAL, origin=Origin.ANIMAL)
    treatment = make_treatment(name="Salmon serum", source=source, route=Route.TOPICAL_INTACT_SKIN)
    make_status(treatment, fda, Status.COSMETIC)
    make_status(treatment, eu, Status.PROHIBITED)
    return treatment


@pytest.fixture
def published(serum):
    return make_claim(treatment=serum, title="Serum erases scars")


def set_status(treatment, jurisdiction, status, **fields):
    record = RegulatoryStatus.objects.get(treatment=treatment, jurisdiction=jurisdiction)
    record.status = status
    for name, value in fields.items():
        setattr(record, name, value)
    record.save()
    return record


# --- In the admin ---------------------------------------------------------------------------------


@pytest.mark.parametrize("model", CURATED)
def test_it_keeps_history_with_revert_for_every_curated_model(model):
    model_admin = next(a for m, a in admin.site._registry.items() if m._meta.model_name == model)
    assert isinstance(model_admin, SimpleHistoryAdmin)
    assert hasattr(model_admin.model, "history")


def test_it_shows_who_changed_what_in_a_claim_with_a_diff(client, editor, fda, eu, serum):
    weak = make_evidence_level(name="Case series")
    strong = make_evidence_level(name="Randomised controlled trial")
    claim = make_claim(published=False, treatment=serum, evidence_level=weak)
    client.force_login(editor)
    data = {
        "title": "A new title",
        "slug": claim.slug,
        "statement": claim.statement,
        "clinic": claim.clinic_id,
        "treatment": claim.treatment_id,
        "evidence_level": strong.pk,
        "note": "Found the trial",
        "citations-TOTAL_FORMS": 0,
        "citations-INITIAL_FORMS": 0,
        "status_overrides-TOTAL_FORMS": 0,
        "status_overrides-INITIAL_FORMS": 0,
    }
    assert (
        client.post(reverse("admin:claims_claim_change", args=[claim.pk]), data).status_code == 302
    )

    response = client.get(history_url(claim))

    assert response.status_code == 200
    assert "Found the trial" in response.text
    assert "<strong>Title:</strong>" in response.text
    assert "Case series" in response.text
    assert "Randomised controlled trial" in response.text
    assert claim.history.latest().history_user == editor


def test_it_shows_a_status_change_with_its_labels(client, editor, serum, fda):
    record = RegulatoryStatus.objects.get(treatment=serum, jurisdiction=fda)
    client.force_login(editor)
    data = {
        "treatment": serum.pk,
        "jurisdiction": fda.pk,
        "status": Status.NOT_APPROVED,
        "explanation": "A drug when injected.",
        "source_url": "https://example.org/fda",
        "checked_on": "2026-12-01",
    }
    url = reverse("admin:claims_regulatorystatus_change", args=[record.pk])
    assert client.post(url, data).status_code == 302

    response = client.get(history_url(record))

    assert "<strong>Status:</strong>" in response.text
    assert str(Status.COSMETIC.label) in response.text
    assert str(Status.NOT_APPROVED.label) in response.text
    assert record.history.latest().history_user == editor


def test_it_reverts_a_status_to_an_earlier_version(client, editor, serum, fda):
    record = RegulatoryStatus.objects.get(treatment=serum, jurisdiction=fda)
    first = record.history.earliest()
    set_status(serum, fda, Status.PROHIBITED)
    client.force_login(editor)
    url = reverse("admin:claims_regulatorystatus_simple_history", args=[record.pk, first.pk])
    data = {
        "treatment": serum.pk,
        "jurisdiction": fda.pk,
        "status": first.status,
        "explanation": first.explanation,
        "source_url": first.source_url,
        "checked_on": first.checked_on.isoformat(),
        "appearance_claim": "on",
    }

    response = client.post(url, data)

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == Status.COSMETIC
    assert record.history.latest().history_user == editor


def test_it_refuses_a_revert_from_someone_who_may_only_view(client, serum, fda, django_user_model):
    record = RegulatoryStatus.objects.get(treatment=serum, jurisdiction=fda)
    first = record.history.earliest()
    set_status(serum, fda, Status.PROHIBITED)
    viewer = django_user_model.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_regulatorystatus"))
    client.force_login(viewer)
    url = reverse("admin:claims_regulatorystatus_simple_history", args=[record.pk, first.pk])

    page = client.get(url)
    response = client.post(url, {"status": Status.COSMETIC})

    assert page.status_code == 200
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.status == Status.PROHIBITED


def test_it_records_who_edited_citations_in_their_claim(client, publisher, published):
    citation = published.citations.get()
    client.force_login(publisher)
    data = {
        "title": published.title,
        "slug": published.slug,
        "statement": published.statement,
        "clinic": published.clinic_id,
        "treatment": published.treatment_id,
        "evidence_level": published.evidence_level_id,
        "citations-TOTAL_FORMS": 1,
        "citations-INITIAL_FORMS": 1,
        "citations-0-id": citation.pk,
        "citations-0-claim": published.pk,
        "citations-0-kind": citation.kind,
        "citations-0-title": "A better title for the source",
        "citations-0-url": citation.url,
        "citations-0-accessed_on": "2026-11-01",
        "citations-0-position": 0,
        "status_overrides-TOTAL_FORMS": 0,
        "status_overrides-INITIAL_FORMS": 0,
    }
    client.post(reverse("admin:claims_claim_change", args=[published.pk]), data)

    response = client.get(history_url(citation))

    assert citation.history.latest().history_user == publisher
    assert "A better title for the source" in response.text


# --- Regulatory updates ---------------------------------------------------------------------------


def test_it_flips_the_flag_of_every_claim_using_a_treatment_at_once(client, fda, serum):
    users = [make_claim(treatment=serum) for _ in range(3)]
    own = make_claim(treatment=serum, title="Sets its own FDA flag")
    make_override(own, fda, Status.PROHIBITED)

    set_status(serum, fda, Status.NOT_APPROVED)

    for claim in users:
        (flag,) = Claim.objects.for_display().get(pk=claim.pk).flags([fda])
        assert flag.status == Status.NOT_APPROVED
    (flag,) = Claim.objects.for_display().get(pk=own.pk).flags([fda])
    assert flag.status == Status.PROHIBITED
    listed = client.get(reverse("claims:list"), {"fda": Status.NOT_APPROVED})
    assert {row[0] for row in listed.context["rows"]} == set(users)


def test_it_tells_each_claims_readers_about_a_status_change(client, fda, serum):
    users = [make_claim(treatment=serum, title=f"Claim {i}") for i in range(2)]
    own = make_claim(treatment=serum, title="Sets its own FDA flag")
    make_override(own, fda, Status.PROHIBITED)

    set_status(serum, fda, Status.NOT_APPROVED)

    change = "FDA flag changed from lawful cosmetic (no pre-market review) to not approved"
    today = timezone.localdate()
    for claim in users:
        response = client.get(claim.get_absolute_url())
        assert response.status_code == 200
        assert f'{change} on <time datetime="{today:%Y-%m-%d}">' in response.text
    assert change not in client.get(own.get_absolute_url()).text


def test_it_records_a_status_change_in_history(editor, fda, serum):
    record = set_status(serum, fda, Status.NOT_APPROVED)

    previous, latest = record.history.order_by("history_id")[:2]
    assert (previous.status, latest.status) == (Status.COSMETIC, Status.NOT_APPROVED)


# --- The public change log ------------------------------------------------------------------------


def test_it_tells_of_an_evidence_level_change_after_publication(fda, eu, serum):
    case_series = make_evidence_level(name="Case series")
    rct = make_evidence_level(name="RCT")
    claim = make_claim(treatment=serum, evidence_level=case_series)

    claim.evidence_level = rct
    claim.save()

    assert texts(claim) == ["Evidence level changed from Case series to RCT"]


def test_it_keeps_changes_before_publication_to_itself(fda, eu, serum, publisher):
    case_series = make_evidence_level(name="Case series")
    claim = make_claim(published=False, treatment=serum, evidence_level=case_series)
    claim.evidence_level = make_evidence_level(name="RCT")
    claim.save()
    set_status(serum, fda, Status.NOT_APPROVED)
    assert texts(claim) == []

    claim.publish(publisher)

    assert texts(claim) == []


def test_it_tells_of_overrides_added_changed_and_removed(fda, eu, published):
    own = make_override(published, fda, Status.NOT_APPROVED)
    own.status = Status.PROHIBITED
    own.save()
    own.delete()

    assert texts(published) == [
        "FDA flag changed from prohibited to lawful cosmetic (no pre-market review)",
        "FDA flag changed from not approved to prohibited",
        "FDA flag changed from lawful cosmetic (no pre-market review) to not approved",
    ]


def test_it_tells_of_a_status_added_or_removed(fda, eu, published):
    mhra = Jurisdiction.objects.create(
        code="mhra", name="United Kingdom", regulator="MHRA", short_label="MHRA", position=3
    )
    make_status(published.treatment, mhra, Status.NOT_APPROVED)
    RegulatoryStatus.objects.get(treatment=published.treatment, jurisdiction=fda).delete()

    assert texts(published) == [
        "FDA flag changed from lawful cosmetic (no pre-market review) to not assessed",
        "MHRA flag changed from not assessed to not approved",
    ]


def test_it_says_nothing_of_a_recheck_that_changed_no_flag(fda, eu, published):
    set_status(published.treatment, fda, Status.COSMETIC, checked_on=date(2026, 12, 1))

    assert texts(published) == []


def test_it_tells_of_a_retraction_and_why(client, fda, eu, published, publisher):
    published.retract(publisher, note="The clinic withdrew the claim")

    response = client.get(published.get_absolute_url())

    assert texts(published) == ["Retracted"]
    assert "Retracted on <time" in response.text
    assert ": The clinic withdrew the claim." in response.text


def test_it_follows_the_flags_when_the_claim_changes_treatment(fda, eu, published):
    injected = make_treatment(name="Injected")
    make_status(injected, fda, Status.NOT_APPROVED)
    make_status(injected, eu, Status.PROHIBITED)

    published.treatment = injected
    published.save()

    assert texts(published) == [
        "FDA flag changed from lawful cosmetic (no pre-market review) to not approved"
    ]


def test_it_lists_the_newest_change_first(fda, eu, published):
    set_status(published.treatment, fda, Status.NOT_APPROVED)
    set_status(published.treatment, eu, Status.CONDITIONAL)

    assert texts(published) == [
        "EU flag changed from prohibited to conditionally allowed",
        "FDA flag changed from lawful cosmetic (no pre-market review) to not approved",
    ]


def test_it_takes_rows_without_history_as_they_always_were(fda, eu):
    """Seed data is loaded without history (loaddata saves rows raw)."""
    treatment = make_treatment()
    RegulatoryStatus.objects.bulk_create(
        RegulatoryStatus(
            treatment=treatment,
            jurisdiction=jurisdiction,
            status=Status.COSMETIC,
            explanation="x",
            source_url="https://example.org/regulator",
            checked_on=date(2026, 1, 1),
            appearance_claim=True,
        )
        for jurisdiction in [fda, eu]
    )
    claim = make_claim(treatment=treatment)
    make_override(claim, fda, Status.NOT_APPROVED)

    assert texts(claim) == [
        "FDA flag changed from lawful cosmetic (no pre-market review) to not approved"
    ]


def test_it_does_not_guess_what_a_row_without_history_was(fda, eu):
    """A row whose history starts with a change says what it became, not what it was: that
    first change is not reported (`manage.py populate_history --auto` after loading the seed
    gives every row its starting point)."""
    treatment = make_treatment()
    RegulatoryStatus.objects.bulk_create(
        RegulatoryStatus(
            treatment=treatment,
            jurisdiction=jurisdiction,
            status=Status.COSMETIC,
            explanation="x",
            source_url="https://example.org/regulator",
            checked_on=date(2026, 1, 1),
            appearance_claim=True,
        )
        for jurisdiction in [fda, eu]
    )
    claim = make_claim(treatment=treatment)

    set_status(treatment, fda, Status.NOT_APPROVED)
    assert texts(claim) == []
    set_status(treatment, fda, Status.PROHIBITED)
    assert texts(claim) == ["FDA flag changed from not approved to prohibited"]


def test_it_shows_no_change_log_on_a_draft(client, editor, serum):
    claim = make_claim(published=False, treatment=serum)
    set_status(serum, serum.regulatory_statuses.first().jurisdiction, Status.NOT_APPROVED)
    client.force_login(editor)

    response = client.get(claim.get_absolute_url())

    assert response.status_code == 200
    assert response.context["changes"] == []
    assert "Changes since publication" not in response.text


def test_it_shows_no_change_log_on_an_unchanged_claim(client, published):
    response = client.get(published.get_absolute_url())
    assert "Changes since publication" not in response.text


def test_it_reads_a_long_history_in_a_bounded_number_of_queries(
    client, settings, fda, eu, published, django_assert_max_num_queries
):
    settings.PAGE_CACHE_SECONDS = 0
    levels = list(EvidenceLevel.objects.order_by("pk"))
    for day in range(20):
        status = Status.NOT_APPROVED if day % 2 else Status.COSMETIC
        set_status(published.treatment, fda, status, checked_on=date(2026, 11, 1) + timedelta(day))
        published.evidence_level = levels[day % len(levels)]
        published.save()

    with django_assert_max_num_queries(CLAIM_PAGE_QUERIES):
        response = client.get(published.get_absolute_url())

    assert response.status_code == 200
    assert response.text.count("FDA flag changed from") == 19


def test_it_records_rows_loaded_from_fixtures_without_telling_readers(fda, eu, serum):
    """loaddata saves raw rows, which simple_history skips: the seed gets a starting point in
    history, so the first real change after it is reported, and loading it is not a change."""
    claim = make_claim(treatment=serum, published_at=timezone.now() - timedelta(days=30))
    rows = [serum.source, serum, *serum.regulatory_statuses.all(), claim.clinic]
    rows += [claim.evidence_level, claim, *claim.citations.all()]
    fixture = serializers.serialize("json", rows)
    for model in {type(row) for row in rows}:
        model.history.all().delete()

    def load():
        for loaded in serializers.deserialize("json", fixture):
            loaded.save()  # as loaddata does: a raw save

    load()
    fda_status = RegulatoryStatus.objects.get(treatment=serum, jurisdiction=fda)
    assert [r.history_change_reason for r in fda_status.history.all()] == [FIXTURE_REASON]
    assert texts(claim) == []

    set_status(serum, fda, Status.NOT_APPROVED)
    assert texts(claim) == [
        "FDA flag changed from lawful cosmetic (no pre-market review) to not approved"
    ]

    load()  # loading the seed again puts its status back: readers are told
    assert texts(claim)[0] == (
        "FDA flag changed from not approved to lawful cosmetic (no pre-market review)"
    )
    assert fda_status.history.latest().history_change_reason == FIXTURE_REASON


def test_it_records_no_load_while_history_is_off(settings, serum):
    """`manage.py restore` turns history off: the backup brings its own."""
    fixture = serializers.serialize("json", [serum])
    serum.history.all().delete()
    settings.SIMPLE_HISTORY_ENABLED = False

    for loaded in serializers.deserialize("json", fixture):
        loaded.save()

    assert not serum.history.exists()


def test_it_explains_that_a_deleted_claim_cannot_be_reverted_from_its_history(
    client, superuser, jurisdictions
):
    from tests.conftest import make_claim

    claim = make_claim(published=False)
    version = claim.history.latest()
    pk = claim.pk
    claim.delete()
    client.force_login(superuser)
    url = reverse("admin:claims_claim_simple_history", args=[pk, version.pk])

    page = client.get(url, follow=True)
    response = client.post(url, {"title": "Back again"}, follow=True)

    for answer in (page, response):
        assert answer.status_code == 200
        assert "was deleted" in " ".join(str(m) for m in answer.context["messages"])
    assert not Claim.objects.filter(pk=pk).exists()
