"""Caching for Claimwatch: whole anonymous pages with conditional GET, under the data version
that every edit bumps (claims.data_version). (The Redis backend that fails soft is
claims.redis_cache.)

Pages. A public page is a function of three things: the curated data, the request's URL and
the reader's language (LocaleMiddleware's choice, from Accept-Language). Page keys and ETags
include the data version, so one bump makes every cached page and every validator stale at
once, and nothing has to be deleted.
Logged-in users may preview drafts: their pages are never stored, here or downstream.

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
import re
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotAllowed
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, quote_etag
from django.utils.text import compress_string
from django.utils.translation import get_language

from claims.data_version import data_version, database_failure, local_pages, replayed_versions
from claims.notices import NOTICES_COOKIE, spend_notices
from config.db_router import PRIMARY, reads_alias, reads_from

PAGE_KEY_PREFIX = "claimwatch:page"
FACETS_KEY_PREFIX = "claimwatch:facets"
ACCEPTS_GZIP = re.compile(r"\bgzip\b")
SMALLEST_WORTH_COMPRESSING = 1024
# What a public page answers; anything else (POST, PUT, TRACE…) is a 405.
PAGE_METHODS = ["GET", "HEAD", "OPTIONS"]


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
