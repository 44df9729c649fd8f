"""Read replicas at work: which database each request reads, replication lag, a lost replica.

These tests commit (`transaction=True`), as the site does: a replica only sees committed rows.
`replica_1` and `replica_2` are added for this module as connections of their own. In sync,
each reads the test database itself, as a replica that has replayed everything. Lagging, each
shows the database as it was when the test froze it, and nothing committed since, until it
catches up: on PostgreSQL a connection holding a REPEATABLE READ snapshot (what a standby shows
while its replay is behind), on SQLite a copy of the database in a file (what pg_basebackup
starts a replica from).
"""

import importlib
import sqlite3
from contextlib import ExitStack

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.data_version import local_pages, replayed_versions
from claims.models import Claim
from config.db_router import PRIMARY, replica_aliases, replicas_down

REPLICAS = ["replica_1", "replica_2"]
ALIASES = [PRIMARY, *REPLICAS]
# serialized_rollback: the editors' and publishers' groups, made by migrations, come back after
# each test's flush.
pytestmark = pytest.mark.django_db(
    transaction=True, serialized_rollback=True, databases=[PRIMARY, *REPLICAS]
)


@pytest.fixture(scope="module", autouse=True)
def replica_databases(django_db_setup):
    """Two replica aliases, connecting as `default` does (to the test database), for this
    module's tests only: DATABASES cannot be overridden once connections exist, so they are
    added to the connection handler itself, before each test declares the databases it uses."""
    for alias in REPLICAS:
        connections.settings[alias] = {
            **connections[PRIMARY].settings_dict,
            "TEST": {**connections[PRIMARY].settings_dict["TEST"], "MIRROR": PRIMARY},
        }
    yield
    for alias in REPLICAS:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


@pytest.fixture(autouse=True)
def editors_and_publishers(transactional_db):
    """The groups as their migrations make them. serialized_rollback brings them back alone,
    but not after some other modules' tests (tests/test_admin_layout_browser.py says the same)."""
    config = apps.get_app_config("claims")
    models_module = config.models_module
    try:
        for migration, make_groups in GROUP_MIGRATIONS:
            getattr(importlib.import_module(f"claims.migrations.{migration}"), make_groups)(
                apps, schema_editor=None
            )
    finally:
        config.models_module = models_module


GROUP_MIGRATIONS = [
    ("0002_editors_group", "create_editors"),
    ("0004_publishers_group", "create_publishers"),
    ("0006_revisions", "grant_review"),
]


@pytest.fixture(autouse=True)
def fresh_replica_state():
    replicas_down.clear()
    replayed_versions.clear()
    yield
    replicas_down.clear()


class Replica:
    """One replica alias, in sync with the primary until frozen."""

    def __init__(self, alias, tmp_path):
        self.alias, self.tmp_path = alias, tmp_path
        self.original = dict(connections[alias].settings_dict)
        self.snapshot = None

    @property
    def connection(self):
        return connections[self.alias]

    def reconnect(self, **changes):
        # SQLite's close() keeps an in-memory database's connection open, lest the database go.
        # The primary's connection keeps it here, so this one may go.
        BaseDatabaseWrapper.close(self.connection)
        self.connection.settings_dict.update(changes)

    def freeze(self):
        """From now on the replica shows the database as it is now."""
        if self.connection.vendor == "postgresql":
            self.snapshot = transaction.atomic(using=self.alias)
            self.snapshot.__enter__()
            with self.connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("SELECT count(*) FROM claims_dataversion")  # takes the snapshot
        else:
            copy = self.tmp_path / f"{self.alias}.sqlite3"
            connections[PRIMARY].ensure_connection()
            with sqlite3.connect(copy) as target:
                connections[PRIMARY].connection.backup(target)
            self.reconnect(NAME=str(copy))

    def refuse(self):
        """The replica is gone: its port refuses connections (SQLite: its file cannot be
        opened)."""
        if self.connection.vendor == "postgresql":
            self.reconnect(HOST="127.0.0.1", PORT="1")
        else:
            self.reconnect(NAME=str(self.tmp_path / "no-such-directory" / "replica.sqlite3"))

    def catch_up(self):
        """The replica has replayed everything the primary committed (and is back)."""
        if self.snapshot is not None:
            self.snapshot.__exit__(None, None, None)
            self.snapshot = None
        self.reconnect(**self.original)


class Replicas(list):
    def freeze(self):
        for replica in self:
            replica.freeze()

    def refuse(self):
        for replica in self:
            replica.refuse()

    def catch_up(self):
        for replica in self:
            replica.catch_up()


@pytest.fixture
def replicas(tmp_path):
    replicas = Replicas(Replica(alias, tmp_path) for alias in REPLICAS)
    yield replicas
    replicas.catch_up()


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.PAGE_CACHE_SECONDS = 300


class Captured:
    """The SQL run on the primary and on each replica while the block runs."""

    def __enter__(self):
        self.contexts = {alias: CaptureQueriesContext(connections[alias]) for alias in ALIASES}
        for context in self.contexts.values():
            context.__enter__()
        return self

    def __exit__(self, *exc_info):
        for context in self.contexts.values():
            context.__exit__(*exc_info)
        # Read now: a connection closed later (a replica catching up) forgets its log.
        self.queries = {
            alias: [query["sql"] for query in context] for alias, context in self.contexts.items()
        }

    def on(self, *aliases):
        return [sql for alias in aliases for sql in self.queries[alias]]

    @property
    def on_primary(self):
        return self.on(PRIMARY)

    @property
    def on_replicas(self):
        return self.on(*REPLICAS)


def get(client, url):
    with Captured() as queries:
        response = client.get(url)
    return response, queries


