"""Nothing reaches readers without a Publisher: an editor's change to a published claim or to a
status its flags inherit waits, as a pending revision, until a Publisher approves it.

Personas: anonymous readers, an editor (Editors group), a second editor, a publisher."""

import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse

from claims import revision_content, revisions
from claims.models import (
    Claim,
    ClaimRevision,
    ClaimStatusOverride,
    RegulatoryStatus,
    Status,
    StatusRevision,
)
from tests.conftest import make_claim, make_override, make_staff, make_status, make_treatment

pytestmark = pytest.mark.django_db


def change_url(claim):
    return reverse("admin:claims_claim_change", args=[claim.pk])


def status_url(status):
    return reverse("admin:claims_regulatorystatus_change", args=[status.pk])


def review_url(revision):
    opts = revision._meta
    return reverse(f"admin:claims_{opts.model_name}_change", args=[revision.pk])


def form_data(response):
    """What a browser would post back for the change form in `response`, untouched: the
    form's fields (hidden ones included) and every inline row, as they were rendered."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            key = form.add_prefix(name)
            if value is None or value is False:
                continue
            if value is True:
                data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(item) for item in value]
            else:
                data[key] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for form in formset.forms:
            add(form)
    return data


def texts(response):
    return [str(message) for message in response.context["messages"]]


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def second_editor(db):
    return make_staff("editor2", "pw-editor-456", "Editors")


@pytest.fixture
def published(jurisdictions):
    fda, eu = jurisdictions
    treatment = make_treatment(name="Topical placenta exosomes")
    make_status(treatment, fda, Status.NOT_APPROVED)
    make_status(treatment, eu, Status.PROHIBITED)
    claim = make_claim(treatment=treatment, statement="Exosomes heal acne scars.")
    make_override(claim, eu, Status.PROHIBITED)
    return claim


def edit_published_claim(client, claim):
    """An editor's change of the statement, the citation's title and the override's reason."""
    response = client.get(change_url(claim))
    assert response.status_code == 200
    data = form_data(response)
    data["statement"] = "Exosomes fade acne scars."
    data["citations-0-title"] = "The real title"
    data["status_overrides-0-reason"] = "Human-derived: Annex II entry 416."
    return client.post(change_url(claim), data, follow=True)


def public_statement(client, claim):
    client.logout()
    page = client.get(claim.get_absolute_url())
    api = client.get(reverse("claims:api-claim", args=[claim.slug])).json()
    return page.content.decode(), api


# --- Pending revisions ------------------------------------------------------------------------


def test_it_keeps_an_editors_change_of_a_published_claim_pending(client, editor, published):
    response = edit_published_claim(login(client, editor), published)

    assert revisions.AWAITS_A_PUBLISHER in texts(response)
    live = Claim.objects.get(pk=published.pk)
    assert live.statement == "Exosomes heal acne scars."
    assert live.citations.get().title.startswith("Source 0")
    assert live.status_overrides.get().reason == "A disease claim makes this a drug."
    revision = ClaimRevision.objects.pending().get(claim=published)
    assert revision.created_by == editor
    assert revision.content["fields"]["statement"] == "Exosomes fade acne scars."


def test_it_shows_readers_only_the_published_version_meanwhile(client, editor, published):
    edit_published_claim(login(client, editor), published)

    page, api = public_statement(client, published)
    assert "Exosomes heal acne scars." in page
    assert "Exosomes fade acne scars." not in page
    assert "The real title" not in page
    assert api["statement"] == "Exosomes heal acne scars."
    export = b"".join(client.get(reverse("claims:export-csv")).streaming_content).decode()
    assert "heal acne scars" in export and "fade acne scars" not in export
    feed = client.get(reverse("claims:feed")).content.decode()
    assert "fade acne scars" not in feed
    assert client.get(reverse("claims:list"), {"q": "fade"}).context["page"].paginator.count == 0


def test_it_shows_the_editor_their_pending_text_when_they_reopen_the_form(
    client, editor, published
):
    edit_published_claim(login(client, editor), published)

    response = client.get(change_url(published))
    form = response.context["adminform"].form
    assert form["statement"].value() == "Exosomes fade acne scars."
    citations, overrides = (inline.formset for inline in response.context["inline_admin_formsets"])
    assert citations.forms[0]["title"].value() == "The real title"
    assert overrides.forms[0]["reason"].value() == "Human-derived: Annex II entry 416."
    assert "You are editing the change awaiting review" in response.content.decode()


