"""Caching for Claimwatch: whole anonymous pages with conditional GET, under a data version
that every edit bumps. (The Redis backend that fails soft is claims.redis_cache.)

Pages. A public page is a function of three things: the curated data, the request's URL and
the reader's language (LocaleMiddleware's choice, from Accept-Language). The
curated data has one version, kept in the cache and bumped (`watch_curated_data`, below)
whenever an editor saves or deletes anything curated. Page keys and ETags include that
version, so one bump makes every cached page and every validator stale at once, and nothing
has to be deleted.
Logged-in users may preview drafts: their pages are never stored, here or downstream.

The version lives in the database (`DataVersion`, one row), written in the same transaction as
the edit, and every app server sees each bump within a second (each process trusts the version
it read for that long, and keeps its most requested pages itself: `LocalPages`). It does not
live only in the cache beside the pages: a Redis cut off from the app servers (still running,
its data intact) misses the bumps made meanwhile, and when it came back the pages from before a
retraction would be valid again. The cache keeps a copy, used only while the database cannot
be read, when nobody can edit either.
With read replicas, a page is stored under the primary's version only when it was read from a
database that has replayed that version: the request's replica if it has, else the primary
(`reads_replayed`). Replication lag delays nothing, and cannot pin stale content.
Pages are stored gzipped and sent so to clients that accept it. Facet counts are kept apart
too, per filter state, so that every page and sort order of a filtered list shares them.

A request carrying notices from a redirect (claims.notices) skips the cache: its page is for
that visitor alone.
"""

import gzip
import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse, HttpResponseNotAllowed
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, quote_etag
from django.utils.text import compress_string
from django.utils.translation import get_language

from claims.notices import NOTICES_COOKIE, spend_notices
from config.db_router import PRIMARY, reads_alias, reads_from, replicas_down

logger = logging.getLogger(__name__)

VERSION_KEY = "claimwatch:data-version"
PAGE_KEY_PREFIX = "claimwatch:page"
FACETS_KEY_PREFIX = "claimwatch:facets"
ACCEPTS_GZIP = re.compile(r"\bgzip\b")
SMALLEST_WORTH_COMPRESSING = 1024
# How long a process trusts the version it last read, and how many pages it keeps itself.
VERSION_CHECK_SECONDS = 1.0
LOCAL_PAGES = 500
# What a public page answers; anything else (POST, PUT, TRACE…) is a 405.
PAGE_METHODS = ["GET", "HEAD", "OPTIONS"]


class LocalPages:
    """This process's copy of the version and of its most requested pages. Without it every
    hit costs two round trips to Redis and a 25 kB transfer. An edit made in this process
    shows at once; one made in another shows here within VERSION_CHECK_SECONDS."""

    def __init__(self, size):
        self.size = size
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        self.version, self.fresh_until, self.pages = None, 0.0, OrderedDict()

    def trusted_version(self):
        return self.version if time.monotonic() < self.fresh_until else None

    def remember_version(self, version):
        with self.lock:
            if version != self.version:
                self.pages = OrderedDict()  # pages of older versions can never be asked for
            self.version, self.fresh_until = version, time.monotonic() + VERSION_CHECK_SECONDS

    def get(self, key):
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def put(self, key, page):
        with self.lock:
            self.pages[key] = page
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)


local_pages = LocalPages(LOCAL_PAGES)


def _new_version():
    """Hex nanoseconds since the epoch: unique enough, and it says when the data changed."""
    return f"{time.time_ns():x}"


def stored_version():
    """The database's data version, or None when it has none or cannot be read. Read from the
    primary: a replica may not have the latest bump yet."""
    from claims.models import DataVersion

    try:
        version = (
            DataVersion.objects.using("default")
            .filter(pk=DataVersion.ONLY_ROW)
            .values_list("version", flat=True)
            .first()
        )
    except DatabaseError as error:
        logger.warning("The data version cannot be read: using the cache's copy")
        database_failure.remember(error)
        return None
    database_failure.forget()
    return version


class DatabaseFailure:
    """The database failed to give the version a moment ago: a page that is not cached, which
    would need it too, answers 503 at once instead of waiting out a second timeout."""

    def __init__(self):
        self.error, self.until = None, 0.0

    def remember(self, error):
        self.error, self.until = error, time.monotonic() + VERSION_CHECK_SECONDS

    def forget(self):
        self.error, self.until = None, 0.0

    def recent(self):
        return self.error if time.monotonic() < self.until else None


database_failure = DatabaseFailure()


class ReplayedVersions:
    """The data version each replica was last seen to have replayed, in this process. A
    replica only moves forward: once it has shown a version, it holds that version's data."""

    def __init__(self):
        self.versions = {}

    def has_replayed(self, alias, version):
        """Whether the replica `alias` shows the change that made `version`: it has the same
        data version, or neither it nor the primary has one yet (nothing was ever edited)."""
        from claims.models import DataVersion

        if self.versions.get(alias) == version:
            return True
        try:
            replayed = (
                DataVersion.objects.using(alias)
                .filter(pk=DataVersion.ONLY_ROW)
                .values_list("version", flat=True)
                .first()
            )
        except DatabaseError:
            logger.warning("Replica %s does not answer: reading from the primary", alias)
            replicas_down.mark(alias)
            return False
        if replayed is None:
            return stored_version() is None
        self.versions[alias] = replayed
        return replayed == version

    def clear(self):
        self.versions.clear()


