"""sitemap.xml: every public claim page, the public pages of clinics, treatments and sources
(those a public claim names), and the fixed pages."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from claims.models import Claim, Clinic, ExosomeSource, Treatment
from claims.views import public_references


class ClaimSitemap(Sitemap):
    def items(self):
        return Claim.objects.public().only("slug", "updated_at").order_by("pk")

    def lastmod(self, claim):
        return claim.updated_at


class EntitySitemap(Sitemap):
    """The public pages of `model` (claims.views.public_references)."""

    def __init__(self, model):
        self.model = model

    def items(self):
        return public_references(self.model).only("slug").order_by("pk")


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
    "clinics": EntitySitemap(Clinic),
    "treatments": EntitySitemap(Treatment),
    "sources": EntitySitemap(ExosomeSource),
}
