"""Hostile input: arbitrary query strings against every public URL, editors' text that tries to
break out of its markup, oversized requests, absurd page numbers and bad admin form values.

The public URLs are read from the URLconf, so a new endpoint is fuzzed without touching this
file, or, if it takes arguments, fails `test_it_knows_how_to_reach_every_public_url` until
ARGUMENTS says how to fill them."""

import csv
import io
import json
import re
from urllib.parse import quote, quote_plus, urlsplit
from xml.etree import ElementTree

import pytest
from django.conf import settings as django_settings
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils.html import escape
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from claims.models import Claim, Clinic, Conference, Status
from claims.schema_org import short_claim
from claims.sitemaps import SITEMAPS
from tests.conftest import make_claim, make_clinic, make_status, make_treatment

pytestmark = pytest.mark.django_db

# --- Every public URL --------------------------------------------------------------------------

# How to fill the arguments of each public URL that takes some, from the `world` fixture.
ARGUMENTS = {
    "claims:detail": lambda world: [[world.slug]],
    "claims:api-claim": lambda world: [[world.slug]],
    "claims:clinic": lambda world: [[world.clinic.slug]],
    "claims:treatment": lambda world: [[world.treatment.slug]],
    "claims:source": lambda world: [[world.treatment.source.slug]],
    "sitemap-section": lambda world: [[section] for section in SITEMAPS],
}
# Public pages outside the URLconf's own names.
EXTRA = ["admin:login"]


