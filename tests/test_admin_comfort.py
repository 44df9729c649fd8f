"""The admin made comfortable: it says Claimwatch, explains a refused page by role, offers only
the actions a user may run, finds rows by slug, writes history for people, offers a template
file for every import with what each column means, and the README's editor set-up runs as
written. How it fits 1280 px is in tests/test_admin_browser.py."""

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.urls import reverse

from claims.admin import ClaimAdmin, permission_denied
from claims.import_columns import describe_columns, importable, template_csv
from claims.models import Claim
from claims.reviewed_resources import CitationResource, ClaimResource
from tests.conftest import make_claim, make_clinic, make_evidence_level, make_treatment
from tests.test_admin import change, changelist, claim_form
from tests.test_import import as_csv, import_file, preview, row_errors

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent
# The importable changelists: claims.admin.BulkAdmin.
IMPORTABLE = ["claim", "citation", "clinic", "treatment", "regulatorystatus"]


def action_names(response):
    """The actions a changelist offers (none, and no action form, when it offers none)."""
    form = response.context["action_form"]
    if form is None:
        return set()
    return {name for name, _ in form.fields["action"].choices if name}


# --- Claimwatch, not Django -------------------------------------------------------------------


def test_it_says_claimwatch_not_django_administration(client, editor):
    client.force_login(editor)

    response = client.get(reverse("admin:index"))

    assert "Claimwatch" in response.text
    assert "<title>Curate claims and what they rely on | Claimwatch admin</title>" in response.text
    assert "Django administration" not in response.text
    assert "Django site admin" not in response.text


def test_it_loads_the_admin_stylesheet_after_djangos(client, editor):
    client.force_login(editor)

    text = client.get(changelist()).text

    # Hashed names under manifest storage: admin/css/responsive.<hash>.css.
    assert text.index("admin/css/responsive.") < text.index("claims/admin.")


# --- A refused page says what the role allows ---------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "role"), [("editor", "Editors (you)"), ("publisher", "Publishers (you)")]
)
def test_it_explains_a_refused_admin_page_by_role(client, request, persona, role):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse("admin:auth_user_changelist"))

    assert response.status_code == 403
    assert '<div id="site-name"><a href="/admin/">Claimwatch</a></div>' in response.text
    assert role in response.text
    for other in {"Editors", "Publishers", "Superusers"} - {role.split()[0]}:
        assert f"<strong>{other}</strong>" in response.text
    assert "manage users and groups" in response.text


def test_it_names_the_reason_a_move_was_refused(client, editor, claim):
    client.force_login(editor)

    response = client.post(change(claim), claim_form(claim, _publish="Save and publish"))

    assert response.status_code == 403
    assert "Editors (you)" in response.text
    assert Claim.objects.get(pk=claim.pk).title == claim.title


def test_it_says_a_staff_user_without_a_group_has_no_role_yet(client, db):
    user = User.objects.create_user("newcomer", password="pw-newcomer-123", is_staff=True)
    client.force_login(user)

    response = client.get(changelist())

    assert response.status_code == 403
    assert "It is in no group yet" in response.text


def test_it_keeps_djangos_403_outside_the_admin(db):
    request = RequestFactory().get("/claims/")

    response = permission_denied(request, exception=None)

    assert response.status_code == 403
    assert b"Claimwatch" not in response.content
    assert b"Editors" not in response.content


# --- The workflow buttons -----------------------------------------------------------------------


def test_it_styles_each_workflow_button_as_the_decision_it_is(client, publisher, claim):
    client.force_login(publisher)

    text = client.get(change(claim)).text

    bar = text[text.index('<div class="claim-actions">') :]
    assert 'name="_retract" class="workflow-retract"' in bar
    assert 'name="_publish"' not in bar  # already published
    assert 'name="_save"' in bar  # the usual buttons share the bar


def test_it_offers_a_publisher_the_decisions_on_a_claim_in_review(client, publisher, jurisdictions):
    claim = make_claim(published=False)
    claim.submit_for_review()
    client.force_login(publisher)

    text = client.get(change(claim)).text

    assert 'name="_publish" class="workflow-publish"' in text
    assert 'name="_send_back" class="workflow-send-back"' in text


