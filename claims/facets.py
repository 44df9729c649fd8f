"""The facets of the claims list, each declared once as a spec.

A spec says what a facet is: its parameter and label, how a value is checked and named, how it
filters and is counted, how the summary words it, and whether the admin sidebar mirrors it.
`claims.filters.ClaimFilter` (the list, the API, the exports and the feed), the OpenAPI
document, the claim page's links, the admin and the benchmark all read `FACETS`; nothing else
lists facets. Adding one is adding a spec here, and at most a line of template.

One small class per kind of facet, as in Datasette's facets.py: a row a claim points to
(`RelatedFacet`), a field with choices (`ChoiceFacet`), the clinic's country (`CountryFacet`),
a many-to-many relation (`ManyToManyFacet`) and a jurisdiction's flag (`FlagFacet`, one per
Jurisdiction row, where `JURISDICTION_FLAGS` stands in `FACETS`). A facet whose path runs
through the claim's treatment is a treatment attribute: `treatment_paths` says where it is on a
treatment, so that one count by treatment serves them all.

No model is imported here: claims.models validates jurisdiction codes against
`reserved_parameters()`, and a spec finds its model through the app registry when it first
needs one.
"""

from dataclasses import dataclass
from functools import cached_property

from django.apps import apps
from django.db.models import Exists, F, OuterRef, Value
from django.utils.translation import gettext, gettext_lazy
from django_countries import countries

# Parameters of the list that are not facets: the search, the order, the page, and names kept
# for the formats and points in time other outputs take or will take.
LIST_PARAMETERS = ("q", "sort", "page", "as_of", "since", "format")


def _claim_model():
    return apps.get_model("claims", "Claim")


def _field_at(path):
    """The model field at the end of `path`, a lookup path from a claim."""
    model = _claim_model()
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)


def _walk(obj, path):
    """The attribute at the end of `path` from `obj`, None once a link is missing."""
    for name in path.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, name)
    return obj


@dataclass(frozen=True, kw_only=True)
class FacetSpec:
    param: str
    label: str
    # How the summary names the chosen values ("in United Kingdom or France"); None: the
    # values alone.
    phrase: str | None = None
    # Whether the summary lower-cases the values' labels ("not approved", "human").
    lower_labels: bool = False
    # Whether the admin's claim changelist has this facet as a sidebar filter.
    in_admin: bool = False
    many = False  # a claim can have several values

    path = ""  # from a claim to the value that goes in URLs
    label_path = None  # from a claim to the value's label, when the database holds it

    def known(self, values):
        """{value: label} for those of `values` that exist."""
        raise NotImplementedError

    def option_label(self, value):
        """The label of a counted value whose row brought none (see `label_path`)."""
        return value

    def filter(self, queryset, values):
        return queryset.filter(**{f"{self.path}__in": values})

    def counted(self, queryset):
        """`queryset` ready to be grouped by this facet, and the value to group by."""
        return queryset, F(self.path)

    def counted_label(self):
        """What a count row takes its label from ("" when `option_label` gives it)."""
        return F(self.label_path) if self.label_path else Value("")

    def describe(self, values_text):
        return self.phrase % {"values": values_text} if self.phrase else values_text

    def value_of(self, claim):
        """The value a claim has, for its page's link; None when it has none."""
        return _walk(claim, self.path)

    @property
    def treatment_paths(self):
        """(value path, label path or None) from a treatment, when this facet describes the
        claim's treatment; else None."""
        prefix = "treatment__"
        if not self.path.startswith(prefix):
            return None
        label = self.label_path.removeprefix(prefix) if self.label_path else None
        return self.path.removeprefix(prefix), label

    @property
    def admin_path(self):
        return self.path

    def examples(self):
        """The values an API reader can be told about in advance (none for open sets)."""
        return []

    def openapi_parameter(self):
        values = self.examples()
        items = {"type": "string"}
        if values:
            items["examples"] = values
            items["description"] = (
                f"Others are ignored with a notice. Known values: {', '.join(values)}."
            )
        return {
            "name": self.param,
            "in": "query",
            "description": f"{self.label}. Several values are OR'ed; unknown values are "
            "ignored with a notice.",
            "schema": {"type": "array", "items": items},
            "style": "form",
            "explode": True,
        }


@dataclass(frozen=True, kw_only=True)
class RelatedFacet(FacetSpec):
    """A row the claim points to through foreign keys, named in URLs by its `key`."""

    relation: str
    key: str = "slug"
    name_field: str = "name"

    @property
    def path(self):
        return f"{self.relation}__{self.key}"

    @property
    def label_path(self):
        return f"{self.relation}__{self.name_field}"

    @property
    def admin_path(self):
        return self.relation

    @cached_property
    def model(self):
        return _field_at(self.path).model

    def known(self, values):
        rows = self.model.objects.filter(**{f"{self.key}__in": values})
        return dict(rows.values_list(self.key, self.name_field))


@dataclass(frozen=True, kw_only=True)
class ManyToManyFacet(RelatedFacet):
    """Rows a claim has several of. It filters through EXISTS, so that a claim with two of
    the chosen values comes once, without a DISTINCT over every claim column."""

    many = True

    def filter(self, queryset, values):
        field = _claim_model()._meta.get_field(self.relation)
        tagged = field.remote_field.through.objects.filter(
            **{
                field.m2m_field_name(): OuterRef("pk"),
                f"{field.m2m_reverse_field_name()}__{self.key}__in": values,
            }
        )
        return queryset.filter(Exists(tagged))

    def related_objects(self, claim):
        return list(getattr(claim, self.relation).all())


