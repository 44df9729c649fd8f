"""Shared fixtures: small factories for the curated models, and the personas the site serves."""

import itertools
from datetime import date

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.utils import timezone

from claims import data_version as versioning
from claims.data_version import database_failure, local_pages
from claims.models import (
    Citation,
    Claim,
    ClaimStatusOverride,
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

# Every model editors curate, by model name: the groups and history cover exactly these.
CURATED = [
    "conference",
    "presentation",
    "clinic",
    "exosomesource",
    "indication",
    "treatment",
    "evidencelevel",
    "jurisdiction",
    "regulatorystatus",
    "claim",
    "citation",
    "claimstatusoverride",
]

_numbers = itertools.count(1)

# --- Query budgets ---------------------------------------------------------------------------
# What a page may cost in SQL queries, whatever the page size and the data size: the one
# definition tests/test_query_counts.py (a few hundred claims) and tests/test_scale.py
# (thousands) both hold pages to.

# /claims/, filtered, searched or paged.
LIST_PAGE_QUERIES = 8
# The home page: its latest claims and its counts.
HOME_PAGE_QUERIES = 10
# Any page that lists claims (the list, the home page, a clinic's, treatment's or source's
# page) at benchmark scale, where searches and facets take their costliest plans.
ANY_LIST_PAGE_QUERIES = 12
# The claim, its indications, the jurisdictions, one UNION over its treatment's statuses and its
# overrides (Claim.flag_records), its citations, and one UNION over the history behind its
# public change log (claims.history.public_changes).
CLAIM_PAGE_QUERIES = 6


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch):
    """Each test starts with an empty cache. A rolled-back test bumps no data version, so a
    page it cached would otherwise answer the next test (claims/cache.py). Within a test the
    process's copy of the version does not expire: on a busy machine a test can outlast
    VERSION_CHECK_SECONDS, and its query counts would then depend on the clock."""
    monkeypatch.setattr(versioning, "VERSION_CHECK_SECONDS", 3600)
    cache.clear()
    local_pages.clear()
    database_failure.forget()


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
        # A lawful cosmetic is sold only to change appearance (a database constraint).
        "appearance_claim": status == Status.COSMETIC,
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
        # The state publishing leaves, without its checks: many tests publish claims whose
        # treatment has no status in some jurisdiction, as adding a jurisdiction after
        # publication leaves them. tests/test_workflow.py tests publishing itself.
        claim.state = Claim.State.PUBLISHED
        claim.published_at = claim.published_at or timezone.now()
        claim.save()
    return claim


def make_override(claim, jurisdiction, status, **fields):
    fields = {
        "reason": "A disease claim makes this a drug.",
        "source_url": "https://example.org/drug-or-cosmetic",
        "explanation": "Claimed to treat eczema.",
        "checked_on": date(2026, 11, 2),
        "appearance_claim": status == Status.COSMETIC,
        **fields,
    }
    return ClaimStatusOverride.objects.create(
        claim=claim, jurisdiction=jurisdiction, status=status, **fields
    )


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
def world(jurisdictions):
    """What imported claims point at, by slug (tests/test_import*.py)."""
    source = make_source(slug="placenta", name="Placenta")
    clinic = make_clinic(slug="glow", name="Glow Aesthetics")
    treatment = make_treatment(slug="placenta-shot", name="Placenta shot", source=source)
    for jurisdiction in jurisdictions:
        make_status(treatment, jurisdiction, Status.NOT_APPROVED)
    return {
        "clinic": clinic,
        "treatment": treatment,
        "level": make_evidence_level(code="case-series", name="Case series"),
        "acne": make_indication(slug="acne", name="Acne"),
        "scars": make_indication(slug="scars", name="Scars"),
    }


@pytest.fixture
def claim(jurisdictions):
    treatment = make_treatment()
    make_status(treatment, jurisdictions[0], Status.NOT_APPROVED)
    make_status(treatment, jurisdictions[1], Status.PROHIBITED)
    return make_claim(treatment=treatment)