def test_it_keeps_a_pending_new_citation_when_the_editor_saves_again(client, editor, published):
    login(client, editor)
    data = form_data(client.get(change_url(published)))
    data.update(
        {
            "citations-1-kind": "paper",
            "citations-1-title": "A second source",
            "citations-1-url": "https://example.org/second",
            "citations-1-accessed_on": "2026-11-20",
            "citations-1-position": "1",
        }
    )
    client.post(change_url(published), data)
    data = form_data(client.get(change_url(published)))
    data["title"] = "A better title"
    client.post(change_url(published), data)

    revision = ClaimRevision.objects.pending().get(claim=published)
    assert [row["title"] for row in revision.content["citations"]] == [
        "Source 0 for claim " + published.slug.split("-")[1],
        "A second source",
    ]
    assert revision.content["fields"]["title"] == "A better title"
    assert published.citations.count() == 1


def test_it_withdraws_the_pending_change_when_the_editor_undoes_it(client, editor, published):
    login(client, editor)
    edit_published_claim(client, published)
    data = form_data(client.get(change_url(published)))
    data["statement"] = published.statement
    data["citations-0-title"] = published.citations.get().title
    data["status_overrides-0-reason"] = published.status_overrides.get().reason

    response = client.post(change_url(published), data, follow=True)

    assert not ClaimRevision.objects.exists()
    assert "nothing awaits review" in " ".join(texts(response))


def test_it_tells_a_second_editor_the_claim_changed_under_them(
    client, editor, second_editor, published
):
    first, second = client, type(client)()
    login(first, editor)
    login(second, second_editor)
    stale = form_data(second.get(change_url(published)))
    edit_published_claim(first, published)

    stale["statement"] = "Exosomes cure acne."
    response = second.post(change_url(published), stale)

    assert response.status_code == 200
    assert "This changed while you were editing it: editor saved a change" in (
        response.content.decode()
    )
    revision = ClaimRevision.objects.pending().get(claim=published)
    assert revision.content["fields"]["statement"] == "Exosomes fade acne scars."
    assert revision.created_by == editor


def test_it_lets_the_second_editor_go_on_from_the_pending_text(
    client, editor, second_editor, published
):
    edit_published_claim(login(client, editor), published)
    login(client, second_editor)
    data = form_data(client.get(change_url(published)))
    assert data["statement"] == "Exosomes fade acne scars."
    data["outcome"] = "Fewer scars at 12 weeks."
    client.post(change_url(published), data)

    revision = ClaimRevision.objects.pending().get(claim=published)
    assert revision.content["fields"]["statement"] == "Exosomes fade acne scars."
    assert revision.content["fields"]["outcome"] == "Fewer scars at 12 weeks."
    assert revision.created_by == second_editor


def test_it_lets_editors_edit_drafts_live(client, editor, jurisdictions):
    draft = make_claim(published=False)
    login(client, editor)
    data = form_data(client.get(change_url(draft)))
    data["statement"] = "Rewritten."
    client.post(change_url(draft), data)

    assert Claim.objects.get(pk=draft.pk).statement == "Rewritten."
    assert not ClaimRevision.objects.exists()


def test_it_puts_a_publishers_own_edit_live_and_records_it_approved(client, publisher, published):
    login(client, publisher)
    data = form_data(client.get(change_url(published)))
    data["statement"] = "Exosomes soften acne scars."
    client.post(change_url(published), data)

    assert Claim.objects.get(pk=published.pk).statement == "Exosomes soften acne scars."
    revision = ClaimRevision.objects.get(claim=published)
    assert revision.state == ClaimRevision.State.APPROVED
    assert revision.created_by == revision.reviewed_by == publisher
    assert revision.summary == "statement"


