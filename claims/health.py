"""/healthz: can this instance serve? For load balancers and monitoring.

Answers 200 while the database answers, 503 when it does not. The cache is reported but does
not fail the check: without it the site is slower but correct, and taking every instance out
of the load balancer because Redis is down would turn a slow site into no site."""

import logging
import threading

from django.conf import settings
from django.core.cache import caches
from django.db import Error, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)

# At most one database check runs at a time: while a hung database holds one, the next
# requests answer "error" at once instead of piling up threads.
_check_running = threading.Lock()


def _ask_database(answer):
    """In its own thread, so on its own connection, closed when done."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        answer.append("ok")
    except Error:
        logger.warning("Health check: the database is unavailable", exc_info=True)
        answer.append("error")
    finally:
        try:
            connection.close()
        finally:
            _check_running.release()


def database_status():
    """ "ok" when the database answers SELECT 1 within settings.HEALTH_CHECK_SECONDS: a hung
    database (it accepts connections and never answers) is reported, not waited for."""
    if not _check_running.acquire(blocking=False):
        logger.warning("Health check: the previous database check has not answered yet")
        return "error"
    answer = []
    thread = threading.Thread(target=_ask_database, args=(answer,), daemon=True)
    thread.start()
    thread.join(settings.HEALTH_CHECK_SECONDS)
    if not answer:
        logger.warning(
            "Health check: the database did not answer in %s s", settings.HEALTH_CHECK_SECONDS
        )
        return "error"
    return answer[0]


def cache_status():
    """A shared cache (claims.redis_cache.DegradingRedisCache) can ping; local memory has nothing to
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
