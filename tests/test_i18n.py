"""Ready for a second language: every text for people is in the gettext catalogue, a translation
changes the pages, and the page cache keeps each language's copy apart."""

import json
import os
import shutil
import subprocess

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.urls import path, reverse
from django.utils import translation

from claims.cache import page_etag, page_key, public_page
from claims.data_version import data_version
from claims.models import Status
from tests.conftest import _skip_or_fail

pytestmark = pytest.mark.django_db

# Where the texts for people are: the app, the settings and the templates.
SOURCES = ["claims", "config", "templates"]
# A pseudo-translation: every text wrapped, so any text that is not marked shows unwrapped.
OPEN, CLOSE = "⟪", "⟫"

renders = []


@public_page
def language_page(request):
    """A public page that says which language it was rendered in."""
    renders.append(translation.get_language())
    return HttpResponse(translation.get_language())


# The URLconf of the tests marked `@pytest.mark.urls(__name__)`.
urlpatterns = [path("language/", language_page)]


@pytest.fixture
def two_languages(settings):
    settings.PAGE_CACHE_SECONDS = 300
    settings.LANGUAGES = [("en-gb", "English"), ("fr", "French")]


def read_po(path):
    """The entries of a .po file as dicts of msgctxt/msgid/msgid_plural/msgstr…, its
    continued lines joined (PO strings are C-escaped, which JSON strings read alike)."""
    entries, entry, key = [], {}, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry:
                entries.append(entry)
            entry, key = {}, None
        elif line.startswith('"'):
            entry[key] += json.loads(line)
        elif not line.startswith("#"):
            key, _space, value = line.partition(" ")
            entry[key] = json.loads(value)
    return [entry for entry in entries if entry.get("msgid")]


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    """`makemessages -l fr` over the project's sources, into a directory of its own: run in
    the project, it would write into the project's own locale/ once there is one."""
    if shutil.which("xgettext") is None:
        _skip_or_fail("GNU gettext is not installed (apt-get install gettext)")
    project = tmp_path_factory.mktemp("project")
    for name in SOURCES:
        (project / name).symlink_to(django_settings.BASE_DIR / name)
    locale = project / "locale"
    here = os.getcwd()
    os.chdir(project)
    try:
        with override_settings(LOCALE_PATHS=[locale]):
            call_command("makemessages", locale=["fr"], symlinks=True, verbosity=0)
    finally:
        os.chdir(here)
    return locale


def po_path(catalogue):
    return catalogue / "fr" / "LC_MESSAGES" / "django.po"


def pseudo_translate(catalogue):
    """A French catalogue in which every msgstr is its msgid wrapped in ⟪ ⟫, compiled."""
    lines = [
        'msgid ""',
        'msgstr ""',
        '"Content-Type: text/plain; charset=UTF-8\\n"',
        '"Plural-Forms: nplurals=2; plural=(n > 1);\\n"',
        "",
    ]
    quoted = json.dumps
    for entry in read_po(po_path(catalogue)):
        if "msgctxt" in entry:
            lines.append(f"msgctxt {quoted(entry['msgctxt'], ensure_ascii=False)}")
        lines.append(f"msgid {quoted(entry['msgid'], ensure_ascii=False)}")
        if "msgid_plural" in entry:
            lines.append(f"msgid_plural {quoted(entry['msgid_plural'], ensure_ascii=False)}")
            for n, text in enumerate([entry["msgid"], entry["msgid_plural"]]):
                lines.append(f"msgstr[{n}] {quoted(OPEN + text + CLOSE, ensure_ascii=False)}")
        else:
            wrapped = OPEN + entry["msgid"] + CLOSE
            lines.append(f"msgstr {quoted(wrapped, ensure_ascii=False)}")
        lines.append("")
    pseudo = catalogue / "pseudo"
    messages = pseudo / "fr" / "LC_MESSAGES"
    messages.mkdir(parents=True, exist_ok=True)
    (messages / "django.po").write_text("\n".join(lines), encoding="utf-8")
    # msgfmt itself: compilemessages would also compile every locale/ under the working
    # directory, installed packages' included.
    subprocess.run(["msgfmt", "-o", messages / "django.mo", messages / "django.po"], check=True)
    return pseudo


