"""The public claim list in a real Chromium: filtering without reloads, canonical shareable
URLs, chips, pagination, keyboard use, the no-JavaScript fallback, history, small screens and
the copy-link button. Data is made with the factories; the browser runs on the live server."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from claims.models import Claim, Origin, Route, SourceCategory, Status
from claims.paging import PAGE_SIZE
from tests.conftest import (
    make_claim,
    make_clinic,
    make_evidence_level,
    make_source,
    make_status,
    make_treatment,
)

pytestmark = pytest.mark.browser
LIST = reverse("claims:list")
FILTERED = f"{LIST}?route=intradermal-injection&fda=not-approved"
DAY_ONE = datetime(2026, 10, 1, 9, tzinfo=UTC)


@pytest.fixture
def catalogue(fda, eu):
    """Five published claims, newest first: three injected (two of them not approved by the
    FDA, one investigational) and two cosmetic serums."""
    placenta = make_source(
        slug="placenta", name="Placenta", category=SourceCategory.HUMAN_PERINATAL
    )
    rose = make_source(slug="rose", name="Rose", category=SourceCategory.PLANT, origin=Origin.PLANT)
    injected = make_treatment(
        slug="placenta-shot", source=placenta, route=Route.INTRADERMAL_INJECTION
    )
    trial = make_treatment(slug="trial-shot", source=placenta, route=Route.INTRADERMAL_INJECTION)
    serum = make_treatment(slug="rose-serum", source=rose, route=Route.TOPICAL_INTACT_SKIN)
    for treatment, status in [
        (injected, Status.NOT_APPROVED),
        (trial, Status.INVESTIGATIONAL),
        (serum, Status.COSMETIC),
    ]:
        make_status(treatment, fda, status)
        make_status(treatment, eu, status)
    level = make_evidence_level(code="case-series", name="Case series", rank=5)
    london = make_clinic(slug="london", name="London clinic", country="GB")
    manila = make_clinic(slug="manila", name="Manila clinic", country="PH")
    rows = [
        ("Placenta injection erases acne scars", injected, london),
        ("Placenta injection reverses wrinkles", injected, manila),
        ("Trial injection regrows hair", trial, london),
        ("Rose serum brightens skin", serum, london),
        ("Rose serum calms rosacea", serum, manila),
    ]
    for age, (title, treatment, clinic) in enumerate(rows):
        make_claim(
            title=title,
            treatment=treatment,
            clinic=clinic,
            evidence_level=level,
            published_at=DAY_ONE - timedelta(days=age),
        )


ALL_TITLES = [
    "Placenta injection erases acne scars",
    "Placenta injection reverses wrinkles",
    "Trial injection regrows hair",
    "Rose serum brightens skin",
    "Rose serum calms rosacea",
]
INJECTED_TITLES = ALL_TITLES[:3]
NOT_APPROVED_INJECTED_TITLES = ALL_TITLES[:2]
FILTERED_SUMMARY = "2 claims · intradermal injection · FDA: not approved"


def summary(page):
    return page.inner_text("#results-heading").strip()


def titles(page):
    return [text.strip() for text in page.locator(".claim-card__title").all_inner_texts()]


def path_of(url):
    """A URL without scheme and host, e.g. /claims/?route=…"""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def path(page):
    return path_of(page.url)


def wait_for_path(page, expected):
    page.wait_for_url(lambda url: path_of(url) == expected)


def wait_for_summary(page, text):
    # A locator, not wait_for_function: the site's CSP forbids the eval that one needs.
    page.get_by_role("heading", level=1, name=text, exact=True).wait_for()


def mark_document(page):
    """Set a marker that only survives while the document is not reloaded."""
    page.evaluate("window.__noReload = true")


def document_was_kept(page):
    return page.evaluate("window.__noReload === true")


def pick_route_then_fda(page):
    page.goto(LIST)
    page.locator("#f-route-intradermal-injection").click()
    wait_for_path(page, f"{LIST}?route=intradermal-injection")
    page.locator("#f-fda-not-approved").click()
    wait_for_path(page, FILTERED)


def test_it_filters_in_place_and_puts_the_canonical_url_in_the_address_bar(page, catalogue):
    page.goto(LIST)
    mark_document(page)
    assert summary(page) == "5 claims"
    assert titles(page) == ALL_TITLES

    page.locator("#f-route-intradermal-injection").click()
    wait_for_path(page, f"{LIST}?route=intradermal-injection")
    assert summary(page) == "3 claims · intradermal injection"
    assert titles(page) == INJECTED_TITLES

    page.locator("#f-fda-not-approved").click()
    wait_for_path(page, FILTERED)
    assert path(page) == FILTERED
    assert summary(page) == FILTERED_SUMMARY
    assert titles(page) == NOT_APPROVED_INJECTED_TITLES
    assert page.locator("#f-route-intradermal-injection").is_checked()
    assert page.locator("#f-fda-not-approved").is_checked()
    assert page.title() == f"{FILTERED_SUMMARY} · Claimwatch"
    assert document_was_kept(page)


def test_it_keeps_both_filters_when_ticked_in_quick_succession(page, catalogue):
    # The first answer is held back, so the second tick lands while the first is loading.
    page.add_init_script(
        """const realFetch = window.fetch;
        let calls = 0;
        window.fetch = (...args) => {
          const delay = ++calls === 1 ? 600 : 0;
          return realFetch(...args).then((r) => new Promise((ok) => setTimeout(ok, delay, r)));
        };"""
    )
    page.goto(LIST)

    page.locator("#f-route-intradermal-injection").click()
    page.locator("#f-fda-not-approved").click()
    wait_for_path(page, FILTERED)
    page.wait_for_timeout(800)  # the held-back first answer arrives, and must be ignored

    assert path(page) == FILTERED
    assert summary(page) == FILTERED_SUMMARY
    assert titles(page) == NOT_APPROVED_INJECTED_TITLES
    assert page.locator("#f-route-intradermal-injection").is_checked()
    assert page.locator("#f-fda-not-approved").is_checked()


def test_it_shows_the_same_list_when_the_url_is_opened_elsewhere(page, new_context, catalogue):
    pick_route_then_fda(page)
    picked = (summary(page), titles(page), page.inner_text("#filters"))

    shared = new_context().new_page()
    response = shared.goto(path(page))

    assert response.status == 200
    assert response.request.redirected_from is None  # already canonical
    assert path(shared) == FILTERED
    assert (summary(shared), titles(shared), shared.inner_text("#filters")) == picked
    assert shared.inner_text("#facet-route").startswith("Route\nIntradermal injection")


def test_it_drops_a_filter_when_its_chip_is_removed(page, catalogue):
    page.goto(FILTERED)
    mark_document(page)

    page.get_by_role("link", name="Remove filter FDA status: Not approved").click()
    wait_for_path(page, f"{LIST}?route=intradermal-injection")

    assert summary(page) == "3 claims · intradermal injection"
    assert titles(page) == INJECTED_TITLES
    assert (
        page.locator(".chips .chip").all_inner_texts()[0].startswith("Route: Intradermal injection")
    )
    assert page.get_by_role("link", name="Remove filter FDA status: Not approved").count() == 0
    assert not page.locator("#f-fda-not-approved").is_checked()
    assert document_was_kept(page)


@pytest.fixture
def many_injections(fda, eu):
    """PAGE_SIZE + 2 not-approved injected claims, numbered oldest first, and a serum."""
    injected = make_treatment(slug="shot", route=Route.INTRADERMAL_INJECTION)
    serum = make_treatment(slug="serum", route=Route.TOPICAL_INTACT_SKIN)
    for treatment in (injected, serum):
        make_status(treatment, fda, Status.NOT_APPROVED)
        make_status(treatment, eu, Status.NOT_APPROVED)
    clinic, level = make_clinic(), make_evidence_level()
    for number in range(1, PAGE_SIZE + 3):
        make_claim(
            title=f"Injection claim {number:02}",
            treatment=injected,
            clinic=clinic,
            evidence_level=level,
            published_at=DAY_ONE + timedelta(days=number),
        )
    make_claim(title="Serum claim", treatment=serum, clinic=clinic, evidence_level=level)


def test_it_keeps_the_filters_when_paginating(page, many_injections):
    page.goto(FILTERED)
    first_page = titles(page)
    assert len(first_page) == PAGE_SIZE
    assert first_page[0] == f"Injection claim {PAGE_SIZE + 2}"

    page.get_by_role("link", name="Next →").click()
    wait_for_path(page, f"{FILTERED}&page=2")

    assert summary(page) == f"{PAGE_SIZE + 2} claims · intradermal injection · FDA: not approved"
    assert titles(page) == ["Injection claim 02", "Injection claim 01"]
    assert not set(titles(page)) & set(first_page)
    assert "Serum claim" not in titles(page)


def test_it_can_be_filtered_with_the_keyboard_alone(page, catalogue):
    page.goto(LIST)
    first_checkbox = page.locator("#filters input[type=checkbox]").first.get_attribute("id")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "checkbox":
            break
    assert page.evaluate("document.activeElement.id") == first_checkbox == "f-clinic-london"

    page.keyboard.press("Space")
    wait_for_path(page, f"{LIST}?clinic=london")
    assert summary(page) == "3 claims · London clinic"
    assert page.evaluate("document.activeElement.id") == "f-clinic-london"
    assert page.locator("#f-clinic-london").is_checked()

    page.keyboard.press("Space")
    wait_for_path(page, LIST)
    assert summary(page) == "5 claims"
    assert page.evaluate("document.activeElement.id") == "f-clinic-london"

    page.keyboard.press("Shift+Tab")  # the Search button
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "id_q"
    page.keyboard.type("serum")
    page.keyboard.press("Enter")
    wait_for_path(page, f"{LIST}?q=serum")
    assert summary(page) == "2 claims · matching “serum”"
    assert sorted(titles(page)) == ["Rose serum brightens skin", "Rose serum calms rosacea"]


def test_it_filters_with_javascript_off(new_context, catalogue):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(LIST)
    assert not page.locator("[data-copy-link]").is_visible()  # it needs JavaScript

    page.locator("#f-route-intradermal-injection").check()
    page.locator("#f-fda-not-approved").check()
    page.get_by_role("button", name="Apply filters").click()
    wait_for_path(page, FILTERED)

    assert summary(page) == FILTERED_SUMMARY
    assert titles(page) == NOT_APPROVED_INJECTED_TITLES


def test_it_restores_the_previous_filters_on_back(page, catalogue):
    pick_route_then_fda(page)
    mark_document(page)

    page.go_back()
    wait_for_path(page, f"{LIST}?route=intradermal-injection")
    wait_for_summary(page, "3 claims · intradermal injection")
    assert summary(page) == "3 claims · intradermal injection"
    assert titles(page) == INJECTED_TITLES
    assert not page.locator("#f-fda-not-approved").is_checked()

    page.go_back()
    wait_for_path(page, LIST)
    wait_for_summary(page, "5 claims")
    assert titles(page) == ALL_TITLES
    assert document_was_kept(page)


@pytest.mark.parametrize("width", [1280, 375])
def test_it_renders_the_filtered_list_on_wide_and_narrow_screens(
    new_context, catalogue, tmp_path, width
):
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    page.goto(FILTERED)
    screenshot = tmp_path / f"claims-{width}.png"

    page.screenshot(path=screenshot, full_page=True)

    assert screenshot.stat().st_size > 0
    assert summary(page) == FILTERED_SUMMARY
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    filters_open = page.locator("details[data-collapse-on-small]").evaluate("panel => panel.open")
    assert filters_open == (width > 375)  # folded away on phones so results come first


def test_it_copies_the_current_url(new_context, live_server, catalogue):
    context = new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.goto(FILTERED)
    button = page.get_by_role("button", name="Copy link")

    assert button.is_visible()
    button.click()
    page.get_by_role("button", name="Link copied").wait_for()

    assert page.evaluate("navigator.clipboard.readText()") == live_server.url + FILTERED


def test_it_lets_keyboard_users_skip_to_the_results_and_to_the_filters(page, catalogue):
    page.goto(LIST)
    names = []
    for _ in range(3):
        page.keyboard.press("Tab")
        names.append(page.evaluate("document.activeElement.textContent").strip())
    assert names == ["Skip to content", "Skip to results", "Skip to filters"]

    page.keyboard.press("Shift+Tab")
    assert page.get_by_role("link", name="Skip to results").is_visible()  # shown on focus
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "results-heading"

    page.goto(LIST)
    for _ in range(3):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to filters"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_q"  # the first filter


def test_it_explains_the_flags_without_a_hover(page, catalogue):
    page.goto(LIST)
    legend = page.locator(".flag-legend")

    legend.get_by_text("What the flags on this page mean").click()  # a tap or Enter, no hover

    assert legend.get_by_text("Not approved", exact=True).is_visible()
    assert legend.get_by_text(str(Status.NOT_APPROVED.meaning)).is_visible()
    assert legend.get_by_role("link").get_attribute("href") == reverse("claims:regulatory")


def test_it_copies_a_claim_pages_canonical_url(new_context, live_server, catalogue):
    claim = Claim.objects.get(title="Rose serum calms rosacea")
    context = new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.goto(claim.get_absolute_url() + "?utm_source=newsletter")
    button = page.get_by_role("button", name="Copy link")

    assert button.is_visible()
    button.click()
    page.get_by_role("button", name="Link copied").wait_for()

    assert page.evaluate("navigator.clipboard.readText()") == (
        live_server.url + claim.get_absolute_url()
    )


def test_it_keeps_the_facets_and_the_active_filters_on_an_empty_result(page, catalogue):
    page.goto(f"{LIST}?q=nothing-matches-this&route=topical-intact-skin")

    assert summary(page).startswith("0 claims")
    chips = page.get_by_role("list", name="Active filters")
    assert chips.get_by_role("link", name="Remove filter").count() == 2  # the search, the route
    assert chips.get_by_role("link", name="Remove filter").first.is_visible()
    assert page.locator("#facet-route").is_visible()
    assert page.locator("#f-route-topical-intact-skin").is_checked()  # untick it from here
    clinics = page.locator("#facet-clinic")
    assert clinics.is_visible()
    # Counted without the search: where the claims under the other filters are.
    assert page.get_by_text("The counts below leave the search out").is_visible()
    assert clinics.get_by_label("London clinic").is_visible()
    assert clinics.get_by_label("Manila clinic").is_visible()