replayed_versions = ReplayedVersions()


@contextmanager
def reads_replayed(version):
    """Reads in the block come from a database that shows `version`: the request's replica
    when it has replayed it, else the primary. A page built from a replica that lags would
    otherwise be stored, and its ETag handed out, under a version whose change it does not
    show, until the next edit."""
    alias = reads_alias()
    if alias != PRIMARY and not replayed_versions.has_replayed(alias, version):
        alias = PRIMARY
    # What the page reads inside (its facet counts) is kept under the version checked here,
    # not one read later, which the replica may not have replayed.
    token = _checked_version.set(version)
    try:
        with reads_from(alias):
            yield
    finally:
        _checked_version.reset(token)


_checked_version = ContextVar("claimwatch_checked_version", default=None)


def cached_version():
    """The cache's copy of the version. An emptied cache starts a new one, which only makes
    pages look changed: safe."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, _new_version(), timeout=None)
        version = cache.get(VERSION_KEY) or _new_version()
    return version


def data_version():
    """The current data version: the database's, else (no row yet, or no database) the
    cache's copy."""
    version = local_pages.trusted_version()
    if version is None:
        version = stored_version()
        if version is None:
            version = cached_version()
        elif version != local_pages.version:
            cache.set(VERSION_KEY, version, timeout=None)  # the copy, for a database outage
        local_pages.remember_version(version)
    return version


def bump_data_version(using="default"):
    """Curated data changed: every cached page and ETag is stale from now on. Called inside
    the edit's transaction, the new version commits (or rolls back) with the edit."""
    from claims.models import DataVersion

    version = _new_version()
    DataVersion.objects.using(using).bulk_create(
        [DataVersion(pk=DataVersion.ONLY_ROW, version=version)],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["version"],
    )
    cache.set(VERSION_KEY, version, timeout=None)
    local_pages.remember_version(version)


_bumps = threading.local()


@contextmanager
def one_version_bump(using="default"):
    """Changes made inside bump the data version once, at the end, instead of once each
    (an import saves thousands of rows, each several times)."""
    outermost = not getattr(_bumps, "deferred", False)
    _bumps.deferred, _bumps.changed = True, getattr(_bumps, "changed", False) and not outermost
    try:
        yield
    finally:
        if outermost:
            changed = _bumps.changed
            _bumps.deferred = _bumps.changed = False
            if changed:
                curated_data_changed(None, using=using)


def curated_data_changed(sender, using="default", action="post_", **kwargs):
    """Any save, delete or tag change of curated data makes every cached page stale."""
    if not action.startswith("post_"):
        return
    if getattr(_bumps, "deferred", False):
        _bumps.changed = True
        return
    bump_data_version(using)
    # A request rendering between this bump and the commit would store the old rows under the
    # new version: bump again once the change is visible to other connections.
    if connections[using].in_atomic_block:
        transaction.on_commit(lambda: bump_data_version(using), using=using)


def curated_models():
    """Every model of this app except the history tables, which record changes but are
    never shown on a public page, and pending revisions, which readers never see (approving
    one saves the live rows, which makes the pages stale)."""
    from simple_history.models import HistoricalChanges

    from claims.models import DataVersion, Revision

    return [
        model
        for model in apps.get_app_config("claims").get_models()
        if not issubclass(model, HistoricalChanges | Revision) and model is not DataVersion
    ]


def watch_curated_data():
    """Connect `curated_data_changed` to every save, delete and tag change of curated data
    (called once the app registry is ready: ClaimsConfig.ready)."""
    for model in curated_models():
        post_save.connect(curated_data_changed, sender=model, dispatch_uid=f"cache-save-{model}")
        post_delete.connect(curated_data_changed, sender=model, dispatch_uid=f"cache-del-{model}")
        for field in model._meta.many_to_many:
            m2m_changed.connect(
                curated_data_changed,
                sender=field.remote_field.through,
                dispatch_uid=f"cache-m2m-{field}",
            )


def last_modified(version):
    """The Unix time of the change that made `version`."""
    return int(version, 16) // 1_000_000_000


def _digest(*parts):
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def page_etag(request, version):
    """Weak: the same page may go out gzipped or not. One URL in two languages is two pages,
    so the language is part of it."""
    return "W/" + quote_etag(_digest(version, get_language(), request.get_full_path()))


def page_key(request, version):
    """Keyed by the language and the request's own full URL (host included: pages carry
    absolute canonical links), not a canonical form: the list redirects other spellings before
    it renders. The language is the one LocaleMiddleware resolved (a supported code), not the
    raw header, so the endless spellings of Accept-Language share a few pages."""
    url = _digest(request.build_absolute_uri())
    return f"{PAGE_KEY_PREFIX}:{version}:{get_language()}:{url}"


