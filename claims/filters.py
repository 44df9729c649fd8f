"""All public list filtering: the one home of the /claims/ URL contract.

The HTML list, the home page's map and every other output that takes these parameters go
through `ClaimFilter`, so a shared link means the same set of claims everywhere. What the
facets are comes from claims.facets; this module reads the query string against them.

Contract: values are readable slugs or codes; several values of one parameter are OR'ed,
different parameters AND'ed; unknown values are dropped with a notice; one filter state has one
canonical query string (parameters in `param_order()`, values de-duplicated and sorted,
defaults and empties dropped).
"""

import re
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import CharField, Count, F, Value
from django.db.models.functions import Cast
from django.http import QueryDict
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext, gettext_lazy, ngettext

from claims.facets import STATIC_FACETS, facet_specs, is_reserved_parameter
from claims.models import Claim, Jurisdiction, Treatment
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
        RELEVANCE: gettext_lazy("Best match"),
        NEWEST: gettext_lazy("Newest first"),
        STRONGEST: gettext_lazy("Strongest evidence first"),
        WEAKEST: gettext_lazy("Weakest evidence first"),
        CLINIC: gettext_lazy("Clinic A–Z"),
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


# --- The URL contract ----------------------------------------------------------------------


def listed_jurisdictions(jurisdictions):
    """The jurisdictions whose flags the list filters by. A code that is also a parameter
    (saved before Jurisdiction.clean() refused it) would take that parameter over: such a
    jurisdiction stays off the public site until fixed."""
    return [j for j in jurisdictions if not is_reserved_parameter(j.code)]


def param_order(jurisdictions):
    return ["q", *(spec.param for spec in facet_specs(jurisdictions)), "sort", "page"]


def canonical_query(state, jurisdictions):
    """The query string of `state` ({parameter: values}), parameters in the one order."""
    query = QueryDict(mutable=True)
    for param in param_order(jurisdictions):
        if state.get(param):
            query.setlist(param, state[param])
    return query.urlencode()


def list_url(jurisdictions=(), **state):
    """The canonical /claims/ URL of `state`, taken as it is: for links to values a claim or
    a count already holds, where a whole `ClaimFilter` would check them again."""
    state = {param: sorted(set(values)) for param, values in state.items()}
    return with_query(reverse("claims:list"), canonical_query(state, jurisdictions))


def claim_links(claim, flags, jurisdictions, related=None):
    """Links from a claim's page to the list filtered by each of its facets' values: by
    parameter (None where the claim has no value), a many-valued facet's under its relation
    as (row, URL) pairs, and the flags' as (flag, URL) pairs. `related` maps a relation to
    the rows the claim had, where they are not its rows of today (a page as of a date)."""
    related = related or {}
    links = {}
    for spec in STATIC_FACETS:
        if spec.many:
            rows = related.get(spec.relation)
            links[spec.relation] = [
                (row, list_url(jurisdictions, **{spec.param: [getattr(row, spec.key)]}))
                for row in (spec.related_objects(claim) if rows is None else rows)
            ]
            continue
        value = spec.value_of(claim)
        links[spec.param] = list_url(jurisdictions, **{spec.param: [value]}) if value else None
    links["flags"] = [
        (flag, list_url(jurisdictions, **{flag.jurisdiction.code: [flag.status]})) for flag in flags
    ]
    return links


