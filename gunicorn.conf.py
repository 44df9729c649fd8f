"""gunicorn's settings for Claimwatch: `gunicorn -c gunicorn.conf.py config.wsgi` (README,
bench/run.py, `make faults`). Command-line options override these.

Request limits: gunicorn answers a request line longer than `limit_request_line` with its own
bare 400 before Django sees it. Django answers a query string over MAX_QUERY_STRING_LENGTH
(4,096) with a readable 414 (claims.middleware), so gunicorn lets through any line that long
plus the path, the method and the protocol: its largest setting, 8,190.
"""

import os

from gunicorn.http import wsgi

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1))
worker_class = "sync"
# Below gunicorn's own 30 s: a request that outlives the database's statement timeout (10 s)
# and its connect timeout (2 s) has failed already, and answers 503 by then.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5

limit_request_line = 8190  # > MAX_QUERY_STRING_LENGTH (4,096) + path: Django's 414 answers
limit_request_fields = 100
limit_request_field_size = 8190

accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")

# No `Server: gunicorn` header: it tells an attacker which bugs to try. gunicorn has no
# setting for it, so its response's default headers go out without that line.
_default_headers = wsgi.Response.default_headers


def _default_headers_without_server(self):
    return [header for header in _default_headers(self) if not header.startswith("Server:")]


wsgi.Response.default_headers = _default_headers_without_server
