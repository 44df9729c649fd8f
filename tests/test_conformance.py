"""The standards' own validators over the seeded site, not our assertions about ourselves: the
Nu HTML Checker (vnu) on every kind of public page, and axe-core's WCAG 2.1 A and AA rules
(with the best-practice set) in Chromium at 1280 and 375 px. Then the same validators, and the
no-sideways-scroll check, over the list pages of a few hundred generated claims: long names,
facets with many values, a second page, empty results.

The validators are npm packages pinned in tests/validators/package.json (`make validators`
installs them; `make test` does so when npm is there). Without them, or without Java for vnu,
these tests skip locally and fail on CI."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from claims.models import Claim, Clinic, ExosomeSource, Treatment
from tests.conftest import _skip_or_fail

VALIDATORS = Path(__file__).parent / "validators" / "node_modules"
VNU = VALIDATORS / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = VALIDATORS / "axe-core" / "axe.min.js"
SEED = Path(__file__).resolve().parent.parent / "fixtures" / "seed.json"
WIDTHS = [1280, 375]


def seed():
    """The seed, with its last claim retracted: a retracted page is a kind of page too."""
    call_command("loaddata", str(SEED), verbosity=0)
    Claim.objects.published().order_by("slug").last().retract(note="Retracted for the test.")


def public_paths():
    """One page of every kind readers reach, from the seed (see `seed`)."""
    claim = Claim.objects.published().order_by("slug").first()
    retracted = Claim.objects.filter(state=Claim.State.RETRACTED).order_by("slug").first()
    treatment = Treatment.objects.filter(claims__state="published").order_by("slug").first()
    return [
        reverse("claims:home"),
        reverse("claims:list"),
        f"{reverse('claims:list')}?route=intradermal-injection&fda=not-approved",
        f"{reverse('claims:list')}?q=exosomes",
        f"{reverse('claims:list')}?q=no-such-words-anywhere",
        claim.get_absolute_url(),
        retracted.get_absolute_url(),
        Clinic.objects.filter(claims__state="published")
        .order_by("slug")
        .first()
        .get_absolute_url(),
        treatment.get_absolute_url(),
        ExosomeSource.objects.filter(treatments=treatment).get().get_absolute_url(),
        reverse("claims:evidence"),
        reverse("claims:regulatory"),
        reverse("claims:method"),
        reverse("claims:safety"),
        reverse("claims:exosomes"),
        reverse("claims:api"),
        "/no-such-page/",
    ]


def require(path, what):
    if not path.exists():
        _skip_or_fail(f"{what} is not installed: run `make validators`")


# --- HTML -----------------------------------------------------------------------------------


def vnu_errors(client, paths, tmp_path):
    """The Nu HTML Checker's errors on each of `paths`, as "path:line: message"."""
    require(VNU, "The Nu HTML Checker (vnu-jar)")
    if shutil.which("java") is None:
        _skip_or_fail("Java is not installed (the Nu HTML Checker needs a JRE)")
    files = {}
    for number, path in enumerate(paths):
        response = client.get(path)
        assert response.status_code in {200, 404}, path
        file = tmp_path / f"page-{number}.html"
        file.write_bytes(response.content)
        files[file.name] = path

    checked = subprocess.run(
        ["java", "-jar", str(VNU), "--format", "json", "--exit-zero-always", tmp_path],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )

    messages = json.loads(checked.stderr or checked.stdout)["messages"]
    return [
        f"{files.get(Path(message.get('url', '')).name, message.get('url'))}:"
        f"{message.get('lastLine')}: {message['message']}"
        for message in messages
        if message["type"] in {"error", "non-document-error"}
    ]


@pytest.mark.django_db
def test_it_serves_html_the_nu_checker_finds_no_error_in(client, tmp_path):
    seed()
    assert vnu_errors(client, public_paths(), tmp_path) == []


# --- Accessibility ----------------------------------------------------------------------------


@pytest.fixture
def seeded_site(transactional_db):
    seed()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("width", WIDTHS)
