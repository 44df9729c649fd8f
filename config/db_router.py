"""Read replicas: public reads go to a replica, everything else to the primary.

`DATABASE_REPLICA_URLS` (comma-separated) adds the aliases `replica_1` … `replica_n` to
DATABASES; with none set, the router stands aside and every query goes to `default`.

One request reads from one database (`ReadsFromOneDatabaseMiddleware`): the primary for editors
and for requests that write, else one replica, chosen at the request's first read among those
that answer. A replica that does not answer is left alone for REPLICA_RETRY_SECONDS and its
reads go to the primary meanwhile. The page cache asks which database a page is read from and
checks it has replayed the data version the page is stored under (claims.cache).
"""

import logging
import random
import time
from contextlib import contextmanager
from contextvars import ContextVar

import dj_database_url
from django.core.signals import request_finished
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

PRIMARY = "default"
REPLICA_PREFIX = "replica_"
# A signed-in person reads what they just wrote (their session, their login, the admin's log):
# those stay on the primary, never behind replication lag.
PRIMARY_ONLY_APPS = {"sessions", "auth", "admin", "axes"}
# How long a replica that refused or failed to connect is left alone before it is tried again.
REPLICA_RETRY_SECONDS = 5.0
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def replica_databases(urls, **options):
    """DATABASES entries for the replica URLs. Under test each mirrors `default`, so tests see
    one database whichever alias a query is routed to."""
    return {
        f"{REPLICA_PREFIX}{number}": {
            **dj_database_url.parse(url, **options),
            "TEST": {"MIRROR": PRIMARY},
        }
        for number, url in enumerate(urls, start=1)
    }


def replica_aliases():
    return [alias for alias in connections if alias.startswith(REPLICA_PREFIX)]


class ReplicasDown:
    """The replicas that failed to connect a moment ago, in this process."""

    def __init__(self):
        self.until = {}

    def mark(self, alias):
        self.until[alias] = time.monotonic() + REPLICA_RETRY_SECONDS

    def __contains__(self, alias):
        return time.monotonic() < self.until.get(alias, 0.0)

    def clear(self):
        self.until.clear()


replicas_down = ReplicasDown()


def answers(alias):
    """Whether `alias` can be read from now: connected (health-checked once per request, as
    Django does before a query) or connectable."""
    if alias in replicas_down:
        return False
    connection = connections[alias]
    try:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
    except DatabaseError:
        logger.warning("Replica %s does not answer: reading from the primary", alias)
        replicas_down.mark(alias)
        return False
    return True


def answering_replica(replicas=None):
    """A random replica that answers, or the primary when none does."""
    candidates = list(replica_aliases() if replicas is None else replicas)
    random.shuffle(candidates)
    return next((alias for alias in candidates if answers(alias)), PRIMARY)


class RequestReads:
    """Where one request reads: a fixed alias, or None until its first read chooses one."""

    def __init__(self, alias=None):
        self.alias = alias


_request_reads = ContextVar("claimwatch_request_reads", default=None)


def reads_alias(replicas=None):
    """The database the current request reads from (chosen now if it has not read yet); outside
    a request, a replica chosen afresh for each read."""
    reads = _request_reads.get()
    if reads is None:
        return answering_replica(replicas)
    if reads.alias is None:
        reads.alias = answering_replica(replicas)
    return reads.alias


@contextmanager
def reads_from(alias):
    """Every routed read in the block goes to `alias`; None: to one replica, chosen at the
    block's first read."""
    token = _request_reads.set(RequestReads(alias))
    try:
        yield
    finally:
        _request_reads.reset(token)


def _forget_request_reads(**kwargs):
    # A streamed response (an export) reads after the middleware returned; it keeps the
    # request's database until the response is closed.
    _request_reads.set(None)


request_finished.connect(_forget_request_reads, dispatch_uid="db-router-request-reads")


class ReadsFromOneDatabaseMiddleware:
    """One request, one database to read from, so that its queries agree with each other (and
    with the data version the page cache checks): the primary for editors (signed in) and for
    any request that may write, who must see their own changes; else one replica."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_aliases():
            return self.get_response(request)
        on_primary = request.method not in SAFE_METHODS or request.user.is_authenticated
        _request_reads.set(RequestReads(PRIMARY if on_primary else None))
        return self.get_response(request)


class ReplicaRouter:
    def __init__(self, replicas=None):
        self._replicas = replicas  # None: the replica aliases in settings.DATABASES

    @property
    def replicas(self):
        return replica_aliases() if self._replicas is None else self._replicas

    def db_for_read(self, model, **hints):
        replicas = self.replicas
        if not replicas or model._meta.app_label in PRIMARY_ONLY_APPS:
            return PRIMARY
        # Inside a transaction on the primary, read from it: the transaction's own writes are
        # not on any replica yet (admin forms, data migrations, management commands).
        if connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return reads_alias(replicas)

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # Replicas hold the same rows as the primary: objects from any alias may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # Replicas receive the schema through replication, never by migrating.
        return db == PRIMARY