def forget_pages():
    """The next request for any page is a miss (the data version stays the same)."""
    cache.clear()
    local_pages.clear()


def of_claims(queries):
    return [sql for sql in queries if '"claims_claim"' in sql]


def of_the_data_version(queries):
    return [sql for sql in queries if '"claims_dataversion"' in sql]


def test_it_routes_reads_to_the_replica_aliases_of_this_module():
    assert replica_aliases() == REPLICAS


def test_it_reads_an_anonymous_readers_page_from_a_replica(client, claim):
    response, queries = get(client, reverse("claims:list"))

    assert response.status_code == 200
    assert claim.title in response.text
    assert of_claims(queries.on_replicas)
    assert not of_claims(queries.on_primary)


def test_it_reads_each_request_from_one_replica(client, claim):
    used = []
    for _ in range(30):
        forget_pages()
        response, queries = get(client, reverse("claims:list"))
        assert response.status_code == 200
        used.append(tuple(alias for alias in REPLICAS if queries.on(alias)))

    assert set(used) == {("replica_1",), ("replica_2",)}


def test_it_reads_an_editors_public_page_from_the_primary(client, claim, editor):
    client.force_login(editor)

    response, queries = get(client, reverse("claims:list"))

    assert response.status_code == 200
    assert of_claims(queries.on_primary)
    assert queries.on_replicas == []


def test_it_reads_an_editors_admin_pages_from_the_primary(client, claim, editor):
    client.force_login(editor)

    response, queries = get(client, reverse("admin:claims_claim_changelist"))

    assert response.status_code == 200
    assert claim.title in response.text
    assert of_claims(queries.on_primary)
    assert queries.on_replicas == []


def test_it_reads_a_request_that_may_write_from_the_primary(client, claim, editor):
    client.force_login(editor)

    with Captured() as queries:
        # An incomplete form: read, validated and refused, all on the primary.
        response = client.post(reverse("admin:claims_claim_change", args=[claim.pk]), {})

    assert response.status_code == 200
    assert of_claims(queries.on_primary)
    assert queries.on_replicas == []


def test_it_shows_a_publishers_retraction_on_the_next_request(client, claim, publisher):
    list_url = reverse("claims:list")
    assert claim.title in client.get(list_url).text  # now cached

    claim.move_to(Claim.State.RETRACTED, user=publisher)

    assert claim.title not in client.get(list_url).text


def test_it_never_caches_a_page_from_a_lagging_replica_under_the_new_version(
    client, replicas, claim, publisher
):
    list_url = reverse("claims:list")
    replicas.freeze()
    claim.move_to(Claim.State.RETRACTED, user=publisher)
    for alias in REPLICAS:
        assert Claim.objects.using(alias).get(pk=claim.pk).state == Claim.State.PUBLISHED

    during_lag, queries = get(client, list_url)
    replicas.catch_up()
    after_lag = client.get(list_url)

    # Built from the primary, which has the retraction, and stored so: the replica, behind the
    # data version, was asked for that version and nothing else.
    assert claim.title not in during_lag.text
    assert claim.title not in after_lag.text
    assert of_the_data_version(queries.on_replicas)
    assert not of_claims(queries.on_replicas)


def test_it_keeps_facet_counts_under_the_version_the_page_was_checked_at(
    client, replicas, claim, publisher
):
    """An edit lands while a page is being built from a replica in step with the version the
    build began with: the counts it reads are of that version, and are kept under it."""
    retracted = []

    def publish_meanwhile(execute, sql, params, many, context):
        if not retracted and '"claims_claim"' in sql:
            retracted.append(claim)
            claim.move_to(Claim.State.RETRACTED, user=publisher)
        return execute(sql, params, many, context)

    replicas.freeze()  # in step now; behind the retraction once it lands
    with ExitStack() as stack:
        for alias in REPLICAS:
            stack.enter_context(connections[alias].execute_wrapper(publish_meanwhile))
        client.get(reverse("claims:list"))
    replicas.catch_up()

    assert retracted
    assert claim.clinic.name not in client.get(reverse("claims:list")).text


def test_it_reads_from_the_replicas_again_once_they_have_caught_up(
    client, replicas, claim, publisher
):
    replicas.freeze()
    claim.move_to(Claim.State.RETRACTED, user=publisher)
    client.get(reverse("claims:list"))
    replicas.catch_up()

    response, queries = get(client, reverse("claims:list") + "?sort=newest")

    assert claim.title not in response.text
    assert of_claims(queries.on_replicas)
    assert not of_claims(queries.on_primary)


def test_it_asks_each_replica_for_a_data_version_once(client, claim):
    for _ in range(10):
        forget_pages()  # every request a miss
        client.get(reverse("claims:list"))

    forget_pages()
    _, queries = get(client, reverse("claims:list"))

    assert of_claims(queries.on_replicas)
    assert of_the_data_version(queries.on_replicas) == []


def test_it_reads_from_the_primary_when_the_replicas_refuse_connections(client, replicas, claim):
    replicas.refuse()

    for url in [reverse("claims:list"), claim.get_absolute_url(), reverse("claims:api-claims")]:
        with CaptureQueriesContext(connections[PRIMARY]) as on_primary:
            response = client.get(url)

        assert response.status_code == 200
        assert claim.title in response.text
        assert of_claims(query["sql"] for query in on_primary)
    assert all(alias in replicas_down for alias in REPLICAS)


def test_it_leaves_a_refused_replica_alone_for_a_while(replicas, claim):
    replicas.refuse()
    assert list(Claim.objects.all()) == [claim]

    with CaptureQueriesContext(connections[PRIMARY]) as on_primary:
        assert list(Claim.objects.all()) == [claim]

    assert len(on_primary) == 1
    assert all(connections[alias].connection is None for alias in REPLICAS)
