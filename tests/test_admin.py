import importlib
from datetime import date, timedelta

import pytest
from django.contrib.admin import helpers
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from claims.models import (
    Claim,
    Clinic,
    Jurisdiction,
    RegulatoryStatus,
    Status,
    Treatment,
)
from tests.conftest import (
    CURATED,
    make_claim,
    make_clinic,
    make_evidence_level,
    make_indication,
    make_override,
    make_status,
    make_treatment,
)

pytestmark = pytest.mark.django_db

editors_migration = importlib.import_module("claims.migrations.0002_editors_group")
publishers_migration = importlib.import_module("claims.migrations.0004_publishers_group")
revisions_migration = importlib.import_module("claims.migrations.0006_revisions")


def apps_at(migration):
    return MigrationLoader(connection).project_state(("claims", migration)).apps


EDITED_IN_THEIR_CLAIM = {"citation", "claimstatusoverride"}
REGISTERED = [m for m in CURATED if m not in EDITED_IN_THEIR_CLAIM]

# Session, user, permissions, jurisdictions, counts, the page and its prefetches, then one count
# per sidebar filter: 22 today with two jurisdictions, whatever the number of claims.
MAX_CHANGELIST_QUERIES = 25


def changelist(model="claim"):
    return reverse(f"admin:claims_{model}_changelist")


def change(claim):
    return reverse("admin:claims_claim_change", args=[claim.pk])


def flag(status):
    return f"{status.icon} {status.label}"


def claim_form(claim, **changes):
    """What the change form posts for `claim`, its citations and overrides, with `changes`."""
    data = {
        "title": claim.title,
        "slug": claim.slug,
        "statement": claim.statement,
        "outcome": claim.outcome,
        "context_note": claim.context_note,
        "clinic": claim.clinic_id,
        "conference": claim.conference_id or "",
        "presentation": claim.presentation_id or "",
        "made_on": "",
        "treatment": claim.treatment_id,
        "indications": [i.pk for i in claim.indications.all()],
        "evidence_level": claim.evidence_level_id or "",
        "state": claim.state,
        "last_reviewed_on": "",
        "status_overrides-TOTAL_FORMS": 0,
        "status_overrides-INITIAL_FORMS": 0,
    }
    citations = list(claim.citations.all())
    data["citations-TOTAL_FORMS"] = len(citations)
    data["citations-INITIAL_FORMS"] = len(citations)
    for i, citation in enumerate(citations):
        for field in ["id", "kind", "title", "publisher", "url", "note", "position"]:
            data[f"citations-{i}-{field}"] = getattr(citation, field)
        data[f"citations-{i}-accessed_on"] = citation.accessed_on.isoformat()
        data[f"citations-{i}-claim"] = claim.pk
    data.update(changes)
    return data


@pytest.fixture
def draft(jurisdictions):
    return make_claim(published=False, title="Exosomes erase wrinkles")


# --- Who gets in ----------------------------------------------------------------------------------


def admin_urls(claim):
    return [
        reverse("admin:index"),
        changelist(),
        reverse("admin:claims_claim_add"),
        change(claim),
        reverse("admin:claims_claim_delete", args=[claim.pk]),
        reverse("admin:claims_claim_history", args=[claim.pk]),
    ]


def test_it_sends_anonymous_visitors_to_the_login_page(client, claim):
    for url in admin_urls(claim):
        response = client.get(url)

        assert response.status_code == 302, url
        assert response.url.startswith(reverse("admin:login")), url


def test_it_lets_editors_open_every_page_of_a_draft(client, editor, draft):
    client.force_login(editor)
    for url in admin_urls(draft):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("model", REGISTERED)
def test_it_lets_editors_browse_and_add_every_curated_model(client, editor, claim, model):
    client.force_login(editor)
    assert client.get(changelist(model)).status_code == 200
    assert client.get(reverse(f"admin:claims_{model}_add")).status_code == 200


