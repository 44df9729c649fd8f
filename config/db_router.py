"""Read replicas: public reads go to a replica, everything else to the primary.

`DATABASE_REPLICA_URLS` (comma-separated) adds the aliases `replica_1` … `replica_n` to
DATABASES; with none set, the router stands aside and every query goes to `default`.
"""

import random

import dj_database_url
from django.conf import settings
from django.db import connections

PRIMARY = "default"
REPLICA_PREFIX = "replica_"
# A signed-in person reads what they just wrote (their session, their login, the admin's log):
# those stay on the primary, never behind replication lag.
PRIMARY_ONLY_APPS = {"sessions", "auth", "admin", "axes"}


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
    return [alias for alias in settings.DATABASES if alias.startswith(REPLICA_PREFIX)]


class ReplicaRouter:
    def __init__(self, replicas=None):
        self._replicas = replicas  # None: the replica aliases in settings.DATABASES

    @property
    def replicas(self):
        if self._replicas is None:
            self._replicas = replica_aliases()  # DATABASES is fixed once the site runs
        return self._replicas

    def db_for_read(self, model, **hints):
        replicas = self.replicas
        if not replicas or model._meta.app_label in PRIMARY_ONLY_APPS:
            return PRIMARY
        # Inside a transaction on the primary, read from it: the transaction's own writes are
        # not on any replica yet (admin forms, data migrations, management commands).
        if connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return random.choice(replicas)

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # Replicas hold the same rows as the primary: objects from any alias may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # Replicas receive the schema through replication, never by migrating.
        return db == PRIMARY
