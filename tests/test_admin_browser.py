"""The publishing flow in a real Chromium: a publisher signs in to the admin, publishes a claim
in review with the changelist's action, and readers then find it on its public page. Browser,
live server and page fixtures are in tests/conftest.py."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from claims.models import Claim, Status
from tests.conftest import make_claim, make_status, make_treatment

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
def publisher_login():
    user = User.objects.create_user("pat", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Publishers"))
    return user.username, PASSWORD


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