@pytest.mark.parametrize("model", ["user", "group"])
def test_it_keeps_editors_away_from_users_and_groups(client, editor, model):
    client.force_login(editor)
    assert client.get(reverse(f"admin:auth_{model}_changelist")).status_code == 403


@pytest.mark.parametrize("model", ["user", "group"])
def test_it_lets_the_superuser_manage_users_and_groups(client, superuser, model):
    client.force_login(superuser)
    assert client.get(reverse(f"admin:auth_{model}_changelist")).status_code == 200


def test_it_lets_the_superuser_open_every_claim_page(client, superuser, claim):
    client.force_login(superuser)
    for url in admin_urls(claim):
        assert client.get(url).status_code == 200, url


def test_it_offers_editors_the_history_of_a_claim_with_its_changes(client, editor, draft):
    client.force_login(editor)
    client.post(change(draft), claim_form(draft, title="Exosomes erase all wrinkles"))

    response = client.get(reverse("admin:claims_claim_history", args=[draft.pk]))

    assert response.status_code == 200
    assert "Exosomes erase all wrinkles" in response.text
    assert "editor" in response.text


def test_it_links_a_claim_to_its_public_page(client, editor, claim):
    client.force_login(editor)
    content_type = ContentType.objects.get_for_model(Claim)

    response = client.get(change(claim))
    on_site = client.get(reverse("admin:view_on_site", args=[content_type.pk, claim.pk]))

    assert reverse("admin:view_on_site", args=[content_type.pk, claim.pk]) in response.text
    assert on_site.status_code == 302
    assert on_site.url.endswith(claim.get_absolute_url())


# --- The Editors and Publishers groups ---------------------------------------------------------


def test_it_gives_editors_exactly_the_curation_permissions():
    expected = {f"{action}_{model}" for model in CURATED for action in editors_migration.ACTIONS}
    expected |= {f"view_historical{model}" for model in CURATED}
    expected |= {"view_historicalclaim_indications"}
    expected |= set(revisions_migration.GRANTS["Editors"])  # the review queue, to read

    permissions = Group.objects.get(name="Editors").permissions.select_related("content_type")

    assert {p.content_type.app_label for p in permissions} == {"claims"}
    assert {p.codename for p in permissions} == expected


def test_it_gives_editors_no_power_over_users_or_groups():
    editors = Group.objects.get(name="Editors")
    assert not editors.permissions.filter(content_type__app_label="auth").exists()
    assert not editors.permissions.filter(codename__startswith="change_historical").exists()


def test_it_can_undo_and_redo_the_editors_group():
    apps = MigrationLoader(connection).project_state(("claims", "0002_editors_group")).apps
    before = set(Group.objects.get(name="Editors").permissions.all())

    editors_migration.delete_editors(apps, None)
    assert not Group.objects.filter(name="Editors").exists()

    editors_migration.create_editors(apps, None)
    revisions_migration.grant_review(apps_at("0006_revisions"), None)
    assert set(Group.objects.get(name="Editors").permissions.all()) == before
    assert Permission.objects.filter(codename="view_historicalclaim").count() == 1


def test_it_gives_publishers_the_editors_permissions_and_publishing():
    editors = set(Group.objects.get(name="Editors").permissions.all())
    publishers = set(Group.objects.get(name="Publishers").permissions.all())

    deciding = ["publish_claim", "change_claimrevision", "change_statusrevision"]
    assert publishers - editors == set(Permission.objects.filter(codename__in=deciding))
    assert editors < publishers


def test_it_keeps_publishing_from_editors_and_people_from_publishers():
    assert not Group.objects.filter(name="Editors", permissions__codename="publish_claim").exists()
    publishers = Group.objects.get(name="Publishers")
    assert not publishers.permissions.filter(content_type__app_label="auth").exists()


def test_it_can_undo_and_redo_the_publishers_group():
    apps = MigrationLoader(connection).project_state(("claims", "0004_publishers_group")).apps
    before = set(Group.objects.get(name="Publishers").permissions.all())

    publishers_migration.delete_publishers(apps, None)
    assert not Group.objects.filter(name="Publishers").exists()

    publishers_migration.create_publishers(apps, None)
    revisions_migration.grant_review(apps_at("0006_revisions"), None)
    assert set(Group.objects.get(name="Publishers").permissions.all()) == before


