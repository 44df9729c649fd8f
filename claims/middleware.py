"""Request plumbing for a hostile and unreliable world: a Permissions-Policy header on every
response, a bound on query strings, a friendly 503 when the database cannot be reached, and the
client address that django-axes counts failed logins against."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseNotAllowed
from django.template import loader
from django.utils.translation import gettext as _

from claims.responses import json_error, wants_json_errors

logger = logging.getLogger(__name__)

# What a 503 asks clients (and crawlers) to wait before trying again.
RETRY_AFTER_SECONDS = 30


def error_response(request, status, template_name, message):
    """An error page rendered without a request context (so without touching the database),
    or the API's JSON error shape on the API and export paths."""
    if wants_json_errors(request):
        return json_error(status, message)
    return HttpResponse(loader.render_to_string(template_name, {"message": message}), status=status)


class PermissionsPolicyMiddleware:
    """Switches off the browser features in settings.PERMISSIONS_POLICY."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(f"{feature}=()" for feature in settings.PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response


class MethodMiddleware:
    """Answers 405 to TRACE and CONNECT, which nothing here serves: without this a TRACE ran
    the view and sent the whole page back."""

    REFUSED = {"TRACE", "CONNECT"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in self.REFUSED:
            return HttpResponseNotAllowed(["GET", "HEAD", "OPTIONS", "POST"])
        return self.get_response(request)


class AdminPolicyMiddleware:
    """The admin's own Content-Security-Policy: the site's, plus the inline style attributes
    and event handlers of the admin apps' templates (django-import-export's export page,
    django-simple-history's history pages), which the site's policy blocks. Inline <script>
    and <style> elements stay blocked, and pages for anyone not signed in as staff (the login
    page) keep the site's policy. Placed after django-csp's middleware, which reads it."""

    UPDATE = {"style-src-attr": ["'unsafe-inline'"], "script-src-attr": ["'unsafe-inline'"]}

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = "/" + settings.ADMIN_URL

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)  # set by now, further in
        if request.path.startswith(self.prefix) and user is not None and user.is_staff:
            response._csp_update = {**self.UPDATE, **(getattr(response, "_csp_update", None) or {})}
        return response


def static_file_headers(headers, path, url):
    """WhiteNoise's add_headers_function: static files answer before the CSP and clickjacking
    middleware run, so they get the same headers here (an SVG or HTML file opened on its own
    is a document too)."""
    headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    headers["X-Frame-Options"] = settings.X_FRAME_OPTIONS


class QueryStringLimitMiddleware:
    """Answers 414 to a query string longer than settings.MAX_QUERY_STRING_LENGTH, before any
    view parses it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if len(request.META.get("QUERY_STRING", "")) > settings.MAX_QUERY_STRING_LENGTH:
            return error_response(
                request,
                414,
                "400.html",
                _(
                    "That address is too long for us to read. "
                    "If you built it by hand, try fewer filters or a shorter search."
                ),
            )
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A view that cannot reach the database answers 503 with Retry-After instead of 500: the
    failure is ours and temporary, and crawlers keep the page they have."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("Database unavailable for %s", request.path, exc_info=exception)
        response = error_response(
            request,
            503,
            "503.html",
            _("The database is unavailable. Please try again in a minute."),
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


def client_ip(request):
    """The client's address (AXES_CLIENT_IP_CALLABLE). Behind TRUSTED_PROXY_COUNT proxies that
    each append to X-Forwarded-For, it is the address the outermost proxy saw: that many from
    the right. Anything further left was sent by the client and cannot be trusted."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        addresses = [address.strip() for address in forwarded if address.strip()]
        if len(addresses) >= count:
            return addresses[-count]
    return request.META.get("REMOTE_ADDR")