def test_it_keeps_a_reverted_old_version_pending_too(client, editor, published):
    published.statement = "An old statement."
    published.save()
    old = published.history.order_by("history_id").last()
    published.statement = "Exosomes heal acne scars."
    published.save()
    login(client, editor)
    url = reverse("admin:claims_claim_simple_history", args=[published.pk, old.history_id])
    data = {
        key: value
        for key, value in form_data(client.get(url)).items()
        if not key.startswith(("citations", "status_overrides"))
    }
    client.post(url, data)

    assert Claim.objects.get(pk=published.pk).statement == "Exosomes heal acne scars."
    revision = ClaimRevision.objects.pending().get(claim=published)
    assert revision.content["fields"]["statement"] == "An old statement."
    assert len(revision.content["citations"]) == 1


# --- Statuses ---------------------------------------------------------------------------------


def test_it_keeps_an_editors_change_of_an_inherited_status_pending(client, editor, published, fda):
    status = RegulatoryStatus.objects.get(treatment=published.treatment, jurisdiction=fda)
    login(client, editor)
    data = form_data(client.get(status_url(status)))
    data["status"] = Status.INVESTIGATIONAL
    response = client.post(status_url(status), data, follow=True)

    assert revisions.AWAITS_A_PUBLISHER in texts(response)
    assert RegulatoryStatus.objects.get(pk=status.pk).status == Status.NOT_APPROVED
    (flag,) = Claim.objects.get(pk=published.pk).flags([fda])
    assert flag.status == Status.NOT_APPROVED
    revision = StatusRevision.objects.pending().get()
    assert revision.content["status"] == Status.INVESTIGATIONAL
    reopened = client.get(status_url(status)).context["adminform"].form
    assert reopened["status"].value() == Status.INVESTIGATIONAL


def test_it_lets_editors_change_statuses_no_public_claim_inherits(client, editor, fda):
    status = make_status(make_treatment(), fda, Status.UNKNOWN)
    login(client, editor)
    data = form_data(client.get(status_url(status)))
    data["status"] = Status.NOT_APPROVED
    client.post(status_url(status), data)

    assert RegulatoryStatus.objects.get(pk=status.pk).status == Status.NOT_APPROVED
    assert not StatusRevision.objects.exists()


def test_it_makes_the_treatments_inline_statuses_read_only_for_editors(client, editor, published):
    login(client, editor)
    response = client.get(reverse("admin:claims_treatment_change", args=[published.treatment_id]))
    (statuses,) = response.context["inline_admin_formsets"]
    assert not statuses.has_change_permission
    assert not statuses.has_add_permission
    assert not statuses.has_delete_permission


def test_it_asks_once_per_request_whether_the_treatments_statuses_wait_for_review(
    client, editor, published, monkeypatch
):
    asked = []

    def status_needs_review(treatment, user):
        asked.append(treatment.pk)
        return True

    monkeypatch.setattr(revisions, "status_needs_review", status_needs_review)
    login(client, editor)
    client.get(reverse("admin:claims_treatment_change", args=[published.treatment_id]))
    assert asked == [published.treatment_id]


def test_it_keeps_a_new_status_for_a_public_treatment_pending(client, editor, published, eu):
    treatment = published.treatment
    RegulatoryStatus.objects.filter(treatment=treatment, jurisdiction=eu).delete()
    login(client, editor)
    client.post(
        reverse("admin:claims_regulatorystatus_add"),
        {
            "treatment": treatment.pk,
            "jurisdiction": eu.pk,
            "status": Status.PROHIBITED,
            "explanation": "Annex II entry 416.",
            "source_url": "https://eur-lex.europa.eu/eli/reg/2009/1223/oj",
            "checked_on": "2026-11-30",
        },
    )

    assert not RegulatoryStatus.objects.filter(treatment=treatment, jurisdiction=eu).exists()
    revision = StatusRevision.objects.pending().get(treatment=treatment, jurisdiction=eu)
    assert [d.what for d in revision_content.revision_differences(revision)] == ["Status added"]


# --- Review -----------------------------------------------------------------------------------


def test_it_shows_the_queue_on_the_admin_index(client, editor, publisher, published, fda):
    edit_published_claim(login(client, editor), published)
    status = RegulatoryStatus.objects.get(treatment=published.treatment, jurisdiction=fda)
    revisions.propose_status_change(
        status.treatment,
        fda,
        {**revision_content.status_content(status), "status": "prohibited"},
        editor,
    )

    response = login(client, publisher).get(reverse("admin:index"))
    text = response.content.decode()
    assert "Awaiting review" in text
    assert "1 claim change<" in text
    assert "1 status change<" in text


