"""sitemap.xml: every public claim page, the pages of clinics, treatments and sources with
published claims, and the fixed pages."""

from django.contrib.sitemaps import Sitemap
from django.db.models import Exists, OuterRef
from django.urls import reverse

from claims.models import Claim, Clinic, ExosomeSource, Treatment


class ClaimSitemap(Sitemap):
    def items(self):
        return Claim.objects.public().only("slug", "updated_at").order_by("pk")

    def lastmod(self, claim):
        return claim.updated_at


class EntitySitemap(Sitemap):
    """The pages of `model` that list at least one published claim."""

    def __init__(self, model, claim_path):
        self.model = model
        self.claim_path = claim_path

    def items(self):
        published = Claim.objects.published().filter(**{self.claim_path: OuterRef("pk")})
        return self.model.objects.filter(Exists(published)).only("slug").order_by("pk")


class StaticSitemap(Sitemap):
    def items(self):
        return [
            "claims:home",
            "claims:list",
            "claims:evidence",
            "claims:regulatory",
            "claims:method",
            "claims:safety",
            "claims:exosomes",
            "claims:api",
        ]

    def location(self, name):
        return reverse(name)


SITEMAPS = {
    "pages": StaticSitemap(),
    "claims": ClaimSitemap(),
    "clinics": EntitySitemap(Clinic, "clinic"),
    "treatments": EntitySitemap(Treatment, "treatment"),
    "sources": EntitySitemap(ExosomeSource, "treatment__source"),
}
