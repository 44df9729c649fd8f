"""Keep each claim's search document in step with the names it includes, and record the rows
loaddata saves in the history. (The page cache's invalidation is wired in claims.data_version,
beside the data version it bumps.)"""

from django.db.models.signals import m2m_changed, post_init, post_save
from django.dispatch import receiver

from claims.history import record_fixture_indications, record_fixture_row
from claims.models import SEARCHED_COLUMNS, Claim, claims_using

# A claim's search document is rewritten in batches of this many claims, one UPDATE each.
SEARCH_DOCUMENT_BATCH = 500
UNLOADED = object()


def refresh_search_documents(claims):
    """Rewrite the search documents of `claims` that no longer match what they would say: in
    a fixed number of queries however many claims there are (two reads, one UPDATE per
    SEARCH_DOCUMENT_BATCH changed documents)."""
    changed = []
    for claim in claims.select_related("clinic", "treatment__source").prefetch_related(
        "indications"
    ):
        document = claim.build_search_document()
        if document != claim.search_document:
            claim.search_document = document
            changed.append(claim)
    Claim.objects.bulk_update(changed, ["search_document"], batch_size=SEARCH_DOCUMENT_BATCH)


def searched_values(instance):
    """What the search documents read of `instance` as loaded or last saved; a column left
    unloaded (`only()`, `defer()`) is unknown, and an unknown value counts as changed."""
    loaded = instance.__dict__
    return tuple(loaded.get(column, UNLOADED) for column in SEARCHED_COLUMNS[type(instance)])


def remember_searched_values(sender, instance, **kwargs):
    instance._searched_values = searched_values(instance)


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


def named_thing_saved(sender, instance, created, raw, **kwargs):
    """A clinic, treatment, source or indication was saved: the claims that show it get new
    search documents, only if a name they include changed."""
    before = getattr(instance, "_searched_values", None)
    instance._searched_values = searched_values(instance)
    if created or raw or before == instance._searched_values:
        return
    refresh_search_documents(claims_using(instance))


for _model in SEARCHED_COLUMNS:
    post_init.connect(remember_searched_values, sender=_model, dispatch_uid=f"search-init-{_model}")
    post_save.connect(named_thing_saved, sender=_model, dispatch_uid=f"search-save-{_model}")


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