def route_names(patterns=None, namespace=""):
    """The name of every URL in the URLconf, the admin's apart (it is not public)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from route_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}" if pattern.name else str(pattern.pattern)


PUBLIC_ROUTES = sorted(set(route_names())) + EXTRA


def paths_for(name, world):
    if name in ARGUMENTS:
        return [reverse(name, args=args) for args in ARGUMENTS[name](world)]
    return [reverse(name)]


class World:
    """One claim of each kind a page can show, its clinic and treatment, and a slug."""

    def __init__(self, claim):
        self.claim = claim
        self.slug = claim.slug
        self.clinic = claim.clinic
        self.treatment = claim.treatment


@pytest.fixture
def world(claim):
    make_claim(published=False)
    retracted = make_claim()
    retracted.retract()
    return World(claim)


def test_it_knows_how_to_reach_every_public_url(world):
    unreachable = []
    for name in PUBLIC_ROUTES:
        try:
            paths_for(name, world)
        except NoReverseMatch:
            unreachable.append(name)
    assert unreachable == [], "Add these URLs to ARGUMENTS in tests/test_hostile_input.py"


# --- Hostile query strings -------------------------------------------------------------------

MARKER = "<hx-"  # never written by the site: seen raw in a page, it was reflected unescaped
INJECTIONS = [
    "<hx-script>alert(1)</hx-script>",
    '"><hx-img src=x onerror=alert(1)>',
    "'><hx-svg onload=alert(1)>",
    "</script><hx-script>alert(1)</hx-script>",
    "</title><hx-b>",
    "' OR '1'='1",
    '" OR ""="',
    "1; DROP TABLE claims_claim; --",
    "%' UNION SELECT NULL, NULL--",
    "\\",
    "\x00",
    "a\x00b",
    "\r\nSet-Cookie: hx=1",
    "javascript:alert(1)",
    "{{ 7|add:7 }}{% debug %}",
    "../../../../etc/passwd",
    "-1",
    "0",
    "99999999999999999999999999",
    "1e308",
    "NaN",
    "１２",
    "&",
    "=",
    "#",
    "+",
    "\u202e\u200b\ufeff",
    "𝕮𝖑𝖆𝖎𝖒" * 20,
]
KNOWN_PARAMS = [
    "q",
    "page",
    "sort",
    "clinic",
    "country",
    "treatment",
    "route",
    "origin",
    "source",
    "indication",
    "evidence",
    "conference",
    "presentation",
    "fda",
    "eu",
    "format",
    "next",
    "p",
]
MALFORMED = ["%", "%%", "%G1", "%E9", "%C3%28", "%ff%fe", "%00", "%u0041", "%2", "&&", "==", ";"]

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(INJECTIONS),
    st.integers().map(str),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=1500),
)
# How a piece is written on the wire: percent-encoded, form-encoded, or raw UTF-8 bytes.
encodings = st.sampled_from(
    [
        lambda text: quote(text, safe="").encode(),
        lambda text: quote_plus(text).encode(),
        lambda text: text.encode("utf-8", "surrogatepass"),
    ]
)


@st.composite
def query_strings(draw):
    parts = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        key = draw(st.one_of(st.sampled_from(KNOWN_PARAMS), st.text(max_size=12)))
        pair = draw(encodings)(key) + b"=" + draw(encodings)(draw(texts))
        if draw(st.booleans()):
            pair += draw(st.sampled_from(MALFORMED)).encode()
        parts.append(pair)
    separator = draw(st.sampled_from([b"&", b"&", b";", b"&&"]))
    # A WSGI server hands the query string over as bytes decoded as Latin-1.
    return separator.join(parts).decode("latin-1")


def body_of(response):
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def assert_handled(client, path, query_string):
    response = client.get(path, QUERY_STRING=query_string)
    assert response.status_code < 500, (path, query_string, response.status_code)
    content_type = response.get("Content-Type", "")
    body = body_of(response)
    if "html" in content_type or "xml" in content_type:
        assert MARKER.encode() not in body.lower(), (path, query_string)
    if response.status_code in (301, 302) and response["Location"].startswith("/"):
        location = urlsplit(response["Location"])
        followed = client.get(location.path, QUERY_STRING=location.query)
        assert followed.status_code < 500, (path, query_string, response["Location"])
        if "html" in followed.get("Content-Type", ""):
            assert MARKER.encode() not in body_of(followed).lower()


@pytest.mark.parametrize("name", PUBLIC_ROUTES)
def test_it_survives_hostile_query_strings(name, client, world, settings):
    settings.DEBUG = False
    paths = paths_for(name, world)

    @hypothesis_settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(path=st.sampled_from(paths), query_string=query_strings())
    def check(path, query_string):
        assert_handled(client, path, query_string)

    check()


SLUG_ROUTES = [name for name in ARGUMENTS if name != "sitemap-section"]


@pytest.mark.parametrize("name", SLUG_ROUTES)
def test_it_answers_404_for_any_unknown_slug(name, client, world):
    @hypothesis_settings(
        max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(slug=st.from_regex(r"\A[-a-zA-Z0-9_]{1,100}\Z"))
    def check(slug):
        # No factory makes a slug starting "hx-".
        assert client.get(reverse(name, args=[f"hx-{slug}"])).status_code == 404

    check()


# Found by the test above, kept as plain examples.
@pytest.mark.parametrize(
    "name", ["claims:list", "claims:feed", "claims:api-claims", "claims:export-csv"]
)
@pytest.mark.parametrize("query_string", ["q=wonderful", "q=%1B", "source=%00", "q=a%00b"])
def test_it_handles_what_fuzzing_found(client, world, name, query_string):
    assert_handled(client, reverse(name), query_string)


# --- What editors type -----------------------------------------------------------------------

HOSTILE_TEXT = (
    '</script><script>alert("x")</script><hx-b onmouseover=alert(1)> & \'single\' "double"'
)


@pytest.fixture
def hostile_claim(jurisdictions):
    clinic = make_clinic(name=f"Clinic {HOSTILE_TEXT}", city=HOSTILE_TEXT)
    treatment = make_treatment(name=f"Treatment {HOSTILE_TEXT}", product=HOSTILE_TEXT)
    make_status(treatment, jurisdictions[0], Status.NOT_APPROVED, explanation=HOSTILE_TEXT)
    return make_claim(
        clinic=clinic,
        treatment=treatment,
        title=HOSTILE_TEXT,
        statement=f'=HYPERLINK("https://evil.example") {HOSTILE_TEXT}',
        outcome=HOSTILE_TEXT,
    )


def assert_escaped(body):
    assert b"<hx-b" not in body
    assert b"<script>alert" not in body


def test_it_escapes_editors_text_on_every_page(client, hostile_claim):
    paths = [
        reverse("claims:home"),
        reverse("claims:list"),
        reverse("claims:list") + "?q=single",
        hostile_claim.get_absolute_url(),
        hostile_claim.clinic.get_absolute_url(),
        hostile_claim.treatment.get_absolute_url(),
        hostile_claim.treatment.source.get_absolute_url(),
        reverse("claims:regulatory"),
    ]
    for path in paths:
        response = client.get(path, follow=True)
        assert response.status_code == 200, path
        assert_escaped(response.content)
        assert escape(HOSTILE_TEXT).encode() in response.content, path


def test_it_keeps_editors_text_inside_the_json_ld(client, hostile_claim):
    html = client.get(hostile_claim.get_absolute_url()).content.decode()
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    assert "<" not in blocks[0]  # nothing can close the <script> early
    data = json.loads(blocks[0])
    # Within ClaimReview's 75 characters (issue 15), the rest of the text intact.
    assert data["claimReviewed"] == short_claim(hostile_claim)
    assert data["itemReviewed"]["author"]["name"] == hostile_claim.clinic.name


def test_it_escapes_editors_text_in_the_feed(client, hostile_claim):
    response = client.get(reverse("claims:feed"))
    root = ElementTree.fromstring(body_of(response))  # well-formed despite the markup
    atom = "{http://www.w3.org/2005/Atom}"
    entry = root.find(f"{atom}entry")
    assert HOSTILE_TEXT in entry.find(f"{atom}title").text
    # An HTML summary, escaped once more so that readers show the text, not run it.
    assert entry.find(f"{atom}summary").text == escape(hostile_claim.statement)


def test_it_exports_editors_text_as_data(client, hostile_claim):
    rows = list(
        csv.DictReader(io.StringIO(body_of(client.get(reverse("claims:export-csv"))).decode()))
    )
    assert rows[0]["title"] == HOSTILE_TEXT
    # A spreadsheet would run a cell starting with "=" as a formula.
    assert rows[0]["statement"] == "'" + hostile_claim.statement

    exported = json.loads(body_of(client.get(reverse("claims:export-json"))))["claims"]
    assert exported[0]["title"] == HOSTILE_TEXT
    assert exported[0]["statement"] == hostile_claim.statement


def test_it_serves_editors_text_verbatim_in_the_api(client, hostile_claim):
    response = client.get(reverse("claims:api-claim", args=[hostile_claim.slug]))
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    data = response.json()
    assert data["title"] == HOSTILE_TEXT
    assert data["clinic"]["name"] == f"Clinic {HOSTILE_TEXT}"


# Anything an editor can save: the admin's forms refuse NUL, and so does PostgreSQL.
editor_texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=200
)


def test_it_serves_whatever_editors_type_in_every_format(client, jurisdictions, settings):
    settings.PAGE_CACHE_SECONDS = 0  # the text changes under the same URLs
    claim = make_claim()
    pages = [
        claim.get_absolute_url(),
        claim.clinic.get_absolute_url(),
        reverse("claims:list"),
        reverse("claims:home"),
    ]
    feeds = [reverse("claims:feed"), reverse("sitemap-section", args=["claims"])]

    def get(path):
        response = client.get(path)
        assert response.status_code == 200, path
        return body_of(response)

    @hypothesis_settings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(title=editor_texts, statement=editor_texts, clinic=editor_texts)
    def check(title, statement, clinic):
        Claim.objects.filter(pk=claim.pk).update(title=title, statement=statement)
        Clinic.objects.filter(pk=claim.clinic_id).update(name=clinic)
        for path in pages:
            assert escape(title).encode() in get(path), path
        json_ld = re.search(
            rb'<script type="application/ld\+json">(.*?)</script>',
            get(claim.get_absolute_url()),
            re.S,
        )
        reviewed = short_claim(Claim(title=title, statement=statement))
        assert json.loads(json_ld[1])["claimReviewed"] == reviewed
        for path in feeds:
            ElementTree.fromstring(get(path))  # well-formed XML
        api = json.loads(get(reverse("claims:api-claim", args=[claim.slug])))
        assert (api["title"], api["statement"]) == (title, statement)
        assert json.loads(get(reverse("claims:export-json")))["claims"][0]["title"] == title
        row = next(csv.DictReader(io.StringIO(get(reverse("claims:export-csv")).decode())))
        assert row["title"] in (title, f"'{title}")

    check()


# --- Oversized requests and absurd numbers ---------------------------------------------------


def test_it_refuses_an_overlong_query_string_politely(client, db):
    query = "q=" + "a" * django_settings.MAX_QUERY_STRING_LENGTH
    response = client.get(reverse("claims:list"), QUERY_STRING=query)
    assert response.status_code == 414
    assert b"too long" in response.content
    assert "Content-Security-Policy" in response


def test_it_refuses_an_overlong_query_string_in_json_on_the_api(client, db):
    query = "q=" + "a" * django_settings.MAX_QUERY_STRING_LENGTH
    response = client.get(reverse("claims:api-claims"), QUERY_STRING=query)
    assert response.status_code == 414
    assert "too long" in response.json()["error"]


def test_it_refuses_too_many_parameters_politely(client, db):
    query = "&".join(["a"] * (django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = client.get(reverse("claims:list"), QUERY_STRING=query)
    assert response.status_code == 400
    assert b"We could not read that request" in response.content


def test_it_refuses_an_oversized_body_politely(client, db):
    body = b"username=" + b"a" * (django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(
        reverse("admin:login"), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert b"We could not read that request" in response.content


@pytest.mark.parametrize("page", ["99999999999999999999", "-1", "0", "1.5", "abc", "１２", ""])
def test_it_shows_a_page_of_claims_for_any_page_number(client, claim, page):
    response = client.get(reverse("claims:list"), {"page": page}, follow=True)
    assert response.status_code == 200
    assert claim.title.encode() in response.content


@pytest.mark.parametrize("page", ["99999999999999999999", "-1", "0", "abc"])
def test_it_answers_the_api_with_an_error_for_an_absurd_page(client, claim, page):
    response = client.get(reverse("claims:api-claims"), {"page": page})
    assert response.status_code in (400, 404)
    assert "error" in response.json()


# --- Admin forms -----------------------------------------------------------------------------


def test_it_rejects_bad_urls_dates_and_slugs_in_the_admin(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:claims_conference_add"),
        {
            "name": "Hostile congress",
            "slug": "not a slug!",
            "url": "javascript:alert(1)",
            "starts_on": "2026-13-45",
            "ends_on": "next Tuesday",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"slug", "url", "starts_on", "ends_on"}
    assert b"Please correct the errors below" in response.content
    assert not Conference.objects.exists()


def test_it_rejects_a_website_that_is_not_a_web_address(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:claims_clinic_add"),
        {"name": "Clinic", "slug": "clinic", "kind": Clinic.Kind.CLINIC, "website": "not a url"},
    )
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"website"}
    assert not Clinic.objects.exists()


def test_it_never_publishes_a_claim_through_a_bad_form(client, superuser, claim):
    client.force_login(superuser)
    before = Claim.objects.count()
    response = client.post(reverse("admin:claims_claim_add"), {"title": HOSTILE_TEXT})
    assert response.status_code == 200
    assert Claim.objects.count() == before


@pytest.mark.parametrize("page", ["²", "¹", "⁵", "①", "٣", "1\n"])
def test_it_reads_only_ascii_digits_as_a_page_number(client, claim, page):
    response = client.get(reverse("claims:list"), {"page": page}, follow=True)
    assert response.redirect_chain == [(reverse("claims:list"), 302)]
    assert b"Ignored the page number" in response.content
    response = client.get(reverse("claims:api-claims"), {"page": page})
    assert response.status_code == 400