def make_staff(username, password, group):
    user = User.objects.create_user(username, password=password, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def editor(db):
    return make_staff("editor", "pw-editor-123", "Editors")


@pytest.fixture
def publisher(db):
    return make_staff("publisher", "pw-publisher-123", "Publishers")


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("admin", password="pw-admin-123")


@pytest.fixture(scope="session", autouse=True)
def plain_http():
    """The tests speak plain HTTP (the test client, the live server on http://localhost), so
    production's redirect to HTTPS is off for them. Everything else stays as in production:
    tests/test_security.py checks the deployed settings in a subprocess."""
    from django.test import override_settings

    with override_settings(SECURE_SSL_REDIRECT=False):
        yield


# --- Real-browser fixtures (tests/test_browser.py) -------------------------------------------
# Imports stay inside the fixtures: Playwright is a dev-only dependency and this block should
# not reach into the factories above.

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _serve_nothing(application):
    """A live-server static handler that leaves /static/ to the app's own WhiteNoise."""
    return application


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, with static files served as in production.

    pytest-django wraps the server in staticfiles' StaticFilesHandler, which answers every
    /static/ request itself through the finders. The finders know `claims/site.js` but not the
    hashed `claims/site.<hash>.js` that CompressedManifestStaticFilesStorage writes into pages
    when DEBUG is off, so the script and the stylesheet 404 before WhiteNoise is reached. With
    the handler removed, WhiteNoise serves the collected files from STATIC_ROOT, as in
    production (pytest-django runs tests with DEBUG off, so WhiteNoise never uses finders)."""
    import os

    from pytest_django.live_server_helper import LiveServer

    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr, start=False)
    server.thread.static_handler = _serve_nothing
    server.start()
    yield server
    server.stop()


def _skip_or_fail(reason):
    """A missing browser skips locally but fails on CI, where it would hide every test."""
    import os

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run)")
    pytest.skip(reason)


def _fail_on_stale_static_files():
    """Pages get the collected copies from STATIC_ROOT: a forgotten collectstatic would test an
    old site.js, or (with manifest storage) break every page on a missing manifest entry."""
    from pathlib import Path

    from django.contrib.staticfiles import finders
    from django.contrib.staticfiles.storage import staticfiles_storage

    for name in ("claims/site.js", "claims/site.css", "claims/admin.css"):
        try:  # the hashed name under manifest storage (DEBUG off), else the name itself
            stored = getattr(staticfiles_storage, "stored_name", lambda name: name)(name)
        except ValueError:  # no manifest, or no entry in it
            stored = None
        collected = Path(staticfiles_storage.path(stored)) if stored else None
        source = Path(finders.find(name)).read_bytes()
        if not (collected and collected.exists() and collected.read_bytes() == source):
            pytest.fail(
                f"The collected {name} is missing or stale: run `DEBUG=0 SECRET_KEY=x "
                "python manage.py collectstatic --noinput` first (`make test` does)."
            )


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole session."""
    import os

    if not os.path.exists(CHROMIUM):
        _skip_or_fail(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("Playwright is not installed (pip install -e '.[dev]')")
    _fail_on_stale_static_files()
    # Playwright's sync API keeps an asyncio loop marked as running in this thread while the
    # browser lives, so Django would refuse ORM calls here (factories, the transactional_db
    # flush) with SynchronousOnlyOperation. Nothing in this thread runs concurrently with
    # that loop: the ORM calls are safe, and the live server has its own thread anyway.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser, live_server):
    """Makes browser contexts on the live server (kwargs go to `browser.new_context`).

    Each fails its test on a JavaScript error or an error response, such as a 404 for
    site.js."""
    contexts, problems = [], []

    def on_response(response):
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            problems.append(f"{response.status} {response.url}")

    def make(**options):
        options = {
            "base_url": live_server.url,
            "viewport": {"width": 1280, "height": 900},
            **options,
        }
        context = browser.new_context(**options)
        context.set_default_timeout(5_000)
        context.on("weberror", lambda error: problems.append(f"JavaScript: {error.error}"))
        context.on("response", on_response)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert problems == []


@pytest.fixture
def page(new_context):
    """A fresh page in its own context, 1280 px wide, with JavaScript on."""
    return new_context().new_page()
