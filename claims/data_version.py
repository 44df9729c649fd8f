"""The data version: one value for all the curated data, bumped whenever an editor saves or
deletes anything curated (`watch_curated_data`, below, wires the signals, beside the version
they bump). Page keys and ETags include it (claims.cache), so one bump makes every cached page
and every validator stale at once, and nothing has to be deleted.

The version lives in the database (`DataVersion`, one row), written in the same transaction as
the edit, and every app server sees each bump within a second (each process trusts the version
it read for that long, and keeps its most requested pages itself: `LocalPages`). It does not
live only in the cache beside the pages: a Redis cut off from the app servers (still running,
its data intact) misses the bumps made meanwhile, and when it came back the pages from before a
retraction would be valid again. The cache keeps a copy, used only while the database cannot
be read, when nobody can edit either.
With read replicas, each replica's own copy of the version says whether it has replayed an
edit (`ReplayedVersions`).
"""

import logging
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager

from django.apps import apps
from django.core.cache import cache
from django.db import DatabaseError, connections, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from config.db_router import replicas_down

logger = logging.getLogger(__name__)

VERSION_KEY = "claimwatch:data-version"
# How long a process trusts the version it last read, and how many pages it keeps itself.
VERSION_CHECK_SECONDS = 1.0
LOCAL_PAGES = 500


class LocalPages:
    """This process's copy of the version and of its most requested pages. Without it every
    hit costs two round trips to Redis and a 25 kB transfer. An edit made in this process
    shows at once; one made in another shows here within VERSION_CHECK_SECONDS."""

    def __init__(self, size):
        self.size = size
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        self.version, self.fresh_until, self.pages = None, 0.0, OrderedDict()

    def trusted_version(self):
        return self.version if time.monotonic() < self.fresh_until else None

    def remember_version(self, version):
        with self.lock:
            if version != self.version:
                self.pages = OrderedDict()  # pages of older versions can never be asked for
            self.version, self.fresh_until = version, time.monotonic() + VERSION_CHECK_SECONDS

    def get(self, key):
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def put(self, key, page):
        with self.lock:
            self.pages[key] = page
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)


local_pages = LocalPages(LOCAL_PAGES)


def _new_version():
    """Hex nanoseconds since the epoch: unique enough, and it says when the data changed."""
    return f"{time.time_ns():x}"


def stored_version():
    """The database's data version, or None when it has none or cannot be read. Read from the
    primary: a replica may not have the latest bump yet."""
    from claims.models import DataVersion

    try:
        version = (
            DataVersion.objects.using("default")
            .filter(pk=DataVersion.ONLY_ROW)
            .values_list("version", flat=True)
            .first()
        )
    except DatabaseError as error:
        logger.warning("The data version cannot be read: using the cache's copy")
        database_failure.remember(error)
        return None
    database_failure.forget()
    return version


class DatabaseFailure:
    """The database failed to give the version a moment ago: a page that is not cached, which
    would need it too, answers 503 at once instead of waiting out a second timeout."""

    def __init__(self):
        self.error, self.until = None, 0.0

    def remember(self, error):
        self.error, self.until = error, time.monotonic() + VERSION_CHECK_SECONDS

    def forget(self):
        self.error, self.until = None, 0.0

    def recent(self):
        return self.error if time.monotonic() < self.until else None


database_failure = DatabaseFailure()


class ReplayedVersions:
    """The data version each replica was last seen to have replayed, in this process. A
    replica only moves forward: once it has shown a version, it holds that version's data."""

    def __init__(self):
        self.versions = {}

    def has_replayed(self, alias, version):
        """Whether the replica `alias` shows the change that made `version`: it has the same
        data version, or neither it nor the primary has one yet (nothing was ever edited)."""
        from claims.models import DataVersion

        if self.versions.get(alias) == version:
            return True
        try:
            replayed = (
                DataVersion.objects.using(alias)
                .filter(pk=DataVersion.ONLY_ROW)
                .values_list("version", flat=True)
                .first()
            )
        except DatabaseError:
            logger.warning("Replica %s does not answer: reading from the primary", alias)
            replicas_down.mark(alias)
            return False
        if replayed is None:
            return stored_version() is None
        self.versions[alias] = replayed
        return replayed == version

    def clear(self):
        self.versions.clear()


replayed_versions = ReplayedVersions()


def cached_version():
    """The cache's copy of the version. An emptied cache starts a new one, which only makes
    pages look changed: safe."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, _new_version(), timeout=None)
        version = cache.get(VERSION_KEY) or _new_version()
    return version


def data_version():
    """The current data version: the database's, else (no row yet, or no database) the
    cache's copy."""
    version = local_pages.trusted_version()
    if version is None:
        version = stored_version()
        if version is None:
            version = cached_version()
        elif version != local_pages.version:
            cache.set(VERSION_KEY, version, timeout=None)  # the copy, for a database outage
        local_pages.remember_version(version)
    return version


def bump_data_version(using="default"):
    """Curated data changed: every cached page and ETag is stale from now on. Called inside
    the edit's transaction, the new version commits (or rolls back) with the edit."""
    from claims.models import DataVersion

    version = _new_version()
    DataVersion.objects.using(using).bulk_create(
        [DataVersion(pk=DataVersion.ONLY_ROW, version=version)],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["version"],
    )
    cache.set(VERSION_KEY, version, timeout=None)
    local_pages.remember_version(version)


_bumps = threading.local()


@contextmanager
def one_version_bump(using="default"):
    """Changes made inside bump the data version once, at the end, instead of once each
    (an import saves thousands of rows, each several times)."""
    outermost = not getattr(_bumps, "deferred", False)
    _bumps.deferred, _bumps.changed = True, getattr(_bumps, "changed", False) and not outermost
    try:
        yield
    finally:
        if outermost:
            changed = _bumps.changed
            _bumps.deferred = _bumps.changed = False
            if changed:
                curated_data_changed(None, using=using)


def curated_data_changed(sender, using="default", action="post_", **kwargs):
    """Any save, delete or tag change of curated data makes every cached page stale."""
    if not action.startswith("post_"):
        return
    if getattr(_bumps, "deferred", False):
        _bumps.changed = True
        return
    bump_data_version(using)
    # A request rendering between this bump and the commit would store the old rows under the
    # new version: bump again once the change is visible to other connections.
    if connections[using].in_atomic_block:
        transaction.on_commit(lambda: bump_data_version(using), using=using)


def curated_models():
    """Every model of this app except the history tables, which record changes but are
    never shown on a public page, and pending revisions, which readers never see (approving
    one saves the live rows, which makes the pages stale)."""
    from simple_history.models import HistoricalChanges

    from claims.models import DataVersion, Revision

    return [
        model
        for model in apps.get_app_config("claims").get_models()
        if not issubclass(model, HistoricalChanges | Revision) and model is not DataVersion
    ]


def watch_curated_data():
    """Connect `curated_data_changed` to every save, delete and tag change of curated data
    (called once the app registry is ready: ClaimsConfig.ready)."""
    for model in curated_models():
        post_save.connect(curated_data_changed, sender=model, dispatch_uid=f"cache-save-{model}")
        post_delete.connect(curated_data_changed, sender=model, dispatch_uid=f"cache-del-{model}")
        for field in model._meta.many_to_many:
            m2m_changed.connect(
                curated_data_changed,
                sender=field.remote_field.through,
                dispatch_uid=f"cache-m2m-{field}",
            )