def test_it_passes_axe_on_every_kind_of_page(seeded_site, new_context, width):
    page = new_context(viewport={"width": width, "height": 900}, bypass_csp=True).new_page()
    paths = [path for path in public_paths() if path != "/no-such-page/"]
    assert axe_violations(page, paths, width) == []


def axe_violations(page, paths, width):
    """axe-core's WCAG 2.1 A/AA and best-practice violations on each of `paths`."""
    require(AXE, "axe-core")
    source = AXE.read_text()
    found = []
    for path in paths:
        page.goto(path)
        # The site's CSP allows no inline or injected script, rightly: axe is the test's, not
        # ours (the page's context bypasses the CSP).
        page.add_script_tag(content=source)
        result = page.evaluate(
            """() => axe.run(document, {runOnly: {type: "tag",
                 values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})"""
        )
        found += [
            f"{path} @{width}px: {violation['id']} ({len(violation['nodes'])}×): "
            f"{violation['help']}"
            for violation in result["violations"]
        ]
    return found


# --- Layout on a phone ------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("width", WIDTHS)
def test_it_never_scrolls_sideways(seeded_site, new_context, width):
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    paths = [path for path in public_paths() if path != "/no-such-page/"]
    assert too_wide(page, paths, width) == {}


def too_wide(page, paths, width):
    """{path: its width} for each of `paths` wider than the window: it scrolls sideways."""
    found = {}
    for path in paths:
        page.goto(path)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            found[path] = scroll_width
    return found


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_shows_the_home_grid_as_lists_on_a_phone(seeded_site, new_context):
    page = new_context(viewport={"width": 375, "height": 800}).new_page()
    page.goto(reverse("claims:home"))

    assert not page.locator(".table-scroll").is_visible()
    fda_not_approved = page.get_by_role(
        "link", name="2 claims with case series evidence, FDA: not approved"
    )
    assert fda_not_approved.is_visible()


# --- A few hundred generated claims ------------------------------------------------------------

GENERATED = 300
LONG_NAME = "Synthetic clinic of " + "Supercalifragilisticexpialidocious" * 3 + " aesthetics"


def generated_paths():
    """The pages whose size grows with the data: the list with every facet full, an empty
    search (its facets counted without it), an empty filter, and a clinic with an unbroken
    100-letter name: its list, a claim and its page. Six, to keep the added time small."""
    clinic = Clinic.objects.get(name=LONG_NAME)
    claim = Claim.objects.published().filter(clinic=clinic).order_by("slug").first()
    return [
        reverse("claims:list"),
        f"{reverse('claims:list')}?q=hiar",
        f"{reverse('claims:list')}?q=no-such-words-anywhere&country=US",
        f"{reverse('claims:list')}?clinic={clinic.slug}",
        claim.get_absolute_url(),
        clinic.get_absolute_url(),
    ]


@pytest.fixture
def generated_site(transactional_db):
    call_command("generate_claims", "--count", str(GENERATED), "--seed", "1", verbosity=0)
    clinic = Claim.objects.published().order_by("slug").first().clinic
    clinic.name = LONG_NAME
    clinic.save()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_passes_the_validators_over_hundreds_of_generated_claims(
    generated_site, new_context, client, tmp_path
):
    # One test for all three checks: generating the claims is the costly part, done once.
    paths = generated_paths()
    assert vnu_errors(client, paths, tmp_path) == []
    for width in WIDTHS:
        page = new_context(viewport={"width": width, "height": 900}, bypass_csp=True).new_page()
        assert axe_violations(page, paths, width) == []
        assert too_wide(page, paths, width) == {}


# --- Favicon ----------------------------------------------------------------------------------


def test_it_serves_a_favicon_where_browsers_look_for_one(client):
    response = client.get("/favicon.ico", follow=True)

    [(icon_url, status)] = response.redirect_chain
    assert status == 302
    assert icon_url.startswith("/static/claims/favicon.") and icon_url.endswith(".svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"


@pytest.mark.django_db
def test_it_names_the_favicon_on_every_page(client):
    html = client.get(reverse("claims:evidence")).text

    assert '<link rel="icon" href="/static/claims/favicon.' in html
