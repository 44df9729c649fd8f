"""Notices that survive a redirect to a canonical URL.

A public page's URL with values nobody can use (`?fda=approvedd`) redirects to its canonical
URL, so that the address a reader copies is clean. What was ignored travels in a short-lived
signed cookie: in neither the URL nor the cached page, which everyone else gets. The one request
that carries it skips the page cache (claims.cache.public_page), shows the notices to that
visitor and clears the cookie.
"""

from django.core import signing
from django.http import HttpResponseRedirect

NOTICES_COOKIE = "claimwatch_notices"
NOTICES_SECONDS = 60  # a redirect is followed at once; a notice read later would confuse
# Browsers drop a cookie over 4 kB: past these many, the rest are left out.
NOTICES_CARRIED = 10


def redirect_with_notices(request, url, notices):
    """A redirect to `url`, the canonical URL of a public page, carrying `notices` to it.
    Without notices it is an ordinary redirect, which anyone may cache."""
    response = HttpResponseRedirect(url)
    if notices:
        carried = signing.dumps(
            {"url": url, "notices": list(notices)[:NOTICES_CARRIED]},
            salt=NOTICES_COOKIE,
            compress=True,
        )
        response.set_cookie(
            NOTICES_COOKIE,
            carried,
            max_age=NOTICES_SECONDS,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
    return response


def carried_notices(request):
    """The notices a redirect to this very URL carried; none for any other page, or when the
    cookie is stale, forged or unreadable."""
    try:
        carried = signing.loads(
            request.COOKIES.get(NOTICES_COOKIE, ""), salt=NOTICES_COOKIE, max_age=NOTICES_SECONDS
        )
    except signing.BadSignature:
        return []
    if not isinstance(carried, dict) or carried.get("url") != request.get_full_path():
        return []
    return [str(notice) for notice in carried.get("notices", [])][:NOTICES_CARRIED]


def spend_notices(response):
    """`response` clearing the cookie: its notices are shown once."""
    response.delete_cookie(NOTICES_COOKIE, samesite="Lax")
    return response