@pytest.mark.parametrize("model", ["user", "group"])
def test_it_keeps_publishers_away_from_users_and_groups(client, publisher, model):
    client.force_login(publisher)
    assert client.get(reverse(f"admin:auth_{model}_changelist")).status_code == 403


# --- Adding and changing claims -------------------------------------------------------------------


def test_it_lets_editors_add_a_draft_claim(client, editor, jurisdictions):
    client.force_login(editor)
    clinic, treatment = make_clinic(), make_treatment()
    data = {
        "title": "Exosomes regrow hair",
        "slug": "exosomes-regrow-hair",
        "statement": "Three sessions regrow hair.",
        "clinic": clinic.pk,
        "treatment": treatment.pk,
        "indications": [make_indication().pk],
        "state": Claim.State.DRAFT,
        "citations-TOTAL_FORMS": 1,
        "citations-INITIAL_FORMS": 0,
        "citations-0-kind": "write-up",
        "citations-0-title": "Conference report",
        "citations-0-url": "https://example.org/report",
        "citations-0-accessed_on": "2026-11-01",
        "citations-0-position": 0,
        "status_overrides-TOTAL_FORMS": 0,
        "status_overrides-INITIAL_FORMS": 0,
    }

    response = client.post(reverse("admin:claims_claim_add"), data)

    assert response.status_code == 302
    claim = Claim.objects.get(slug="exosomes-regrow-hair")
    assert claim.state == Claim.State.DRAFT
    assert claim.citations.get().url == "https://example.org/report"
    assert {record.history_user for record in claim.history.all()} == {editor}


def test_it_lets_editors_change_a_claim(client, editor, draft):
    client.force_login(editor)

    response = client.post(change(draft), claim_form(draft, title="Exosomes soften wrinkles"))

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "Exosomes soften wrinkles"


def test_it_keeps_the_state_out_of_the_change_form(client, editor, draft):
    client.force_login(editor)

    response = client.get(change(draft))

    assert response.status_code == 200
    assert 'name="state"' not in response.text
    assert "state" not in response.context["adminform"].form.fields


def test_it_ignores_a_state_posted_with_the_change_form(client, editor, draft):
    client.force_login(editor)

    response = client.post(change(draft), claim_form(draft, state=Claim.State.PUBLISHED))

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == Claim.State.DRAFT
    assert draft.published_at is None


def test_it_keeps_the_state_when_reverting_to_a_published_version(client, publisher, claim):
    published_version = claim.history.latest()
    claim.retract()
    client.force_login(publisher)
    url = reverse(
        "admin:claims_claim_simple_history", args=[claim.pk, published_version.history_id]
    )
    # The revert form has no inlines: it restores the claim's own fields only.
    data = {
        key: value
        for key, value in claim_form(claim, title="Restored title").items()
        if not key.startswith(("citations-", "status_overrides-"))
    }

    form = client.get(url)
    response = client.post(url, data)

    assert "citations-TOTAL_FORMS" not in form.text
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.title == "Restored title"
    assert claim.is_retracted()


def test_it_refuses_to_leave_a_published_claim_without_citations(client, editor, claim):
    client.force_login(editor)
    data = claim_form(claim, title="Changed")
    data["citations-0-DELETE"] = "on"

    response = client.post(change(claim), data)

    assert response.status_code == 200
    assert "A published claim needs at least one citation." in response.text
    claim.refresh_from_db()
    assert claim.title != "Changed"
    assert claim.citations.exists()


def test_it_refuses_to_remove_the_evidence_level_of_a_published_claim(client, editor, claim):
    client.force_login(editor)

    response = client.post(change(claim), claim_form(claim, evidence_level=""))

    assert response.status_code == 200
    assert "A published claim needs an evidence level." in response.text
    claim.refresh_from_db()
    assert claim.evidence_level is not None


