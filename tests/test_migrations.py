"""Migrations: none missing, and every one of claims' can be undone and redone."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from claims.models import Claim
from tests.conftest import make_claim


def latest_claims_migration():
    loader = MigrationLoader(connection)
    return max(name for app, name in loader.graph.leaf_nodes() if app == "claims")


def claims_tables():
    return {name for name in connection.introspection.table_names() if name.startswith("claims_")}


def test_it_has_a_migration_for_every_model_change(db):
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_it_can_undo_every_claims_migration(db):
    loader = MigrationLoader(connection)
    irreversible = [
        f"{migration.app_label}.{migration.name}: {operation.describe()}"
        for (app, _name), migration in loader.disk_migrations.items()
        if app == "claims"
        for operation in migration.operations
        if not operation.reversible
    ]
    assert irreversible == []


@pytest.mark.django_db(transaction=True)
def test_it_migrates_claims_to_zero_and_back(jurisdictions):
    make_claim()  # data in the tables, as in production
    latest = latest_claims_migration()
    tables = claims_tables()

    call_command("migrate", "claims", "zero", verbosity=0)
    assert claims_tables() == set()
    executor = MigrationExecutor(connection)
    assert not any(app == "claims" for app, _ in executor.loader.applied_migrations)

    call_command("migrate", "claims", latest, verbosity=0)
    assert claims_tables() == tables
    assert not Claim.objects.exists()
    claim = make_claim()  # and the tables work again
    assert Claim.objects.get(pk=claim.pk).title == claim.title


@pytest.mark.django_db(transaction=True)
def test_it_undoes_each_claims_migration_one_step_at_a_time(db):
    loader = MigrationLoader(connection)
    plan = [
        name
        for app, name in loader.graph.forwards_plan(("claims", latest_claims_migration()))
        if app == "claims"
    ]
    for previous in reversed(plan[:-1]):
        call_command("migrate", "claims", previous, verbosity=0)
    call_command("migrate", "claims", plan[-1], verbosity=0)
    assert MigrationExecutor(connection).migration_plan([("claims", plan[-1])]) == []
