"""All public list filtering: the one home of the /claims/ URL contract.

The HTML list, the home page's map and every other output that takes these parameters go
through `ClaimFilter`, so a shared link means the same set of claims everywhere.

Contract: values are readable slugs or codes; several values of one parameter are OR'ed,
different parameters AND'ed; unknown values are dropped with a notice; one filter state has one
canonical query string (parameters in `ClaimFilter.param_order()`, values de-duplicated and
sorted, defaults and empties dropped).
"""

import re
from dataclasses import dataclass, field

import django_filters
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Value,
)
from django.db.models.functions import Cast
from django.http import QueryDict
from django.urls import reverse
from django.utils.text import Truncator
from django_countries import countries

from claims.cache import cached_facet_counts
from claims.models import (
    Claim,
    Clinic,
    Conference,
    EvidenceLevel,
    ExosomeSource,
    Indication,
    Jurisdiction,
    Origin,
    Route,
    Status,
    Treatment,
)
from claims.search import rank_by_relevance, search
from claims.text import lower_first, with_query

MAX_QUERY_LENGTH = 200
# Control characters mean nothing in a search or a slug, and the feed's XML and PostgreSQL (NUL)
# refuse them: a search reads them as spaces, a filter value drops them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_VALUES_PER_PARAM = 50
MAX_OPTIONS_PER_FACET = 30


class Sort:
    NEWEST = "newest"
    STRONGEST = "strongest-evidence"
    WEAKEST = "weakest-evidence"
    CLINIC = "clinic"
    RELEVANCE = "relevance"

    LABELS = {
        RELEVANCE: "Best match",
        NEWEST: "Newest first",
        STRONGEST: "Strongest evidence first",
        WEAKEST: "Weakest evidence first",
        CLINIC: "Clinic A–Z",
    }
    ORDERINGS = {
        NEWEST: ["-published_at", "-pk"],
        STRONGEST: ["-evidence_level__rank", "-published_at", "-pk"],
        WEAKEST: ["evidence_level__rank", "-published_at", "-pk"],
        CLINIC: ["clinic__name", "-published_at", "-pk"],
        RELEVANCE: ["-search_rank", "-published_at", "-pk"],
    }


@dataclass
class Option:
    value: str
    label: str
    count: int
    selected: bool
    toggle_url: str  # the canonical URL with this option switched on or off


@dataclass
class Facet:
    param: str
    label: str
    options: list[Option] = field(default_factory=list)
    hidden_count: int = 0  # options with claims that are not listed (see MAX_OPTIONS_PER_FACET)

    shown_first = 8

    @property
    def first_options(self):
        return self.options[: self.shown_first]

    @property
    def more_options(self):
        return self.options[self.shown_first :]

    @property
    def has_selection_in_more(self):
        return any(option.selected for option in self.more_options)


@dataclass
class Chip:
    param: str
    value: str
    label: str
    remove_url: str


def _vocabulary(model, key="slug", label="name"):
    def lookup(values):
        return dict(model.objects.filter(**{f"{key}__in": values}).values_list(key, label))

    return lookup


def _choices(choices_class):
    labels = dict(choices_class.choices)

    def lookup(values):
        return {value: labels[value] for value in values if value in labels}

    return lookup


def _countries(values):
    found = {}
    for value in values:
        code = value.upper()
        if code in countries:
            found[code] = countries.name(code)
    return found


# Entity parameters: (parameter, facet label, how to find known values and their labels,
# the path a facet groups by, the path of its label, the summary's wording).
FACETS = [
    ("clinic", "Clinic", _vocabulary(Clinic), "clinic__slug", "clinic__name", "{}"),
    ("country", "Country", _countries, "clinic__country", None, "in {}"),
    ("treatment", "Treatment", _vocabulary(Treatment), "treatment__slug", "treatment__name", "{}"),
    ("route", "Route", _choices(Route), "treatment__route", None, "{}"),
    ("origin", "Exosome origin", _choices(Origin), "treatment__source__origin", None, "{}"),
    (
        "source",
        "Exosome source",
        _vocabulary(ExosomeSource),
        "treatment__source__slug",
        "treatment__source__name",
        "from {}",
    ),
    (
        "indication",
        "Indication",
        _vocabulary(Indication),
        "indications__slug",
        "indications__name",
        "for {}",
    ),
    (
        "evidence",
        "Evidence level",
        _vocabulary(EvidenceLevel, key="code"),
        "evidence_level__code",
        "evidence_level__name",
        "evidence: {}",
    ),
]
# Facets that describe a claim's treatment. One GROUP BY of treatment ids counts them all, with
# no join, instead of one GROUP BY of names each; only a facet whose own filter is active needs
# its own (its counts must ignore that filter).
TREATMENT_FACETS = ("treatment", "route", "origin", "source")
CONFERENCE_FACET = (
    "conference",
    "Conference",
    _vocabulary(Conference),
    "conference__slug",
    "conference__name",
    "at {}",
)