# --- Only the actions a user may run --------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "actions"),
    [
        ("editor", {"submit_for_review"}),
        ("publisher", {"submit_for_review", "send_back", "publish", "retract"}),
        (
            "superuser",
            {"submit_for_review", "send_back", "publish", "retract", "delete_selected"},
        ),
    ],
)
def test_it_offers_each_persona_only_the_claim_actions_it_may_run(
    client, request, claim, persona, actions
):
    client.force_login(request.getfixturevalue(persona))

    assert action_names(client.get(changelist())) == actions


@pytest.mark.parametrize("model", ["citation", "claimstatusoverride"])
def test_it_offers_no_bulk_delete_of_rows_edited_in_their_claim(client, editor, claim, model):
    client.force_login(editor)

    response = client.get(changelist(model))

    assert "delete_selected" not in action_names(response)


def test_it_offers_every_action_only_with_its_permission(rf, editor, publisher):
    """Every registered admin, for the personas: an action offered is one they may run."""
    for user in (editor, publisher):
        request = rf.get("/")
        request.user = user
        for model_admin in admin.site._registry.values():
            for name, (func, _, _) in model_admin.get_actions(request).items():
                for permission in getattr(func, "allowed_permissions", ()):
                    check = getattr(model_admin, f"has_{permission}_permission")
                    assert check(request), (type(model_admin).__name__, name, user)
                if isinstance(model_admin, ClaimAdmin):
                    assert name != "delete_selected"


# --- Search by slug ------------------------------------------------------------------------------


def test_it_searches_slugs_in_every_slugged_model(db):
    for model, model_admin in admin.site._registry.items():
        if any(field.name == "slug" for field in model._meta.fields):
            assert "slug" in model_admin.search_fields, model.__name__


def test_it_finds_a_claim_and_a_clinic_by_slug(client, editor, jurisdictions):
    clinic = make_clinic(slug="glow-zq7", name="Glow Aesthetics")
    claim = make_claim(slug="placenta-zq7", title="Placenta shot erases scars", clinic=clinic)
    make_claim(slug="other", title="Something else")
    client.force_login(editor)

    claims = client.get(changelist(), {"q": "placenta-zq"}).context["cl"].result_list
    clinics = client.get(changelist("clinic"), {"q": "glow-zq"}).context["cl"].result_list

    assert list(claims) == [claim]
    assert list(clinics) == [clinic]


# --- History, for people --------------------------------------------------------------------------


def test_it_writes_history_with_readable_times_and_no_none(client, publisher, claim):
    client.force_login(publisher)  # a publisher's edit of a published claim goes live
    client.post(change(claim), claim_form(claim, last_reviewed_on="2026-11-03"))

    response = client.get(reverse("admin:claims_claim_history", args=[claim.pk]))

    assert response.status_code == 200
    assert ">None<" not in response.text.replace(" ", "").replace("\n", "")
    assert not re.search(r"None\s*</td>", response.text)
    # No stored forms of times: 2026-11-03, 2026-12-01 21:55:32.123+00:00.
    assert not re.search(r"\d{4}-\d\d-\d\d", response.text.split('id="change-history"')[1])
    assert "3 Nov 2026" in response.text
    assert "Updated at" not in response.text
    assert "—" in response.text  # the factory's row: nobody signed in, no reason given


# --- Import templates and what each column means --------------------------------------------------


@pytest.mark.parametrize("model", IMPORTABLE)
def test_it_offers_a_template_file_for_every_import(client, editor, model):
    client.force_login(editor)
    url = reverse(f"admin:claims_{model}_import_template")

    page = client.get(reverse(f"admin:claims_{model}_import"))
    response = client.get(url)

    assert url in page.text
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    (header,) = list(csv.reader(io.StringIO(response.content.decode())))
    resource = admin.site._registry[apps.get_model("claims", model)].import_resource()
    assert header == [field.column_name for field in importable(resource)]
    assert "review" not in header  # the preview's own column, which no file holds