class ClaimFilter:
    """One request's filter state: the query string cleaned against the facets (unknown
    values dropped with a notice), the claims it selects, its canonical URLs, and its facets,
    chips and summary."""

    def __init__(self, data=None, queryset=None, *, request=None, jurisdictions=None):
        # The request the data came from, for outputs that build absolute URLs (the feed).
        self.request = request
        if jurisdictions is None:
            jurisdictions = Jurisdiction.objects.all()
        self.jurisdictions = listed_jurisdictions(jurisdictions)
        self.specs = {spec.param: spec for spec in facet_specs(self.jurisdictions)}
        self.queryset = Claim.objects.published() if queryset is None else queryset
        self.notices = []
        self.labels = {}
        self.state = self._clean_state(data if data is not None else QueryDict())

    def facet_specs(self):
        return list(self.specs.values())

    def _clean_state(self, data):
        state = {}
        text = " ".join(CONTROL_CHARACTERS.sub(" ", " ".join(data.getlist("q"))).split())
        if len(text) > MAX_QUERY_LENGTH:
            text = text[:MAX_QUERY_LENGTH].rstrip()
            self.notices.append(
                gettext("The search was cut to its first %(length)d characters.")
                % {"length": MAX_QUERY_LENGTH}
            )
        if text:
            state["q"] = [text]
        for param, spec in self.specs.items():
            cleaned = {CONTROL_CHARACTERS.sub("", v).strip() for v in data.getlist(param)}
            requested = sorted(cleaned - {""})
            if not requested:
                continue
            if len(requested) > MAX_VALUES_PER_PARAM:
                self.notices.append(
                    gettext("Only the first %(count)d values of “%(param)s” were used.")
                    % {"count": MAX_VALUES_PER_PARAM, "param": param}
                )
                requested = requested[:MAX_VALUES_PER_PARAM]
            known = spec.known(requested)
            for value in requested:
                if value not in known and value.upper() not in known:
                    self.notices.append(
                        gettext("Ignored %(facet)s “%(value)s”: nothing matches it.")
                        % {"facet": spec.label.lower(), "value": Truncator(value).chars(40)}
                    )
            if known:
                state[param] = sorted(known)
                self.labels[param] = known
        sort = data.get("sort", "").strip()
        if sort:
            allowed = set(Sort.ORDERINGS) - ({Sort.RELEVANCE} if "q" not in state else set())
            if sort not in allowed:
                self.notices.append(
                    gettext("Ignored the sort order “%(sort)s”.")
                    % {"sort": Truncator(sort).chars(40)}
                )
            elif sort != self.default_sort(state):
                state["sort"] = [sort]
        return state

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
        return canonical_query(state, self.jurisdictions)

    def url(self, page=1, **changes):
        """The canonical /claims/ URL of this state with `changes` applied."""
        query = self.canonical_query(page=page, **changes)
        return with_query(reverse("claims:list"), query)

    # --- Filtering --------------------------------------------------------------------------

    def _apply(self, queryset, exclude=None):
        for param, values in self.state.items():
            if param in ("sort", exclude):
                continue
            if param == "q":
                queryset = search(queryset, values[0])
            else:
                queryset = self.specs[param].filter(queryset, values)
        return queryset

    @cached_property
    def qs(self):
        """The matching claims."""
        return self._apply(self.queryset)

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

    def facets(self, cached=None):
        """Every facet with counts under all the other active filters: a facet's own
        selection never shrinks its own counts. All facets come from one UNION ALL query of
        per-facet GROUP BYs, so the cost does not grow with the number of facets' options.
        `cached(filter_state, count)`, when given, may answer `count()` from a cache."""

        def count():
            return list(self._facet_counts())

        filter_state = self.canonical_query(page=None, sort=[])
        rows = cached(filter_state, count) if cached else count()
        counts = {param: {} for param in self.specs}
        for param, value, label, number in rows:
            if value:
                _label, earlier = counts[param].get(value, (None, 0))
                option_label = label or self.specs[param].option_label(value)
                counts[param][value] = (option_label, earlier + number)
        return [self._facet(spec, counts[spec.param]) for spec in self.specs.values()]

    def _facet(self, spec, counts):
        param = spec.param
        selected = set(self.state.get(param, []))
        for value in selected - counts.keys():
            counts[value] = (self.labels[param][value], 0)
        ranked = sorted(
            counts.items(),
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
        return Facet(param, spec.label, options, hidden_count=len(ranked) - len(shown))

    def _treatment_specs(self):
        return [spec for spec in self.specs.values() if spec.treatment_paths]

    def _facet_counts(self):
        """Rows of (parameter, value, label or "", count); a value may come in several rows
        (a route's treatments), whose counts add up."""
        rows = list(self._facet_counts_query())
        ids = {int(value) for tag, value, _label, _count in rows if tag.startswith("treatment:")}
        treatments = self._describe_treatments(ids) if ids else {}
        shared = [spec.param for spec in self._treatment_specs()]
        for tag, value, label, count in rows:
            kind, _, excluded = tag.partition(":")
            if kind != "treatment":
                yield tag, value, label, count
                continue
            # The branch without exclusion counts for every treatment facet whose own filter is
            # not active; a branch that ignores a facet's filter, for that facet.
            for param in [excluded] if excluded else shared:
                if excluded or param not in self.state:
                    yield param, *treatments[int(value)][param], count

    def _describe_treatments(self, ids):
        """{id: {parameter: (value, label or "")}} for the treatments `ids`, of every facet
        that describes a treatment."""
        specs = self._treatment_specs()
        paths = []
        for spec in specs:
            paths += [path for path in spec.treatment_paths if path]
        treatments = Treatment.objects.filter(pk__in=ids).order_by()
        described = {}
        for pk, *values in treatments.values_list("pk", *paths):
            row = dict(zip(paths, values, strict=True))
            described[pk] = {
                spec.param: (row[spec.treatment_paths[0]], row.get(spec.treatment_paths[1], ""))
                for spec in specs
            }
        return described

    def _facet_counts_query(self):
        """Rows of (tag, value, label or "", count): one GROUP BY per facet, except that the
        treatment facets share one GROUP BY of treatment ids (tagged "treatment:<the facet
        whose filter it ignores>"), whose rows `_facet_counts` spreads over them."""
        parts = []
        shared = [spec.param for spec in self._treatment_specs()]
        active = [param for param in shared if param in self.state]
        for excluded in active + ([""] if len(active) < len(shared) else []):
            queryset = self._apply(self.queryset, exclude=excluded or None)
            parts.append(
                self._grouped(queryset, f"treatment:{excluded}", F("treatment_id"), Value(""))
            )
        for param, spec in self.specs.items():
            if param in shared:
                continue
            queryset, value = spec.counted(self._apply(self.queryset, exclude=param))
            parts.append(self._grouped(queryset, param, value, spec.counted_label()))
        return parts[0].union(*parts[1:], all=True)

    @staticmethod
    def _grouped(queryset, tag, value, label):
        return (
            queryset.annotate(
                facet_param=Value(tag, output_field=CharField()),
                facet_value=Cast(value, output_field=CharField()),
                facet_label=Cast(label, output_field=CharField()),
            )
            .values_list("facet_param", "facet_value", "facet_label")
            .annotate(count=Count("pk"))
            .order_by()
        )

    def chips(self):
        """One removable chip per active value, labelled with its facet."""
        chips = []
        for param, values in self.state.items():
            if param == "sort":
                continue
            if param == "q":
                label = gettext("Search: “%(query)s”") % {"query": values[0]}
                chips.append(Chip("q", values[0], label, self.url(q=[])))
                continue
            for value in values:
                remaining = [v for v in values if v != value]
                label = gettext("%(facet)s: %(value)s") % {
                    "facet": self.specs[param].label,
                    "value": self.labels[param][value],
                }
                chips.append(Chip(param, value, label, self.url(**{param: remaining})))
        return chips

    def summary_parts(self):
        parts = []
        if "q" in self.state:
            parts.append(gettext("matching “%(query)s”") % {"query": self.state["q"][0]})
        for param, spec in self.specs.items():
            if param in self.state:
                names = [self._summary_label(spec, v) for v in self.state[param]]
                # Translators: joins the values of one filter, as in "human or plant".
                parts.append(spec.describe(gettext(" or ").join(names)))
        return parts

    def _summary_label(self, spec, value):
        label = self.labels[spec.param][value]
        return lower_first(label) if spec.lower_labels else label

    def summary(self, count):
        claims = ngettext("%(count)d claim", "%(count)d claims", count) % {"count": count}
        return " · ".join([claims, *self.summary_parts()])
