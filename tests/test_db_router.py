"""Read replicas: public reads to a replica, writes and a signed-in person's rows to the primary."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session

from claims.models import Claim
from config import db_router
from config.db_router import ReplicaRouter, replica_databases

REPLICAS = ["replica_1", "replica_2"]


def test_it_adds_one_database_per_replica_url_mirroring_default_under_test():
    databases = replica_databases(
        ["postgres://reader@db-1:5432/claimwatch", "postgres://reader@db-2:5432/claimwatch"],
        conn_max_age=60,
    )

    assert list(databases) == REPLICAS
    assert databases["replica_1"]["HOST"] == "db-1"
    assert databases["replica_2"]["HOST"] == "db-2"
    assert databases["replica_1"]["CONN_MAX_AGE"] == 60
    assert databases["replica_1"]["TEST"] == {"MIRROR": "default"}


def test_it_adds_no_database_without_replica_urls():
    assert replica_databases([]) == {}


def test_it_is_the_configured_router():
    assert settings.DATABASE_ROUTERS == ["config.db_router.ReplicaRouter"]


def test_it_reads_from_the_primary_when_there_is_no_replica():
    assert ReplicaRouter(replicas=[]).db_for_read(Claim) == "default"
    assert Claim.objects.all().db == "default"  # the configured router, no replica set


def test_it_spreads_public_reads_over_the_replicas(monkeypatch):
    # Whether each replica answers is tested against real connections in test_replicas.py.
    monkeypatch.setattr(db_router, "answers", lambda alias: True)
    router = ReplicaRouter(replicas=REPLICAS)

    chosen = {router.db_for_read(Claim) for _ in range(200)}

    assert chosen == set(REPLICAS)


def test_it_keeps_sessions_and_logins_on_the_primary():
    router = ReplicaRouter(replicas=REPLICAS)

    assert router.db_for_read(Session) == "default"
    assert router.db_for_read(get_user_model()) == "default"


@pytest.mark.django_db
def test_it_reads_from_the_primary_inside_a_transaction():
    # pytest-django runs this test inside a transaction on `default`, as the admin's forms,
    # data migrations and management commands run their reads.
    assert ReplicaRouter(replicas=REPLICAS).db_for_read(Claim) == "default"


def test_it_writes_to_the_primary():
    assert ReplicaRouter(replicas=REPLICAS).db_for_write(Claim) == "default"


def test_it_relates_objects_from_any_database():
    assert ReplicaRouter(replicas=REPLICAS).allow_relation(Claim(), Claim()) is True


def test_it_migrates_the_primary_only():
    router = ReplicaRouter(replicas=REPLICAS)

    assert router.allow_migrate("default", "claims") is True
    assert router.allow_migrate("replica_1", "claims") is False