def test_it_keeps_the_template_from_those_who_may_not_import(client, db, claim):
    viewer = User.objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    client.force_login(viewer)

    response = client.get(reverse("admin:claims_claim_import_template"))

    assert response.status_code == 403


def test_it_sends_anonymous_visitors_from_the_template_to_the_login_page(client, db):
    response = client.get(reverse("admin:claims_claim_import_template"))

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_it_says_what_each_claim_column_holds(client, editor):
    client.force_login(editor)

    response = client.get(reverse("admin:claims_claim_import"))

    columns = {column.name: column for column in response.context["import_columns"]}
    assert list(columns) == [field.column_name for field in importable(ClaimResource())]
    assert columns["slug"].required
    assert "updates" in columns["slug"].meaning
    assert columns["title"].meaning == "Short, neutral summary of the claim."
    assert columns["clinic"].required
    assert not columns["outcome"].required
    assert "code" in columns["evidence_level"].meaning
    assert "separated by “;”" in columns["indications"].meaning
    assert "YYYY-MM-DD" in columns["made_on"].meaning
    for column in columns.values():
        assert f"<code>{column.name}</code>" in response.text
    # How a claim's citations follow it.
    assert reverse("admin:claims_citation_import") in response.text


def test_it_says_what_each_citation_column_holds(db):
    columns = {column.name: column for column in describe_columns(CitationResource())}

    assert "The claim's slug." in columns["claim"].meaning
    assert "with url" in columns["claim"].meaning
    assert "paper (Paper)" in columns["kind"].meaning
    assert columns["url"].required
    assert not columns["publisher"].required


def test_it_imports_claims_then_their_citations_from_the_templates(client, editor, jurisdictions):
    """The two templates, filled in, make a claim that can be published."""
    make_clinic(slug="glow")
    make_treatment(slug="placenta-shot")
    make_evidence_level(code="case-series")
    client.force_login(editor)
    claim_header = next(csv.reader([template_csv(ClaimResource())]))
    citation_header = next(csv.reader([template_csv(CitationResource())]))
    claim_row = {"slug": "one", "title": "One", "statement": "Said.", "clinic": "glow"}
    claim_row |= {"treatment": "placenta-shot", "evidence_level": "case-series"}
    citation_row = {"claim": "one", "kind": "paper", "title": "A trial"}
    citation_row |= {"url": "https://example.org/trial", "accessed_on": "2026-11-01"}

    imported = import_file(
        client, as_csv(claim_header, [[claim_row.get(c, "") for c in claim_header]])
    )
    assert reverse("admin:claims_citation_import") in imported.text  # the next step
    rows = [[citation_row.get(c, "") for c in citation_header]]
    previewed = preview(client, as_csv(citation_header, rows), model="citation")
    assert row_errors(previewed) == {}
    import_file(client, as_csv(citation_header, rows), model="citation")

    claim = Claim.objects.get(slug="one")
    assert claim.state == Claim.State.DRAFT
    assert [c.accessed_on for c in claim.citations.all()] == [date(2026, 11, 1)]


# --- The README's set-up, as written ------------------------------------------------------------


def readme_commands():
    readme = (BASE_DIR / "README.md").read_text()
    for block in re.findall(r"```sh\n(.*?)```", readme, flags=re.DOTALL):
        for line in block.splitlines():
            command = line.split("#")[0].strip()
            if command:
                yield command


def test_it_documents_the_first_editor_with_a_make_target():
    makefile = (BASE_DIR / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))
    commands = list(readme_commands())

    assert "make superuser" in commands
    for command in commands:
        if command.startswith("make "):
            assert command.split()[1] in targets, command
        else:
            # Run as written on a fresh clone: nothing that needs a SECRET_KEY by hand.
            assert "manage.py" not in command, command
    assert re.search(
        r"^superuser: migrate\n\tDEBUG=\$\$\{DEBUG:-1\} .*createsuperuser", makefile, re.M
    )
