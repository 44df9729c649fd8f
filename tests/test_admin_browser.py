"""The publishing flow in a real Chromium: a publisher signs in to the admin, publishes a claim
in review with the changelist's action, and readers then find it on its public page. Browser,
live server and page fixtures are in tests/conftest.py."""

import importlib

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from claims.models import Claim, Status
from tests.conftest import make_claim, make_staff, make_status, make_treatment

# Transactional (the live server reads the data from another thread), with the database as the
# migrations left it restored first: an earlier transactional test's flush would have taken the
# groups the data migrations made.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "pw-publisher-123"


@pytest.fixture
def in_review(fda, eu):
    treatment = make_treatment(name="Placenta shot")
    make_status(treatment, fda, Status.NOT_APPROVED)
    make_status(treatment, eu, Status.PROHIBITED)
    claim = make_claim(published=False, treatment=treatment, title="Placenta shot erases scars")
    claim.submit_for_review()
    return claim


@pytest.fixture
def groups(db):
    """The Editors and Publishers groups as the data migrations make them. After an earlier
    transactional test in the same run they can be gone despite the serialized rollback, so
    they are made again, by the migrations' own functions, when missing."""
    if Group.objects.filter(name__in=["Editors", "Publishers"]).count() == 2:
        return
    state = MigrationLoader(connection).project_state(("claims", "0006_revisions")).apps
    for name, function in [
        ("0002_editors_group", "create_editors"),
        ("0004_publishers_group", "create_publishers"),
        ("0006_revisions", "grant_review"),
    ]:
        getattr(importlib.import_module(f"claims.migrations.{name}"), function)(state, None)


@pytest.fixture
def publisher_login(groups):
    return make_staff("pat", PASSWORD, "Publishers").username, PASSWORD


def test_a_publisher_publishes_a_claim_that_readers_then_see(
    client, new_context, in_review, publisher_login
):
    assert client.get(in_review.get_absolute_url()).status_code == 404
    admin = new_context().new_page()
    username, password = publisher_login

    admin.goto(reverse("admin:claims_claim_changelist"))
    admin.get_by_label("Username:").fill(username)
    admin.get_by_label("Password:").fill(password)
    admin.get_by_role("button", name="Log in").click()
    admin.wait_for_url(f"**{reverse('admin:claims_claim_changelist')}")
    row = admin.get_by_role("row").filter(has_text=in_review.title)
    assert "In review" in row.inner_text()
    row.get_by_role("checkbox").check()
    admin.get_by_role("combobox", name="Action").select_option(label="Publish selected claims")
    admin.get_by_role("button", name="Go").click()

    assert admin.locator(".messagelist .success").inner_text() == "Published 1 claim."
    assert "Published" in admin.get_by_role("row").filter(has_text=in_review.title).inner_text()
    assert Claim.objects.get(pk=in_review.pk).is_published()

    reader = new_context().new_page()
    reader.goto(in_review.get_absolute_url())
    assert reader.get_by_role("heading", level=1).inner_text() == "Placenta shot erases scars"
    assert reader.locator(".notice--draft").count() == 0


EDITOR_PASSWORD = "pw-editor-123"


def sign_in(page, path, username, password):
    page.goto(path)
    page.get_by_label("Username:").fill(username)
    page.get_by_label("Password:").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{path}")


def test_an_editors_change_waits_until_a_publisher_approves_it(
    client, new_context, in_review, publisher_login
):
    in_review.publish()
    make_staff("eddie", EDITOR_PASSWORD, "Editors")
    change = reverse("admin:claims_claim_change", args=[in_review.pk])

    editing = new_context().new_page()
    sign_in(editing, change, "eddie", EDITOR_PASSWORD)
    editing.get_by_label("Statement:").fill("Placenta shots fade some scars.")
    editing.get_by_role("button", name="Save", exact=True).click()
    assert "Your changes await a Publisher" in editing.locator(".messagelist .success").inner_text()
    assert editing.get_by_label("Statement:").input_value() == "Placenta shots fade some scars."

    reader = new_context().new_page()
    reader.goto(in_review.get_absolute_url())
    assert "Placenta shots fade some scars." not in reader.content()

    reviewing = new_context().new_page()
    username, password = publisher_login
    sign_in(reviewing, reverse("admin:index"), username, password)
    reviewing.get_by_role("link", name="1 claim change").click()
    reviewing.get_by_role("link", name=f"Change to “{in_review.title}”").click()
    diff = reviewing.locator("table.review-diff")
    assert "Placenta shots fade some scars." in diff.inner_text()
    reviewing.get_by_label("Note").fill("Matches the article.")
    reviewing.get_by_role("button", name="Approve: readers see it now").click()
    assert "Approved" in reviewing.locator(".messagelist .success").inner_text()

    reader = new_context().new_page()  # the first one may keep its copy for PAGE_MAX_AGE
    reader.goto(in_review.get_absolute_url())
    assert "Placenta shots fade some scars." in reader.content()
    assert "approved by pat" in reader.content()