def test_it_extracts_the_texts_of_templates_models_notices_and_feeds(catalogue):
    entries = read_po(po_path(catalogue))
    msgids = {entry["msgid"] for entry in entries}
    plurals = {
        entry["msgid"]: entry["msgid_plural"] for entry in entries if "msgid_plural" in entry
    }

    # Templates, a model's choices and verbose name, a validation message.
    assert {"All claims", "What regulators say", "Copy link"} <= msgids
    assert {"Not approved", "Human-derived", "Intradermal injection", "exosome source"} <= msgids
    assert "A published claim needs an evidence level." in msgids
    # The list's notices, the feeds' titles and the change log's sentences.
    assert "Ignored the page number: it is not a positive whole number." in msgids
    assert "Published: %(claim)s" in msgids
    assert "%(flag)s flag changed from %(before)s to %(after)s" in msgids
    # The admin: its templates, messages and the workflow's counted confirmations.
    assert {"Awaiting review", "Choose Approve or Reject.", "Save and publish"} <= msgids
    assert plurals["Published %d claim."] == "Published %d claims."
    # A count meets a noun: both forms, for languages whose plurals differ.
    assert plurals["%(total)s published claim"] == "%(total)s published claims"
    assert (
        plurals["There is only %(pages)d page: showing the last one."]
        == "There are only %(pages)d pages: showing the last one."
    )


def test_it_translates_pages_from_the_catalogue_alone(
    catalogue, client, claim, two_languages, settings
):
    settings.LOCALE_PATHS = [pseudo_translate(catalogue)]

    french = client.get(claim.get_absolute_url(), headers={"Accept-Language": "fr"})
    english = client.get(claim.get_absolute_url(), headers={"Accept-Language": "en"})

    assert french["Content-Language"] == "fr"
    assert '<html lang="fr">' in french.text
    assert f"{OPEN}What regulators say{CLOSE}" in french.text
    assert f"{OPEN}{Status.NOT_APPROVED.label}{CLOSE}" in french.text  # a model's choice
    assert f"{OPEN}Copy link{CLOSE}" in french.text
    # The English page is its own, not the French one from the cache.
    assert OPEN not in english.text
    assert "What regulators say" in english.text


@pytest.mark.urls(__name__)
def test_it_caches_each_language_apart(client, two_languages):
    renders.clear()

    french = client.get("/language/", headers={"Accept-Language": "fr"})
    english = client.get("/language/", headers={"Accept-Language": "en-US,en;q=0.9"})
    french_again = client.get("/language/", headers={"Accept-Language": "fr-FR"})

    assert (french.text, english.text, french_again.text) == ("fr", "en-gb", "fr")
    assert renders == ["fr", "en-gb"]  # the second French request came from the cache
    assert french["ETag"] != english["ETag"]


def test_it_tells_downstream_caches_that_pages_vary_by_language(client, claim, two_languages):
    for url in [reverse("claims:home"), reverse("claims:list"), claim.get_absolute_url()]:
        first = client.get(url)
        cached = client.get(url)

        for response in (first, cached):
            vary = {value.strip() for value in response["Vary"].split(",")}
            assert {"Accept-Language", "Accept-Encoding"} <= vary, url


def test_it_keys_a_page_and_its_etag_on_the_active_language(two_languages):
    request = RequestFactory().get(reverse("claims:home"))
    version = data_version()

    with translation.override("fr"):
        french = page_key(request, version), page_etag(request, version)
    with translation.override("en-gb"):
        english = page_key(request, version), page_etag(request, version)

    assert french[0] != english[0]
    assert french[1] != english[1]
