"""Unknown parameters redirect to the canonical URL, the notice carried in a signed cookie that
neither the URL nor the shared cached page holds."""

import pytest
from django.core import signing
from django.urls import reverse

from claims.notices import NOTICES_CARRIED, NOTICES_COOKIE

pytestmark = pytest.mark.django_db
LIST = reverse("claims:list")
JUNK = f"{LIST}?fda=approvedd&foo=bar"
NOTICE = "Ignored fda status “approvedd”: nothing matches it."


def test_it_redirects_unknown_values_to_the_canonical_url(client, claim):
    response = client.get(JUNK)

    assert response.status_code == 302
    assert response.url == LIST
    assert NOTICE not in response.url
    # The redirect sets this visitor's cookie: no cache may keep it for another.
    assert response.cookies[NOTICES_COOKIE]["httponly"]
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


def test_it_shows_the_carried_notice_once_on_a_page_nobody_else_gets(client, claim):
    response = client.get(JUNK, follow=True)

    assert response.redirect_chain == [(LIST, 302)]
    assert NOTICE in response.text
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert response.cookies[NOTICES_COOKIE].value == ""  # spent

    again = client.get(LIST)
    assert again.status_code == 200
    assert NOTICE not in again.text
    assert "public" in again["Cache-Control"]


def test_it_keeps_the_canonical_page_cached_for_everyone_else(
    client, claim, django_assert_max_num_queries
):
    plain = client.get(LIST)
    carrying = client.get(JUNK, follow=True)
    assert NOTICE in carrying.text

    with django_assert_max_num_queries(1):  # the data version, at most: the page is cached
        cached = client.get(LIST)
    assert cached.content == plain.content
    assert NOTICE not in cached.text
    assert "public" in cached["Cache-Control"]


def test_it_bypasses_a_304_when_it_carries_notices(client, claim):
    first = client.get(LIST)
    client.get(JUNK)  # sets the cookie, not followed

    response = client.get(LIST, headers={"If-None-Match": first["ETag"]})

    assert response.status_code == 200
    assert NOTICE in response.text


def test_it_shows_a_notice_only_on_the_page_it_was_carried_to(client, claim):
    client.get(JUNK)

    other = client.get(f"{LIST}?sort=clinic")

    assert NOTICE not in other.text


def test_it_ignores_a_forged_or_unreadable_cookie(client, claim):
    forged = signing.dumps({"url": LIST, "notices": ["Send us your password"]}, salt="other")
    for value in [forged, "not signed", "%00"]:
        client.cookies[NOTICES_COOKIE] = value
        response = client.get(LIST)
        assert response.status_code == 200
        assert "password" not in response.text


def test_it_carries_a_bounded_number_of_notices(client, claim):
    query = "&".join(f"clinic=nope-{n}" for n in range(40))

    response = client.get(f"{LIST}?{query}")

    assert len(response.cookies[NOTICES_COOKIE].value) < 4000
    page = client.get(LIST)
    assert page.text.count("Ignored clinic") == NOTICES_CARRIED


def test_it_redirects_without_a_cookie_when_nothing_was_ignored(client, claim):
    response = client.get(f"{LIST}?foo=bar")

    assert response.status_code == 302
    assert response.url == LIST
    assert NOTICES_COOKIE not in response.cookies
    assert "public" in response["Cache-Control"]


def test_it_sends_the_home_page_with_parameters_to_the_plain_one(client, claim):
    response = client.get(reverse("claims:home") + "?foo=bar&fda=approvedd")

    assert response.status_code == 302
    assert response.url == reverse("claims:home")


def test_it_keeps_answering_the_api_with_notices_and_no_redirect(client, claim):
    response = client.get(reverse("claims:api-claims") + "?fda=approvedd&foo=bar")

    assert response.status_code == 200
    assert response.json()["notices"] == [NOTICE]
    assert NOTICES_COOKIE not in response.cookies
