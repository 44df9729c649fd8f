"""The Atom feed against RFC 4287's rules, checked offline (there is no installable W3C feed
validator; feedparser reads anything and validates nothing): on the seed, and on a history
where events happen at different times."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.core.management import call_command
from django.urls import reverse

from claims.models import Claim
from tests.conftest import make_claim

pytestmark = pytest.mark.django_db

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "seed.json"
ATOM = "{http://www.w3.org/2005/Atom}"
# RFC 3339 date-time, as RFC 4287 section 3.3 requires (an upper-case T and Z).
DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
IRI = re.compile(r"[a-z][a-z0-9+.-]*:\S+")


def problems_in(document):
    """What RFC 4287 forbids or requires, for the feed and each entry, as sentences."""
    feed = ElementTree.fromstring(document)
    found = []
    if feed.tag != f"{ATOM}feed":
        return [f"The root is {feed.tag}, not atom:feed."]

    def check(element, where):
        for name in ("id", "title", "updated"):
            count = len(element.findall(f"{ATOM}{name}"))
            if count != 1:
                found.append(f"{where} has {count} atom:{name} elements, not one.")
        identifier = element.findtext(f"{ATOM}id", "")
        if not IRI.fullmatch(identifier):
            found.append(f"{where}'s id {identifier!r} is not an IRI.")
        if not element.findtext(f"{ATOM}title", "").strip():
            found.append(f"{where} has an empty title.")
        for name in ("updated", "published"):
            for stamp in element.findall(f"{ATOM}{name}"):
                if not DATE_TIME.fullmatch(stamp.text or ""):
                    found.append(f"{where}'s {name} {stamp.text!r} is not an RFC 3339 date-time.")
        for author in element.findall(f"{ATOM}author"):
            if not author.findtext(f"{ATOM}name", "").strip():
                found.append(f"{where} has an author without a name.")
        alternates = [
            (link.get("type"), link.get("hreflang"))
            for link in element.findall(f"{ATOM}link")
            if link.get("rel", "alternate") == "alternate"
        ]
        if len(alternates) != len(set(alternates)):
            found.append(f"{where} has two alternate links of one type and language.")
        for link in element.findall(f"{ATOM}link"):
            if not link.get("href"):
                found.append(f"{where} has a link without href.")

    check(feed, "The feed")
    feed_has_author = feed.find(f"{ATOM}author") is not None
    if not any(link.get("rel") == "self" for link in feed.findall(f"{ATOM}link")):
        found.append("The feed has no rel=self link.")
    entries = feed.findall(f"{ATOM}entry")
    ids = [entry.findtext(f"{ATOM}id") for entry in entries]
    if len(ids) != len(set(ids)):
        found.append("Two entries share an id.")
    feed_updated = feed.findtext(f"{ATOM}updated")
    for number, entry in enumerate(entries, 1):
        where = f"Entry {number}"
        check(entry, where)
        if not feed_has_author and entry.find(f"{ATOM}author") is None:
            found.append(f"{where} has no author, and neither has the feed.")
        content = entry.find(f"{ATOM}content")
        if content is None and not any(
            link.get("rel", "alternate") == "alternate" for link in entry.findall(f"{ATOM}link")
        ):
            found.append(f"{where} has neither content nor an alternate link.")
        if (content is None or content.get("src")) and entry.find(f"{ATOM}summary") is None:
            found.append(f"{where} has no summary and no inline content.")
        updated = as_time(entry.findtext(f"{ATOM}updated"))
        published = as_time(entry.findtext(f"{ATOM}published"))
        if updated and published and published > updated:
            found.append(f"{where} was published after it was updated.")
        if updated and as_time(feed_updated) and updated > as_time(feed_updated):
            found.append(f"{where} is newer than the feed's updated.")
    return found


def as_time(stamp):
    """The instant, or None for a missing or malformed one (reported by `check`)."""
    if not stamp or not DATE_TIME.fullmatch(stamp):
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def entries_of(document):
    feed = ElementTree.fromstring(document)
    return [
        {
            "title": entry.findtext(f"{ATOM}title"),
            "updated": entry.findtext(f"{ATOM}updated"),
            "author": entry.findtext(f"{ATOM}author/{ATOM}name"),
        }
        for entry in feed.findall(f"{ATOM}entry")
    ]


def test_it_finds_the_problems_the_w3c_validator_reported():
    # The checker itself: the feed as it was before issue 15, without any author.
    document = b"""<?xml version="1.0" encoding="utf-8"?>
    <feed xmlns="http://www.w3.org/2005/Atom"><title>Claimwatch</title>
    <link href="http://x/claims/" rel="alternate"/><id>http://x/claims/</id>
    <updated>2026-12-01T09:00:00+00:00</updated>
    <entry><title>Published: A</title><link href="http://x/claims/a/" rel="alternate"/>
    <updated>2026-12-01 09:00</updated><id>http://x/claims/a/</id><summary>A</summary></entry>
    </feed>"""

    assert problems_in(document) == [
        "The feed has no rel=self link.",
        "Entry 1's updated '2026-12-01 09:00' is not an RFC 3339 date-time.",
        "Entry 1 has no author, and neither has the feed.",
    ]


@pytest.mark.parametrize("query", ["", "fda=not-approved", "q=no-such-words-anywhere"])
def test_the_seeded_feed_keeps_the_atom_rules(client, query):
    call_command("loaddata", str(SEED), verbosity=0)

    response = client.get(f"{reverse('claims:feed')}?{query}")

    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert problems_in(response.content) == []


def test_each_entry_is_dated_when_its_event_happened_and_names_who_decided(
    client, jurisdictions, publisher
):
    start = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    first = make_claim(title="First", published_at=start)
    make_claim(title="Second", published_at=start + timedelta(days=1))
    first.retract(user=publisher, note="The source withdrew it.")

    document = client.get(reverse("claims:feed")).content

    assert problems_in(document) == []
    entries = entries_of(document)
    assert [entry["title"] for entry in entries] == [
        "Retracted: First",
        "Published: Second",
        "Published: First",
    ]
    assert len({entry["updated"] for entry in entries}) == len(entries)
    assert entries[0]["author"] == publisher.username
    assert Claim.objects.get(pk=first.pk).state == Claim.State.RETRACTED