def test_it_keeps_the_note_as_the_reason_for_an_edit(client, editor, draft):
    client.force_login(editor)

    client.post(change(draft), claim_form(draft, title="Fixed", note="Typo in the title"))

    record = draft.history.latest()
    assert record.title == "Fixed"
    assert record.history_change_reason == "Typo in the title"
    assert record.history_user == editor


# --- Citations and overrides ----------------------------------------------------------------------


@pytest.mark.parametrize("model", ["citation", "claimstatusoverride"])
def test_it_lists_citations_and_overrides_read_only(client, editor, claim, fda, model):
    make_override(claim, fda, Status.NOT_APPROVED)
    target = claim.citations.get() if model == "citation" else claim.status_overrides.get()
    client.force_login(editor)

    listing = client.get(changelist(model))
    page = client.get(reverse(f"admin:claims_{model}_change", args=[target.pk]))
    history = client.get(reverse(f"admin:claims_{model}_history", args=[target.pk]))
    added = client.get(reverse(f"admin:claims_{model}_add"))

    assert listing.status_code == 200
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert history.status_code == 200
    assert added.status_code == 403


# --- Deleting claims ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["editor", "publisher"])
def test_it_keeps_a_published_claim_from_being_deleted(client, request, claim, persona):
    client.force_login(request.getfixturevalue(persona))
    url = reverse("admin:claims_claim_delete", args=[claim.pk])

    page = client.get(change(claim))
    response = client.post(url, {"post": "yes"})
    bulk = client.post(
        changelist(),
        {"action": "delete_selected", "post": "yes", helpers.ACTION_CHECKBOX_NAME: [claim.pk]},
    )

    assert reverse("admin:claims_claim_delete", args=[claim.pk]) not in page.text
    assert response.status_code == 403
    # The bulk delete is not offered to them (it was, and answered 403): posting it anyway
    # is an unknown action, which deletes nothing.
    assert "delete_selected" not in client.get(changelist()).text
    assert bulk.status_code == 302
    assert Claim.objects.filter(pk=claim.pk).exists()