class ByChoices:
    """Values that are a field's choices, labelled as the choices are; `choices` maps them."""

    def known(self, values):
        choices = self.choices
        return {value: choices[value] for value in values if value in choices}

    def option_label(self, value):
        return self.choices[value]

    def examples(self):
        return list(self.choices)


@dataclass(frozen=True, kw_only=True)
class ChoiceFacet(ByChoices, FacetSpec):
    """A field with choices, reached by `path`."""

    path: str
    lower_labels: bool = True

    @property
    def choices(self):
        return dict(_field_at(self.path).choices)


@dataclass(frozen=True, kw_only=True)
class CountryFacet(FacetSpec):
    """A country, by its ISO 3166-1 code in any case."""

    path: str

    def known(self, values):
        found = {}
        for value in values:
            code = value.upper()
            if code in countries:
                found[code] = countries.name(code)
        return found

    def option_label(self, value):
        return countries.name(value)

    def value_of(self, claim):
        country = _walk(claim, self.path)
        return country.code if country else None


@dataclass(frozen=True, kw_only=True)
class FlagFacet(ByChoices, FacetSpec):
    """A claim's flag in one jurisdiction, override included; its parameter is the code."""

    jurisdiction: object
    lower_labels: bool = True

    @classmethod
    def of(cls, jurisdiction):
        return cls(
            param=jurisdiction.code,
            label=gettext("%(jurisdiction)s status") % {"jurisdiction": jurisdiction.short_label},
            jurisdiction=jurisdiction,
        )

    @property
    def choices(self):
        return dict(apps.get_model("claims", "RegulatoryStatus")._meta.get_field("status").choices)

    def filter(self, queryset, values):
        return queryset.with_status_in(self.jurisdiction, values)

    def counted(self, queryset):
        return queryset.with_flag(self.jurisdiction, "facet_flag", select=True), F("facet_flag")

    def describe(self, values_text):
        return gettext("%(jurisdiction)s: %(values)s") % {
            "jurisdiction": self.jurisdiction.short_label,
            "values": values_text,
        }


# Where each jurisdiction's flag facet goes among the others.
JURISDICTION_FLAGS = object()

FACETS = [
    RelatedFacet(param="clinic", label=gettext_lazy("Clinic"), relation="clinic"),
    CountryFacet(
        param="country",
        label=gettext_lazy("Country"),
        path="clinic__country",
        phrase=gettext_lazy("in %(values)s"),
        in_admin=True,
    ),
    RelatedFacet(param="treatment", label=gettext_lazy("Treatment"), relation="treatment"),
    ChoiceFacet(param="route", label=gettext_lazy("Route"), path="treatment__route", in_admin=True),
    ChoiceFacet(
        param="origin",
        label=gettext_lazy("Exosome origin"),
        path="treatment__source__origin",
        in_admin=True,
    ),
    RelatedFacet(
        param="source",
        label=gettext_lazy("Exosome source"),
        relation="treatment__source",
        phrase=gettext_lazy("from %(values)s"),
    ),
    ManyToManyFacet(
        param="indication",
        label=gettext_lazy("Indication"),
        relation="indications",
        phrase=gettext_lazy("for %(values)s"),
        in_admin=True,
    ),
    RelatedFacet(
        param="evidence",
        label=gettext_lazy("Evidence level"),
        relation="evidence_level",
        key="code",
        phrase=gettext_lazy("evidence: %(values)s"),
        in_admin=True,
    ),
    JURISDICTION_FLAGS,
    RelatedFacet(
        param="conference",
        label=gettext_lazy("Conference"),
        relation="conference",
        phrase=gettext_lazy("at %(values)s"),
        in_admin=True,
    ),
    RelatedFacet(
        param="presentation",
        label=gettext_lazy("Presentation"),
        relation="presentation",
        name_field="title",
        phrase=gettext_lazy("in the presentation %(values)s"),
        in_admin=True,
    ),
]

STATIC_FACETS = [spec for spec in FACETS if spec is not JURISDICTION_FLAGS]


def facet_specs(jurisdictions):
    """Every facet of the list, in URL order, with a flag facet per one of `jurisdictions`."""
    specs = []
    for spec in FACETS:
        if spec is JURISDICTION_FLAGS:
            specs += [FlagFacet.of(jurisdiction) for jurisdiction in jurisdictions]
        else:
            specs.append(spec)
    return specs


def reserved_parameters():
    """Every parameter name the list's URLs use apart from jurisdictions' flags: the one list
    a jurisdiction's code, which becomes a parameter of its own, must stay out of."""
    return frozenset((*LIST_PARAMETERS, *(spec.param for spec in STATIC_FACETS)))


def is_reserved_parameter(code):
    """Case-blind, so that no code differs from a parameter only by its case."""
    return code.lower() in reserved_parameters()


def openapi_parameters(jurisdictions):
    """The facets' query parameters as OpenAPI 3.1 parameter objects, in URL order."""
    return [spec.openapi_parameter() for spec in facet_specs(jurisdictions)]
