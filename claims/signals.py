"""Keep each claim's search document in step with the names it includes."""

from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from claims.models import Claim, Clinic, ExosomeSource, Indication, Treatment


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
    path = {
        Clinic: "clinic",
        Treatment: "treatment",
        ExosomeSource: "treatment__source",
        Indication: "indications",
    }[sender]
    refresh_search_documents(Claim.objects.filter(**{path: instance}))


@receiver(post_save, sender=Claim)
def claim_loaded_from_fixture(sender, instance, raw, **kwargs):
    # loaddata saves rows raw, bypassing Claim.save(); build the document once it is in.
    if raw:
        refresh_search_documents(Claim.objects.filter(pk=instance.pk))
