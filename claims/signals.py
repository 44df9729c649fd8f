"""Keep each claim's search document in step with the names it includes, and make cached pages
stale whenever curated data changes."""

import threading
from contextlib import contextmanager

from django.apps import apps
from django.db import connections, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from simple_history.models import HistoricalChanges

from claims.cache import bump_data_version
from claims.history import record_fixture_indications, record_fixture_row
from claims.models import (
    Claim,
    Clinic,
    DataVersion,
    ExosomeSource,
    Indication,
    Revision,
    Treatment,
    claims_using,
)


def refresh_search_documents(claims):
    for claim in claims.select_related("clinic", "treatment__source").prefetch_related(
        "indications"
    ):
        document = claim.build_search_document()
        if document != claim.search_document:
            Claim.objects.filter(pk=claim.pk).update(search_document=document)


@receiver(m2m_changed, sender=Claim.indications.through)
def indications_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if hasattr(instance, "fixture_record"):
        record_fixture_indications(instance)
    if reverse:
        refresh_search_documents(Claim.objects.filter(indications=instance))
        if action != "post_clear":
            refresh_search_documents(Claim.objects.filter(pk__in=pk_set))
    else:
        refresh_search_documents(Claim.objects.filter(pk=instance.pk))


@receiver(post_save, sender=Clinic)
@receiver(post_save, sender=Treatment)
@receiver(post_save, sender=ExosomeSource)
@receiver(post_save, sender=Indication)
def named_thing_saved(sender, instance, created, raw, **kwargs):
    if created or raw:
        return
    refresh_search_documents(claims_using(instance))


@receiver(post_save)
def curated_row_loaded_from_fixture(sender, instance, raw, **kwargs):
    # loaddata saves rows raw, which simple_history does not record; claims.history does.
    if raw and sender._meta.app_label == "claims" and hasattr(sender, "history"):
        record_fixture_row(sender, instance)


@receiver(post_save, sender=Claim)
def claim_loaded_from_fixture(sender, instance, raw, **kwargs):
    # loaddata saves rows raw, bypassing Claim.save(); build the document once it is in.
    if raw:
        refresh_search_documents(Claim.objects.filter(pk=instance.pk))


# --- Page cache invalidation ----------------------------------------------------------------


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
    return [
        model
        for model in apps.get_app_config("claims").get_models()
        if not issubclass(model, HistoricalChanges | Revision) and model is not DataVersion
    ]


for _model in curated_models():
    post_save.connect(curated_data_changed, sender=_model, dispatch_uid=f"cache-save-{_model}")
    post_delete.connect(curated_data_changed, sender=_model, dispatch_uid=f"cache-del-{_model}")
    for _field in _model._meta.many_to_many:
        m2m_changed.connect(
            curated_data_changed,
            sender=_field.remote_field.through,
            dispatch_uid=f"cache-m2m-{_field}",
        )