def test_it_shows_the_publisher_a_field_by_field_diff(client, editor, publisher, published):
    edit_published_claim(login(client, editor), published)
    revision = ClaimRevision.objects.get()

    response = login(client, publisher).get(review_url(revision))

    rows = {(d.what, d.before, d.after) for d in response.context["differences"]}
    assert ("Statement", "Exosomes heal acne scars.", "Exosomes fade acne scars.") in rows
    citation_title = published.citations.get().title
    assert (f"Citation “{citation_title}”: Title", citation_title, "The real title") in rows
    assert (
        "Override “EU”: Reason",
        "A disease claim makes this a drug.",
        "Human-derived: Annex II entry 416.",
    ) in rows
    assert 'name="_approve"' in response.content.decode()


def test_it_makes_an_approved_change_live_everywhere(client, editor, publisher, published):
    edit_published_claim(login(client, editor), published)
    client.get(published.get_absolute_url())  # a cached page of the published version
    revision = ClaimRevision.objects.get()

    login(client, publisher).post(review_url(revision), {"_approve": "1", "review_note": "Good"})

    revision.refresh_from_db()
    assert revision.state == ClaimRevision.State.APPROVED
    assert revision.reviewed_by == publisher
    assert revision.summary == "statement, citations, flag overrides"
    live = Claim.objects.get(pk=published.pk)
    assert live.statement == "Exosomes fade acne scars."
    assert live.citations.get().title == "The real title"
    assert live.status_overrides.get().reason == "Human-derived: Annex II entry 416."
    assert live.history.first().history_user == publisher
    page, api = public_statement(client, published)
    assert "Exosomes fade acne scars." in page
    assert "approved by publisher" in page
    assert api["statement"] == "Exosomes fade acne scars."
    export = b"".join(client.get(reverse("claims:export-csv")).streaming_content).decode()
    assert "fade acne scars" in export and "heal acne scars" not in export
    feed = client.get(reverse("claims:feed")).content.decode()
    assert "corrected: statement, citations, flag overrides" in feed


def test_it_keeps_the_live_version_when_a_change_is_rejected(client, editor, publisher, published):
    edit_published_claim(login(client, editor), published)
    revision = ClaimRevision.objects.get()

    response = login(client, publisher).post(
        review_url(revision), {"_reject": "1", "review_note": "The article says heal."}
    )

    assert response.status_code == 302
    revision.refresh_from_db()
    assert revision.state == ClaimRevision.State.REJECTED
    assert Claim.objects.get(pk=published.pk).statement == "Exosomes heal acne scars."
    login(client, editor)
    form = client.get(change_url(published))
    assert "rejected by publisher" in form.content.decode()
    assert "The article says heal." in form.content.decode()
    assert form.context["adminform"].form["statement"].value() == "Exosomes heal acne scars."
    index = client.get(reverse("admin:index")).content.decode()
    assert "The article says heal." in index


def test_it_wants_a_note_to_reject(client, editor, publisher, published):
    edit_published_claim(login(client, editor), published)
    revision = ClaimRevision.objects.get()

    response = login(client, publisher).post(review_url(revision), {"_reject": "1"}, follow=True)

    assert "Say why you reject the change" in " ".join(texts(response))
    assert ClaimRevision.objects.get().is_pending()


def test_it_refuses_editors_a_decision(client, editor, published):
    edit_published_claim(login(client, editor), published)
    revision = ClaimRevision.objects.get()

    page = client.get(review_url(revision))
    assert page.status_code == 200
    assert 'name="_approve"' not in page.content.decode()
    response = client.post(review_url(revision), {"_approve": "1"})

    assert response.status_code == 403
    assert ClaimRevision.objects.get().is_pending()
    assert Claim.objects.get(pk=published.pk).statement == "Exosomes heal acne scars."