def cached_facet_counts(filter_state, count):
    """`count()`, the facet counts of the filters in `filter_state` (a canonical query string
    without page or sort), kept like pages and under the same data version. The pages and sort
    orders of one filtered list are different pages but share these counts, the costliest
    part of each: paging through results no longer recounts them."""
    seconds = settings.PAGE_CACHE_SECONDS
    if not seconds:
        return count()
    version = _checked_version.get() or data_version()
    key = f"{FACETS_KEY_PREFIX}:{version}:{_digest(filter_state)}"
    counts = cache.get(key)
    if counts is None:
        counts = count()
        cache.set(key, counts, seconds)
    return counts


def _storable(request, response):
    """Only a plain 200 nobody else could be hurt by: no cookie set for this visitor, and no
    per-visitor secret baked into the HTML (a CSP nonce, a CSRF token), which a cached copy
    would hand to everyone else."""
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not isinstance(getattr(request, "_csp_nonce", None), str)
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
    )


def _frozen(response):
    """What a stored page is: smaller to keep and quicker to load than a pickled response."""
    return response.status_code, list(response.items()), response.content


def _thawed(page):
    status, headers, content = page
    return HttpResponse(content, status=status, headers=dict(headers))


def _cached_page(key):
    page = local_pages.get(key)
    if page is None:
        page = cache.get(key)
        if page is not None:
            local_pages.put(key, page)
    return None if page is None else _thawed(page)


def _store_page(key, response, seconds):
    page = _frozen(response)
    cache.set(key, page, seconds)
    local_pages.put(key, page)


def _accepts_gzip(request):
    return bool(ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")))


def _gzipped(response):
    """The page compressed once, stored so and sent as it is to every client that accepts gzip
    (all browsers): a list page's facets make 250 kB of HTML, 25 kB gzipped. Only pages
    without a visitor's secret are compressed, so BREACH has nothing to guess."""
    if response.has_header("Content-Encoding") or len(response.content) < (
        SMALLEST_WORTH_COMPRESSING
    ):
        return response
    response.content = compress_string(response.content)
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Content-Length", None)
    return response


def _gunzipped(response):
    response.content = gzip.decompress(response.content)
    del response.headers["Content-Encoding"]
    response.headers.pop("Content-Length", None)
    return response


def public_page(view):
    """Decorate a public HTML view.

    Anonymous GET/HEAD: answer 304 when the browser's ETag or Last-Modified still holds; else
    serve the page from the cache for PAGE_CACHE_SECONDS (0 turns the page cache off), and let
    browsers and CDNs keep it for PAGE_MAX_AGE seconds. Signed-in GET/HEAD: the view's own
    response, marked private and not to be stored. OPTIONS: the methods, no body; any other
    method, 405: a page has nothing to post to, and TRACE would echo it whole."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "OPTIONS":
            response = HttpResponse(headers={"Allow": ", ".join(PAGE_METHODS)})
            response["Content-Length"] = "0"
            return response
        if request.method not in PAGE_METHODS:
            return HttpResponseNotAllowed(PAGE_METHODS)
        if request.user.is_authenticated:
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True, no_store=True)
            return response
        if request.COOKIES.get(NOTICES_COOKIE):
            # Never stored, nor answered 304: the browser's copy has no notices.
            response = spend_notices(view(request, *args, **kwargs))
            patch_cache_control(response, private=True, no_store=True)
            return response

        version = data_version()
        etag = page_etag(request, version)
        response = get_conditional_response(
            request, etag=etag, last_modified=last_modified(version)
        )
        if response is None:
            key = page_key(request, version)
            seconds = settings.PAGE_CACHE_SECONDS
            response = _cached_page(key) if seconds else None
            if response is None:
                failure = database_failure.recent()
                if failure is not None:
                    raise failure  # claims.middleware answers 503
                with reads_replayed(version):
                    response = view(request, *args, **kwargs)
                if _storable(request, response):
                    if seconds and request.method == "GET":
                        response = _gzipped(response)
                        _store_page(key, response, seconds)
                    elif _accepts_gzip(request):
                        response = _gzipped(response)
            if response.get("Content-Encoding") == "gzip" and not _accepts_gzip(request):
                response = _gunzipped(response)
            # Downstream caches must keep a copy per language too. (The site sets no language
            # cookie; one that did would have to add Cookie here.)
            patch_vary_headers(response, ["Accept-Encoding", "Accept-Language"])
        if response.cookies:  # a redirect carrying notices: for this visitor only
            patch_cache_control(response, private=True, no_store=True)
            return response
        if response.status_code in (200, 304):
            response.headers.setdefault("ETag", etag)
            response.headers.setdefault("Last-Modified", http_date(last_modified(version)))
        patch_cache_control(response, public=True, max_age=settings.PAGE_MAX_AGE)
        return response

    return wrapper