def test_it_lets_an_editor_delete_a_draft(client, editor, draft):
    client.force_login(editor)

    response = client.post(reverse("admin:claims_claim_delete", args=[draft.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not Claim.objects.filter(pk=draft.pk).exists()


def test_it_lets_the_superuser_delete_a_published_claim(client, superuser, claim):
    client.force_login(superuser)

    response = client.post(reverse("admin:claims_claim_delete", args=[claim.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not Claim.objects.filter(pk=claim.pk).exists()


# --- Deleting what claims rely on -----------------------------------------------------------------


@pytest.mark.parametrize(
    "relied_on",
    [
        lambda claim: claim.clinic,
        lambda claim: claim.treatment,
        lambda claim: claim.treatment.source,
        lambda claim: claim.evidence_level,
    ],
    ids=["clinic", "treatment", "source", "evidence-level"],
)
def test_it_refuses_to_delete_what_a_claim_relies_on(client, editor, claim, relied_on):
    target = relied_on(claim)
    client.force_login(editor)
    url = reverse(f"admin:claims_{target._meta.model_name}_delete", args=[target.pk])

    response = client.post(url, {"post": "yes"})

    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in response.text
    assert type(target).objects.filter(pk=target.pk).exists()


def test_it_deletes_an_unused_clinic(client, editor, db):
    clinic = make_clinic()
    client.force_login(editor)

    response = client.post(reverse("admin:claims_clinic_delete", args=[clinic.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not Clinic.objects.filter(pk=clinic.pk).exists()


# --- The changelist -------------------------------------------------------------------------------


def make_flagged_claims(count, fda, eu):
    treatment = make_treatment()
    make_status(treatment, fda, Status.NOT_APPROVED)
    make_status(treatment, eu, Status.PROHIBITED)
    indication = make_indication()
    for _ in range(count):
        make_claim(treatment=make_treatment(), indications=[indication])
    for claim in Claim.objects.all()[: count // 2]:
        claim.treatment = treatment
        claim.save()


@pytest.mark.parametrize("count", [60, 120])
def test_it_lists_claims_in_a_fixed_number_of_queries(
    client, editor, fda, eu, count, django_assert_max_num_queries
):
    make_flagged_claims(count, fda, eu)
    make_override(Claim.objects.first(), fda, Status.NOT_APPROVED)
    client.force_login(editor)

    with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES):
        response = client.get(changelist())

    assert response.status_code == 200
    assert response.text.count(flag(Status.NOT_APPROVED)) >= 2
    assert f"{flag(Status.NOT_APPROVED)} (override)" in response.text


def test_it_shows_one_flag_column_per_jurisdiction(client, editor, claim):
    Jurisdiction.objects.create(
        code="mhra",
        name="United Kingdom",
        regulator="Medicines and Healthcare products Regulatory Agency",
        short_label="MHRA",
        position=3,
    )
    client.force_login(editor)

    response = client.get(changelist())

    assert 'class="column-flag_fda' in response.text
    assert 'class="column-flag_eu' in response.text
    assert 'class="column-flag_mhra' in response.text
    assert flag(Status.NOT_APPROVED) in response.text
    assert flag(Status.PROHIBITED) in response.text
    assert flag(Status.UNKNOWN) in response.text


def test_it_filters_claims_by_their_flag_in_a_jurisdiction(client, editor, fda, eu):
    flagged = make_treatment()
    make_status(flagged, fda, Status.NOT_APPROVED)
    hit = make_claim(treatment=flagged, title="Flagged claim")
    miss = make_claim(title="Unassessed claim")
    client.force_login(editor)

    response = client.get(changelist(), {"flag_fda": Status.NOT_APPROVED})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [hit]
    assert miss.title not in response.text


def test_it_searches_claims_by_clinic_name(client, editor, jurisdictions):
    hit = make_claim(clinic=make_clinic(name="Glow Aesthetics"))
    miss = make_claim()
    client.force_login(editor)

    response = client.get(changelist(), {"q": "glow"})

    assert list(response.context["cl"].result_list) == [hit]
    assert miss.title not in response.text


def test_it_lists_treatments_with_a_status_column_per_jurisdiction(client, editor, fda, eu):
    treatment = make_treatment(name="Salmon PDRN serum")
    make_status(treatment, fda, Status.COSMETIC)
    client.force_login(editor)

    response = client.get(changelist("treatment"))

    assert response.status_code == 200
    assert 'class="column-status_fda' in response.text
    assert flag(Status.COSMETIC) in response.text
    assert flag(Status.UNKNOWN) in response.text


def make_many_claims(count, fda, eu):
    """`count` claims in a few bulk queries, over a handful of clinics, treatments, evidence
    levels and indications, with statuses and an override: what a changelist page shows."""
    clinics = [make_clinic(country=code) for code in ["GB", "PH", "US"]]
    treatments = [make_treatment() for _ in range(3)]
    for treatment in treatments[:2]:
        make_status(treatment, fda, Status.NOT_APPROVED)
        make_status(treatment, eu, Status.PROHIBITED, checked_on=date(2020, 1, 1))
    levels = [make_evidence_level() for _ in range(3)]
    indications = [make_indication() for _ in range(3)]
    states = list(Claim.State)
    claims = Claim.objects.bulk_create(
        Claim(
            slug=f"bulk-{i}",
            title=f"Bulk claim {i}",
            statement="Exosomes do it all.",
            clinic=clinics[i % 3],
            treatment=treatments[i % 3],
            evidence_level=levels[i % 3],
            state=states[i % 4],
        )
        for i in range(count)
    )
    Through = Claim.indications.through
    Through.objects.bulk_create(
        Through(claim_id=claim.pk, indication_id=indications[i % 3].pk)
        for i, claim in enumerate(claims)
    )
    make_override(claims[0], fda, Status.PROHIBITED)
    return claims


@pytest.mark.parametrize(
    "query",
    [{}, {"state": "draft"}, {"q": "bulk"}, {"flag_fda": Status.NOT_APPROVED, "p": 3}],
    ids=["all", "drafts", "search", "flag-page-3"],
)
def test_it_lists_thousands_of_claims_in_a_bounded_number_of_queries(
    client, publisher, fda, eu, django_assert_max_num_queries, query
):
    make_many_claims(2000, fda, eu)
    client.force_login(publisher)

    with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES):
        response = client.get(changelist(), query)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 100
    assert response.context["cl"].full_result_count == 2000


@pytest.mark.parametrize("model", ["treatment", "regulatorystatus", "clinic"])
def test_it_lists_other_models_in_a_bounded_number_of_queries(
    client, editor, fda, eu, django_assert_max_num_queries, model
):
    for _ in range(60):
        treatment = make_treatment()
        make_status(treatment, fda, Status.COSMETIC)
        make_status(treatment, eu, Status.UNKNOWN)
        make_clinic()
    client.force_login(editor)

    with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES):
        response = client.get(changelist(model))

    assert response.status_code == 200


def test_it_uses_autocomplete_for_what_a_claim_points_at(client, editor, draft):
    client.force_login(editor)

    response = client.get(change(draft))

    form = response.context["adminform"].form
    for field in ["clinic", "treatment", "conference", "presentation", "indications"]:
        assert type(form.fields[field].widget.widget).__name__.startswith("Autocomplete"), field


# --- Statuses due a re-check ----------------------------------------------------------------------


@pytest.fixture
def stale_and_fresh(fda, eu):
    """Two treatments: one with an EU status last checked two years ago, one checked lately."""
    stale = make_treatment(name="Stale serum")
    make_status(stale, fda, Status.COSMETIC, checked_on=date.today())
    old = make_status(stale, eu, Status.PROHIBITED, checked_on=date.today() - timedelta(days=730))
    fresh = make_treatment(name="Fresh serum")
    make_status(fresh, eu, Status.COSMETIC, checked_on=date.today() - timedelta(days=300))
    return stale, fresh, old


def test_it_warns_about_statuses_not_rechecked_in_12_months(client, editor, stale_and_fresh):
    client.force_login(editor)

    response = client.get(changelist("regulatorystatus"))

    assert response.status_code == 200
    assert response.text.count("not re-checked in 12 months</strong>") == 1


def test_it_filters_statuses_not_rechecked_in_12_months(client, editor, stale_and_fresh):
    _, _, old = stale_and_fresh
    client.force_login(editor)

    response = client.get(changelist("regulatorystatus"), {"recheck": "due"})

    assert list(response.context["cl"].result_list) == [old]


def test_it_filters_treatments_with_a_status_not_rechecked_in_12_months(
    client, editor, stale_and_fresh
):
    stale, fresh, _ = stale_and_fresh
    client.force_login(editor)

    everything = client.get(changelist("treatment"))
    due = client.get(changelist("treatment"), {"recheck": "due"})

    assert set(everything.context["cl"].result_list) == {stale, fresh}
    assert list(due.context["cl"].result_list) == [stale]
    assert f"{flag(Status.PROHIBITED)} ⚠ re-check" in due.text
    assert f"{flag(Status.COSMETIC)} ⚠ re-check" not in everything.text


def test_it_counts_a_status_checked_a_year_ago_today_as_fresh(fda):
    treatment = make_treatment()
    today = date(2027, 3, 1)
    due = make_status(treatment, fda, Status.COSMETIC, checked_on=date(2026, 2, 28))
    make_status(make_treatment(), fda, Status.COSMETIC, checked_on=date(2026, 3, 1))

    assert list(RegulatoryStatus.objects.due_for_recheck(today)) == [due]
    assert due.is_due_for_recheck(today)
    assert list(Treatment.objects.due_for_recheck(today)) == [treatment]