# Parameters of the list that are not facets: the search, the order, the page, and names kept
# for the formats and points in time other outputs take or will take.
LIST_PARAMETERS = ("q", "sort", "page", "as_of", "format")


def reserved_parameters():
    """Every parameter name the list's URLs use apart from jurisdictions' flags: the one list
    a jurisdiction's code, which becomes a parameter of its own, must stay out of."""
    return frozenset(
        (*LIST_PARAMETERS, *(spec[0] for spec in FACETS), CONFERENCE_FACET[0], *TREATMENT_FACETS)
    )


def is_reserved_parameter(code):
    """Case-blind, so that no code differs from a parameter only by its case."""
    return code.lower() in reserved_parameters()


def _indication_filter(queryset, name, values):
    tagged = Claim.indications.through.objects.filter(
        claim=OuterRef("pk"), indication__slug__in=values
    )
    return queryset.filter(Exists(tagged))


class ClaimFilter(django_filters.FilterSet):
    # distinct=False: each of these paths follows foreign keys, one row per claim, and a
    # SELECT DISTINCT over every claim column (texts included) costs more than the whole
    # page otherwise. Indications, the one many-to-many, filter through EXISTS.
    q = django_filters.CharFilter(method="filter_search", label="Search")
    clinic = django_filters.MultipleChoiceFilter(field_name="clinic__slug", distinct=False)
    country = django_filters.MultipleChoiceFilter(field_name="clinic__country", distinct=False)
    treatment = django_filters.MultipleChoiceFilter(field_name="treatment__slug", distinct=False)
    route = django_filters.MultipleChoiceFilter(field_name="treatment__route", distinct=False)
    origin = django_filters.MultipleChoiceFilter(
        field_name="treatment__source__origin", distinct=False
    )
    source = django_filters.MultipleChoiceFilter(
        field_name="treatment__source__slug", distinct=False
    )
    indication = django_filters.MultipleChoiceFilter(method="filter_indication")
    evidence = django_filters.MultipleChoiceFilter(
        field_name="evidence_level__code", distinct=False
    )
    conference = django_filters.MultipleChoiceFilter(field_name="conference__slug", distinct=False)

    class Meta:
        model = Claim
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, jurisdictions=None):
        if jurisdictions is None:
            jurisdictions = Jurisdiction.objects.all()
        # A code that is also a parameter (saved before Jurisdiction.clean() refused it) would
        # take that parameter over: such a jurisdiction stays off the public site until fixed.
        self.jurisdictions = [j for j in jurisdictions if not is_reserved_parameter(j.code)]
        self.notices = []
        self.labels = {}
        self.state = self._clean_state(data if data is not None else QueryDict())
        if queryset is None:
            queryset = Claim.objects.published()
        super().__init__(self._state_as_querydict(), queryset=queryset, request=request)
        for jurisdiction in self.jurisdictions:
            flag_filter = django_filters.MultipleChoiceFilter(
                field_name=jurisdiction.code,
                method="filter_flag",
                choices=Status.choices,
                label=jurisdiction.short_label,
            )
            flag_filter.model, flag_filter.parent = Claim, self
            self.filters[jurisdiction.code] = flag_filter
        for name in self.filters:
            if name in self.state and name != "q":
                self.filters[name].extra["choices"] = [
                    (value, self.labels[name][value]) for value in self.state[name]
                ]

    # --- The URL contract ------------------------------------------------------------------

    def facet_specs(self):
        specs = list(FACETS)
        for jurisdiction in self.jurisdictions:
            specs.append(
                (
                    jurisdiction.code,
                    f"{jurisdiction.short_label} status",
                    _choices(Status),
                    None,
                    None,
                    f"{jurisdiction.short_label}: {{}}",
                )
            )
        specs.append(CONFERENCE_FACET)
        return specs

    def param_order(self):
        return ["q", *(spec[0] for spec in self.facet_specs()), "sort", "page"]

    def _clean_state(self, data):
        state = {}
        text = " ".join(CONTROL_CHARACTERS.sub(" ", " ".join(data.getlist("q"))).split())
        if len(text) > MAX_QUERY_LENGTH:
            text = text[:MAX_QUERY_LENGTH].rstrip()
            self.notices.append(f"The search was cut to its first {MAX_QUERY_LENGTH} characters.")
        if text:
            state["q"] = [text]
        for param, label, lookup, *_ in self.facet_specs():
            cleaned = {CONTROL_CHARACTERS.sub("", v).strip() for v in data.getlist(param)}
            requested = sorted(cleaned - {""})
            if not requested:
                continue
            if len(requested) > MAX_VALUES_PER_PARAM:
                self.notices.append(
                    f"Only the first {MAX_VALUES_PER_PARAM} values of “{param}” were used."
                )
                requested = requested[:MAX_VALUES_PER_PARAM]
            known = lookup(requested)
            for value in requested:
                if value not in known and value.upper() not in known:
                    shown = Truncator(value).chars(40)
                    self.notices.append(f"Ignored {label.lower()} “{shown}”: nothing matches it.")
            if known:
                state[param] = sorted(known)
                self.labels[param] = known
        sort = data.get("sort", "").strip()
        if sort:
            allowed = set(Sort.ORDERINGS) - ({Sort.RELEVANCE} if "q" not in state else set())
            if sort not in allowed:
                self.notices.append(f"Ignored the sort order “{Truncator(sort).chars(40)}”.")
            elif sort != self.default_sort(state):
                state["sort"] = [sort]
        return state

    def _state_as_querydict(self, state=None):
        state = self.state if state is None else state
        query = QueryDict(mutable=True)
        for param in self.param_order():
            if param in state:
                query.setlist(param, state[param])
        return query

    @staticmethod
    def default_sort(state):
        return Sort.RELEVANCE if "q" in state else Sort.NEWEST

    @property
    def sort(self):
        return self.state.get("sort", [self.default_sort(self.state)])[0]

    def canonical_query(self, page=1, **changes):
        """The one query string of this state; `changes` maps a parameter to its new values
        (an empty list removes it). Filter changes drop the page, as results shift."""
        state = {param: list(values) for param, values in self.state.items()}
        for param, values in changes.items():
            if values:
                state[param] = sorted(set(values))
            else:
                state.pop(param, None)
        if state.get("sort") == [self.default_sort(state)]:
            del state["sort"]
        if page and page > 1:
            state["page"] = [str(page)]
        return self._state_as_querydict(state).urlencode()

    def url(self, page=1, **changes):
        """The canonical /claims/ URL of this state with `changes` applied."""
        query = self.canonical_query(page=page, **changes)
        return with_query(reverse("claims:list"), query)

    # --- Filtering --------------------------------------------------------------------------

    def filter_search(self, queryset, name, value):
        return search(queryset, value)

    def filter_indication(self, queryset, name, values):
        return _indication_filter(queryset, name, values)

    def filter_flag(self, queryset, name, values):
        jurisdiction = next(j for j in self.jurisdictions if j.code == name)
        return queryset.with_status_in(jurisdiction, values)

    def filter_queryset(self, queryset):
        return self._apply(queryset, exclude=None)

    def _apply(self, queryset, exclude):
        for name, values in self.state.items():
            if name in ("sort", exclude):
                continue
            value = values[0] if name == "q" else values
            queryset = self.filters[name].filter(queryset, value)
        return queryset

    @property
    def ordered_qs(self):
        """The matching claims in the chosen order."""
        queryset = self.qs
        if self.sort == Sort.RELEVANCE:
            queryset = rank_by_relevance(queryset, self.state["q"][0])
        return queryset.order_by(*Sort.ORDERINGS[self.sort])

    def sort_options(self):
        sorts = [s for s in Sort.LABELS if s != Sort.RELEVANCE or "q" in self.state]
        return [(Sort.LABELS[s], s == self.sort, self.url(sort=[s])) for s in sorts]

    # --- Facets, chips and summary ----------------------------------------------------------

    def facets(self):
        """Every facet with counts under all the other active filters: a facet's own
        selection never shrinks its own counts. All facets come from one UNION ALL query of
        per-facet GROUP BYs, so the cost does not grow with the number of facets' options."""
        counts = {spec[0]: {} for spec in self.facet_specs()}
        rows = cached_facet_counts(
            self.canonical_query(page=None, sort=[]), lambda: list(self._facet_counts())
        )
        for param, value, label, count in rows:
            if value:
                _label, earlier = counts[param].get(value, (None, 0))
                counts[param][value] = (label or self._enum_label(param, value), earlier + count)
        facets = []
        for param, label, *_ in self.facet_specs():
            selected = set(self.state.get(param, []))
            for value in selected - counts[param].keys():
                counts[param][value] = (self.labels[param][value], 0)
            ranked = sorted(
                counts[param].items(),
                key=lambda item: (item[0] not in selected, -item[1][1], item[1][0].lower()),
            )
            # Selected options always show; past them, the most frequent. Hundreds of clinics
            # would otherwise cost a canonical URL and a checkbox each on every page.
            shown = [item for item in ranked if item[0] in selected]
            shown += [item for item in ranked if item[0] not in selected][
                : max(MAX_OPTIONS_PER_FACET - len(shown), 0)
            ]
            options = [
                Option(
                    value=value,
                    label=option_label,
                    count=count,
                    selected=value in selected,
                    toggle_url=self.url(**{param: sorted(selected ^ {value})}),
                )
                for value, (option_label, count) in shown
            ]
            facets.append(Facet(param, label, options, hidden_count=len(ranked) - len(shown)))
        return facets

    def _facet_counts(self):
        """Rows of (parameter, value, label or "", count); a value may come in several rows
        (a route's treatments), whose counts add up."""
        rows = list(self._facet_counts_query())
        ids = {int(value) for tag, value, _label, _count in rows if tag.startswith("treatment:")}
        treatments = self._describe_treatments(ids) if ids else {}
        for tag, value, label, count in rows:
            kind, _, excluded = tag.partition(":")
            if kind != "treatment":
                yield tag, value, label, count
                continue
            # The branch without exclusion counts for every treatment facet whose own filter is
            # not active; a branch that ignores a facet's filter, for that facet.
            params = [excluded] if excluded else TREATMENT_FACETS
            for param in params:
                if excluded or param not in self.state:
                    yield param, *treatments[int(value)][param], count

    @staticmethod
    def _describe_treatments(ids):
        """{id: {parameter: (value, label or "")}} for the treatments `ids`."""
        treatments = (
            Treatment.objects.filter(pk__in=ids)
            .order_by()
            .values_list(
                "pk", "slug", "name", "route", "source__origin", "source__slug", "source__name"
            )
        )
        return {
            pk: {
                "treatment": (slug, name),
                "route": (route, ""),
                "origin": (origin, ""),
                "source": (source_slug, source_name),
            }
            for pk, slug, name, route, origin, source_slug, source_name in treatments
        }

    def _facet_counts_query(self):
        """Rows of (tag, value, label or "", count): one GROUP BY per facet, except that the
        treatment facets share one GROUP BY of treatment ids (tagged "treatment:<the facet
        whose filter it ignores>"), whose rows `_facet_counts` spreads over them."""
        jurisdictions = {j.code: j for j in self.jurisdictions}
        parts = []
        active = [param for param in TREATMENT_FACETS if param in self.state]
        for excluded in active + ([""] if len(active) < len(TREATMENT_FACETS) else []):
            queryset = self._apply(self.queryset, exclude=excluded or None)
            parts.append(
                queryset.annotate(
                    facet_param=Value(f"treatment:{excluded}", output_field=CharField()),
                    facet_value=Cast(F("treatment_id"), output_field=CharField()),
                    facet_label=Value("", output_field=CharField()),
                )
                .values_list("facet_param", "facet_value", "facet_label")
                .annotate(count=Count("pk"))
                .order_by()
            )
        for param, _label, _lookup, group_path, label_path, _phrase in self.facet_specs():
            if param in TREATMENT_FACETS:
                continue
            queryset = self._apply(self.queryset, exclude=param)
            if param in jurisdictions:
                queryset = queryset.with_flag(jurisdictions[param], "facet_flag", select=True)
                value = F("facet_flag")
            else:
                value = F(group_path)
            parts.append(
                queryset.annotate(
                    facet_param=Value(param, output_field=CharField()),
                    facet_value=Cast(value, output_field=CharField()),
                    facet_label=Cast(F(label_path), output_field=CharField())
                    if label_path
                    else Value("", output_field=CharField()),
                )
                .values_list("facet_param", "facet_value", "facet_label")
                .annotate(count=Count("pk"))
                .order_by()
            )
        return parts[0].union(*parts[1:], all=True)

    def _enum_label(self, param, value):
        if param == "country":
            return countries.name(value)
        if param in {j.code for j in self.jurisdictions}:
            return Status(value).label
        return {"route": Route, "origin": Origin}[param](value).label

    def chips(self):
        """One removable chip per active value, labelled with its facet."""
        facet_labels = {spec[0]: spec[1] for spec in self.facet_specs()}
        chips = []
        for param, values in self.state.items():
            if param == "sort":
                continue
            if param == "q":
                chips.append(Chip("q", values[0], f"Search: “{values[0]}”", self.url(q=[])))
                continue
            for value in values:
                remaining = [v for v in values if v != value]
                label = f"{facet_labels[param]}: {self.labels[param][value]}"
                chips.append(Chip(param, value, label, self.url(**{param: remaining})))
        return chips

    def summary_parts(self):
        parts = []
        if "q" in self.state:
            parts.append(f"matching “{self.state['q'][0]}”")
        for param, _label, _lookup, _group, _label_path, phrase in self.facet_specs():
            if param in self.state:
                names = [self._summary_label(param, v) for v in self.state[param]]
                parts.append(phrase.format(" or ".join(names)))
        return parts

    def _summary_label(self, param, value):
        label = self.labels[param][value]
        if param in {"route", "origin"} or param in {j.code for j in self.jurisdictions}:
            return lower_first(label)
        return label

    def summary(self, count):
        noun = "claim" if count == 1 else "claims"
        return " · ".join([f"{count} {noun}", *self.summary_parts()])