def test_it_approves_a_status_change_into_every_inheriting_flag(
    client, editor, publisher, published, fda
):
    status = RegulatoryStatus.objects.get(treatment=published.treatment, jurisdiction=fda)
    login(client, editor)
    data = form_data(client.get(status_url(status)))
    data["status"] = Status.INVESTIGATIONAL
    data["checked_on"] = "2026-11-30"
    client.post(status_url(status), data)
    revision = StatusRevision.objects.get()

    login(client, publisher).post(review_url(revision), {"_approve": "1"})

    status.refresh_from_db()
    assert status.status == Status.INVESTIGATIONAL
    assert status.checked_on == date(2026, 11, 30)
    client.logout()
    page = client.get(published.get_absolute_url()).content.decode()
    assert "FDA flag changed from not approved to investigational only" in page


def test_it_refuses_to_approve_twice(client, editor, publisher, published):
    edit_published_claim(login(client, editor), published)
    revision = ClaimRevision.objects.get()
    revisions.approve(revision, publisher)

    with pytest.raises(revisions.ValidationError, match="already approved"):
        revisions.approve(revision, publisher)


def test_it_offers_reviewers_nothing_to_add_or_delete(client, publisher):
    login(client, publisher)
    assert client.get(reverse("admin:claims_claimrevision_add")).status_code == 403
    assert ClaimStatusOverride.objects.count() == 0


# --- Imports ----------------------------------------------------------------------------------


def import_csv(client, model, header, rows, confirm=True):
    content = io.StringIO()
    writer = csv.writer(content)
    writer.writerow(header)
    writer.writerows(rows)
    previewed = client.post(
        reverse(f"admin:claims_{model}_import"),
        {"import_file": SimpleUploadedFile("rows.csv", content.getvalue().encode()), "format": 0},
    )
    if not confirm:
        return previewed
    form = previewed.context["confirm_form"]
    assert form is not None, previewed.context["result"].invalid_rows
    return client.post(
        reverse(f"admin:claims_{model}_process_import"),
        {name: form.initial.get(name, "") for name in form.fields},
        follow=True,
    )


CLAIM_HEADER = ["slug", "title", "statement", "clinic", "treatment"]


def claim_row(claim, **changes):
    row = {
        "slug": claim.slug,
        "title": claim.title,
        "statement": claim.statement,
        "clinic": claim.clinic.slug,
        "treatment": claim.treatment.slug,
        **changes,
    }
    return [row[column] for column in CLAIM_HEADER]


def test_it_marks_each_import_row_by_what_it_will_do(client, editor, published, jurisdictions):
    draft = make_claim(published=False)
    rows = [
        claim_row(published, title="A new title"),
        claim_row(draft, title="Another title"),
        claim_row(draft, slug="brand-new", title="Brand new"),
    ]

    previewed = import_csv(login(client, editor), "claim", CLAIM_HEADER, rows, confirm=False)

    text = previewed.content.decode()
    marks = ["updates a published claim (pending review)", "updates a draft", "new (a draft)"]
    assert [text.count(mark) for mark in marks] == [1, 1, 1]
    assert text.index(marks[0]) < text.index(marks[1]) < text.index(marks[2])


def test_it_keeps_an_imported_update_of_a_published_claim_pending(client, editor, published):
    import_csv(login(client, editor), "claim", CLAIM_HEADER, [claim_row(published, title="New")])

    assert Claim.objects.get(pk=published.pk).title == published.title
    revision = ClaimRevision.objects.pending().get(claim=published)
    assert revision.content["fields"]["title"] == "New"
    assert len(revision.content["citations"]) == 1


def test_it_puts_a_publishers_import_live(client, publisher, published):
    import_csv(login(client, publisher), "claim", CLAIM_HEADER, [claim_row(published, title="New")])

    assert Claim.objects.get(pk=published.pk).title == "New"


def test_it_keeps_an_imported_citation_of_a_published_claim_pending(client, editor, published):
    header = ["claim", "kind", "title", "url", "accessed_on"]
    row = [published.slug, "paper", "A new paper", "https://example.org/paper", "2026-11-30"]

    import_csv(login(client, editor), "citation", header, [row])

    assert published.citations.count() == 1
    revision = ClaimRevision.objects.pending().get(claim=published)
    assert [c["title"] for c in revision.content["citations"]][-1] == "A new paper"


