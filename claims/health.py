"""/healthz: can this instance serve? For load balancers and monitoring.

Answers 200 while the database answers, 503 when it does not. The cache is reported but does
not fail the check: without it the site is slower but correct, and taking every instance out
of the load balancer because Redis is down would turn a slow site into no site."""

import logging

from django.core.cache import caches
from django.db import Error, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


def database_status():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Error:
        logger.warning("Health check: the database is unavailable", exc_info=True)
        return "error"
    return "ok"


def cache_status():
    """A shared cache (claims.cache.DegradingRedisCache) can ping; local memory has nothing to
    reach."""
    ping = getattr(caches["default"], "ping", None)
    if ping is None:
        return "not configured"
    try:
        ping()
    except Exception:
        logger.warning("Health check: the cache is unavailable", exc_info=True)
        return "error"
    return "ok"


@never_cache
def healthz(request):
    checks = {"database": database_status(), "cache": cache_status()}
    return JsonResponse(checks, status=200 if checks["database"] == "ok" else 503)