def test_it_keeps_an_imported_status_change_pending(client, editor, published, fda):
    header = ["treatment", "jurisdiction", "status", "explanation", "checked_on"]
    row = [published.treatment.slug, "fda", "prohibited", "Banned.", "2026-12-01"]

    import_csv(login(client, editor), "regulatorystatus", header, [row])

    live = RegulatoryStatus.objects.get(treatment=published.treatment, jurisdiction=fda)
    assert live.status == Status.NOT_APPROVED
    assert StatusRevision.objects.pending().get().content["status"] == Status.PROHIBITED


def test_it_refuses_to_import_over_another_editors_pending_change(
    client, editor, second_editor, published
):
    edit_published_claim(login(client, editor), published)

    previewed = import_csv(
        login(client, second_editor),
        "claim",
        CLAIM_HEADER,
        [claim_row(published, title="Mine")],
        confirm=False,
    )

    (invalid,) = previewed.context["result"].invalid_rows
    assert "awaits review" in str(invalid.error_dict)


# --- Reference data ---------------------------------------------------------------------------


def test_it_lets_editors_fix_a_clinics_spelling_live(client, editor, published):
    clinic = published.clinic
    url = reverse("admin:claims_clinic_change", args=[clinic.pk])
    login(client, editor)
    data = form_data(client.get(url))
    data["name"] = "Glow Aesthetics Clinic"
    client.post(url, data)

    clinic.refresh_from_db()
    assert clinic.name == "Glow Aesthetics Clinic"
    client.logout()
    assert "Glow Aesthetics Clinic" in client.get(published.get_absolute_url()).text


def test_it_keeps_what_classifies_public_claims_for_publishers(
    client, editor, publisher, published
):
    url = reverse("admin:claims_treatment_change", args=[published.treatment_id])

    editors_form = login(client, editor).get(url).context["adminform"].form
    assert "route" not in editors_form.fields and "source" not in editors_form.fields
    assert "name" in editors_form.fields
    publishers_form = login(client, publisher).get(url).context["adminform"].form
    assert {"route", "source", "slug"} <= set(publishers_form.fields)


def test_it_refuses_an_editors_import_that_reroutes_a_public_treatment(client, editor, published):
    treatment = published.treatment
    header = ["slug", "name", "source", "route"]
    row = [treatment.slug, treatment.name, treatment.source.slug, "intradermal-injection"]

    previewed = import_csv(login(client, editor), "treatment", header, [row], confirm=False)

    (invalid,) = previewed.context["result"].invalid_rows
    assert "only a Publisher changes its route" in str(invalid.error_dict)


def test_it_logs_changes_and_their_review_in_the_claims_workflow_log(
    client, editor, publisher, published
):
    edit_published_claim(login(client, editor), published)
    revisions.reject(ClaimRevision.objects.get(), publisher, "Keep the article's words.")

    log = login(client, publisher).get(change_url(published)).content.decode()

    assert "editor · Change submitted for review" in log
    assert "publisher · Change rejected: Keep the article&#x27;s words." in log


def test_it_lists_approved_corrections_on_the_method_page(client, editor, publisher, published):
    edit_published_claim(login(client, editor), published)
    revisions.approve(ClaimRevision.objects.get(), publisher)

    client.logout()
    page = client.get(reverse("claims:method")).text

    assert f"{published.title}</a>: corrected statement, citations, flag overrides" in page
    assert "approved by publisher" in page


def test_it_shows_the_corrections_address_the_operator_sets(client, settings, db):
    settings.CORRECTIONS_EMAIL = "corrections@claimwatch.example"
    assert "mailto:corrections@claimwatch.example" in client.get(reverse("claims:method")).text


# --- Invariants -------------------------------------------------------------------------------


def test_it_refuses_two_pending_changes_of_one_claim_in_the_database(editor, published):
    content = revision_content.claim_content(published)
    ClaimRevision.objects.create(claim=published, content=content, created_by=editor)

    with pytest.raises(IntegrityError), transaction.atomic():
        ClaimRevision.objects.create(claim=published, content=content, created_by=editor)


def test_it_refuses_a_decided_change_without_its_time_in_the_database(editor, published, fda):
    with pytest.raises(IntegrityError), transaction.atomic():
        StatusRevision.objects.create(
            treatment=published.treatment,
            jurisdiction=fda,
            content={},
            state=StatusRevision.State.APPROVED,
        )
