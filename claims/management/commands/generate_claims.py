"""Synthetic claims for measuring Claimwatch at scale: `generate_claims --count 100000 --seed 1`.

Everything it invents is marked: slugs start with `syn-`, names and titles say "Synthetic", and
each claim's context note says it is benchmark data. The same seed on the same database gives the
same claims. Rows go in with bulk_create, a chunk of claims at a time, so no signal fires and no
history is written per row: the command builds each claim's search document itself and bumps the
page cache's data version once at the end.
"""

import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils.text import slugify

from claims.data_version import bump_data_version
from claims.models import (
    Citation,
    Claim,
    ClaimStatusOverride,
    Clinic,
    Conference,
    EvidenceLevel,
    ExosomeSource,
    Indication,
    Jurisdiction,
    Origin,
    Presentation,
    RegulatoryStatus,
    Route,
    SourceCategory,
    Status,
    Treatment,
)
from claims.text import lower_first

PREFIX = "syn-"
NOTE = "Synthetic benchmark data"
CONTEXT_NOTE = (
    "SYNTHETIC: invented by `manage.py generate_claims` to measure the site at scale. "
    "Not a real claim, clinic or source."
)
CHUNK = 5000

# Countries and cities the synthetic clinics are in, with how many clinics each gets (weight).
PLACES = [
    ("US", 14, ["New York", "Los Angeles", "Miami", "Houston", "Las Vegas", "Chicago"]),
    ("KR", 8, ["Seoul", "Busan", "Incheon"]),
    ("GB", 7, ["London", "Manchester", "Birmingham", "Glasgow"]),
    ("FR", 5, ["Paris", "Lyon", "Marseille", "Nice"]),
    ("DE", 5, ["Berlin", "Munich", "Hamburg", "Düsseldorf"]),
    ("IT", 4, ["Milan", "Rome", "Naples"]),
    ("ES", 4, ["Madrid", "Barcelona", "Marbella"]),
    ("AE", 4, ["Dubai", "Abu Dhabi"]),
    ("TR", 4, ["Istanbul", "Antalya", "Izmir"]),
    ("MX", 4, ["Mexico City", "Cancún", "Tijuana", "Guadalajara"]),
    ("BR", 4, ["São Paulo", "Rio de Janeiro", "Belo Horizonte"]),
    ("JP", 3, ["Tokyo", "Osaka"]),
    ("TH", 3, ["Bangkok", "Phuket"]),
    ("PH", 3, ["Manila", "Cebu"]),
    ("IN", 3, ["Mumbai", "Delhi", "Bangalore"]),
    ("AU", 3, ["Sydney", "Melbourne", "Brisbane"]),
    ("CA", 3, ["Toronto", "Vancouver", "Montreal"]),
    ("CO", 2, ["Bogotá", "Medellín"]),
    ("PT", 2, ["Lisbon", "Porto"]),
    ("NL", 2, ["Amsterdam", "Rotterdam"]),
    ("CH", 2, ["Zurich", "Geneva"]),
    ("SG", 2, ["Singapore"]),
    ("HK", 2, ["Hong Kong"]),
    ("TW", 2, ["Taipei"]),
    ("CN", 2, ["Shanghai", "Shenzhen"]),
    ("MY", 2, ["Kuala Lumpur"]),
    ("VN", 2, ["Ho Chi Minh City", "Hanoi"]),
    ("ID", 2, ["Jakarta", "Bali"]),
    ("SA", 2, ["Riyadh", "Jeddah"]),
    ("IL", 2, ["Tel Aviv"]),
    ("PL", 2, ["Warsaw", "Kraków"]),
    ("GR", 1, ["Athens"]),
    ("AT", 1, ["Vienna"]),
    ("BE", 1, ["Brussels"]),
    ("SE", 1, ["Stockholm"]),
    ("DK", 1, ["Copenhagen"]),
    ("CZ", 1, ["Prague"]),
    ("IE", 1, ["Dublin"]),
    ("AR", 1, ["Buenos Aires"]),
    ("PA", 1, ["Panama City"]),
    ("CR", 1, ["San José"]),
    ("DO", 1, ["Santo Domingo"]),
    ("ZA", 1, ["Cape Town", "Johannesburg"]),
    ("NG", 1, ["Lagos"]),
    ("EG", 1, ["Cairo"]),
    ("NZ", 1, ["Auckland"]),
]

HUMAN_STEM_CELL = SourceCategory.HUMAN_STEM_CELL
# (name, how statements name it, category, origin)
SOURCES = [
    ("Adipose stem cells", "adipose stem-cell", HUMAN_STEM_CELL, Origin.HUMAN),
    ("Bone marrow stem cells", "bone-marrow stem-cell", HUMAN_STEM_CELL, Origin.HUMAN),
    ("Umbilical cord stem cells", "umbilical-cord", HUMAN_STEM_CELL, Origin.HUMAN),
    ("Placenta", "placental", SourceCategory.HUMAN_PERINATAL, Origin.HUMAN),
    ("Amniotic fluid", "amniotic", SourceCategory.HUMAN_PERINATAL, Origin.HUMAN),
    ("Platelet-rich plasma", "platelet", SourceCategory.HUMAN_BLOOD_PLATELET, Origin.HUMAN),
    ("Human breast milk", "breast-milk", SourceCategory.HUMAN_BODY_FLUID, Origin.HUMAN),
    ("The patient's own blood", "autologous", SourceCategory.AUTOLOGOUS, Origin.HUMAN),
    ("Bovine milk", "bovine milk", SourceCategory.ANIMAL, Origin.ANIMAL),
    ("Porcine tissue", "porcine", SourceCategory.ANIMAL, Origin.ANIMAL),
    ("Salmon roe", "salmon", SourceCategory.ANIMAL, Origin.ANIMAL),
    ("Rose stem cells", "rose", SourceCategory.PLANT, Origin.PLANT),
    ("Grape cells", "grape", SourceCategory.PLANT, Origin.PLANT),
    ("Centella asiatica", "centella", SourceCategory.PLANT, Origin.PLANT),
    ("Lactobacillus ferment", "probiotic", SourceCategory.MICROBIAL, Origin.MICROBIAL),
    ("Yeast ferment", "yeast", SourceCategory.MICROBIAL, Origin.MICROBIAL),
    ("Exosome-liposome hybrid", "hybrid", SourceCategory.HYBRID_SYNTHETIC, Origin.SYNTHETIC),
    ("Source not stated", "", SourceCategory.UNSPECIFIED, Origin.UNSPECIFIED),
]

PROCEDURES = [
    "microneedling",
    "RF microneedling",
    "fractional CO2 laser",
    "picosecond laser",
    "chemical peel",
    "IPL",
]

# Route, and how often a treatment is given that way (weight).
ROUTES = [
    (Route.TOPICAL_POST_PROCEDURE, 30),
    (Route.TOPICAL_INTACT_SKIN, 25),
    (Route.INTRADERMAL_INJECTION, 18),
    (Route.SUBCUTANEOUS_INJECTION, 8),
    (Route.INTRAVENOUS, 6),
    (Route.OTHER, 4),
    (Route.UNKNOWN, 9),
]

INDICATIONS = [
    "Skin ageing",
    "Wrinkles",
    "Acne scars",
    "Eczema",
    "Hair loss",
    "Wound healing",
    "Scars",
    "Inflammation",
    "UV damage",
    "Melasma",
    "Rosacea",
    "Hyperpigmentation",
    "Psoriasis",
    "Alopecia areata",
    "Stretch marks",
    "Dark circles",
    "Skin laxity",
    "Enlarged pores",
    "Redness after laser",
    "Vitiligo",
    "Cellulite",
    "Keloids",
    "Burns",
    "Dry skin",
    "Joint pain",
    "Long COVID fatigue",
]
# A claim to treat one of these is a disease claim: a US cosmetic becomes an unapproved drug.
DISEASES = {"acne-scars", "eczema", "psoriasis", "rosacea", "alopecia-areata", "vitiligo"}

STATES = [
    (Claim.State.PUBLISHED, 88),
    (Claim.State.RETRACTED, 2),
    (Claim.State.IN_REVIEW, 4),
    (Claim.State.DRAFT, 6),
]
EVIDENCE_WEIGHTS = {
    "expert-opinion": 40,
    "case-series": 17,
    "case-report": 12,
    "in-vitro": 9,
    "controlled-nonrandomised": 8,
    "animal": 6,
    "rct": 6,
    "systematic-review": 2,
}

# Statement templates per evidence level; {t} is the treatment, {i} the indication.
STATEMENTS = {
    "in-vitro": [
        "A talk reported that {s} exosomes protected cultured skin cells in the laboratory, "
        "and presented this as evidence for {t} against {i}.",
        "Laboratory results on fibroblasts were shown as proof that {t} reverses {i}.",
    ],
    "animal": [
        "A speaker showed results in mice and said {t} would work the same way for {i} in people.",
        "A study in rats was presented as showing that {t} heals {i}.",
    ],
    "expert-opinion": [
        "Talks at the congress presented {t} as a treatment for {i}, without showing data.",
        "The clinic's website says {t} 'visibly reverses' {i} within {w} weeks.",
        "A speaker said {t} is now the standard of care for {i}.",
        "An advertisement claims {t} regenerates skin affected by {i}.",
    ],
    "case-report": [
        "A speaker showed before-and-after photographs of one patient with {i} treated with {t}.",
        "A single patient's {i} was reported to clear after {n} sessions of {t}.",
    ],
    "case-series": [
        "A clinic reported treating {n} patients with {i} using {t}, with before-and-after "
        "photographs and no comparison group.",
        "{n} patients with {i} received {t}; the clinic reported improvement in most of them.",
    ],
    "controlled-nonrandomised": [
        "A clinic compared {t} with standard care for {i} in {n} patients, who chose their "
        "own treatment.",
    ],
    "rct": [
        "A split-face randomised trial of {n} patients compared {t} with saline for {i}.",
        "A randomised controlled trial of {n} patients tested {t} against placebo for {i}.",
    ],
    "systematic-review": [
        "A review of {n} small trials concluded that {t} may help {i}, with low certainty.",
    ],
}
FALLBACK_STATEMENTS = ["A clinic presented {t} as a treatment for {i}."]
OUTCOMES = [
    "Reported a {p}% improvement on a physician's rating scale at {w} weeks.",
    "Reported that {p}% of patients were satisfied at {w} weeks.",
    "No measured outcome was reported.",
    "Reported fewer side effects than the comparison, without numbers.",
]
CITATION_KINDS = [
    (Citation.Kind.WRITE_UP, 40),
    (Citation.Kind.CONFERENCE_TALK, 25),
    (Citation.Kind.PRESS, 15),
    (Citation.Kind.PAPER, 12),
    (Citation.Kind.REGULATOR_NOTICE, 8),
]
START = datetime(2019, 1, 1, tzinfo=UTC)
SPAN_SECONDS = int((datetime(2026, 11, 30, tzinfo=UTC) - START).total_seconds())
CHECKED_ON = date(2026, 11, 1)


@dataclass
class Vocabulary:
    """What claims are drawn from, with the weights and words the generator needs."""

    clinics: list
    clinic_weights: list
    treatments: list
    treatment_weights: list
    treatment_words: dict  # treatment pk -> how a statement names it
    source_words: dict  # treatment pk -> how a statement names its source
    indications: list
    indication_weights: list
    levels: list
    level_weights: list
    conferences: list
    presentations: dict  # conference pk -> presentations
    jurisdictions: list
    statuses: dict  # (treatment pk, jurisdiction pk) -> status


def weighted(rng, population, cumulative, k):
    return rng.choices(population, cum_weights=cumulative, k=k)


def synthetic(model, field="slug"):
    return model.objects.filter(**{f"{field}__startswith": PREFIX})


def delete_fast(queryset):
    """Delete without loading rows. simple_history listens to post_delete, so the ORM's delete()
    would fetch every claim and write a history row for each; generated rows have no history."""
    return queryset._raw_delete(queryset.db)


class Command(BaseCommand):
    help = "Generate synthetic claims (slugs start with syn-) for benchmarks. Never for production."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=1000, help="How many claims.")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same claims.")
        parser.add_argument(
            "--replace", action="store_true", help="Delete earlier synthetic rows first."
        )
        parser.add_argument("--clinics", type=int, default=400)
        parser.add_argument("--treatments", type=int, default=60)

    def handle(self, *, count, seed, replace, clinics, treatments, verbosity, **options):
        if count < 0:
            raise CommandError("--count cannot be negative.")
        started = time.monotonic()
        if replace:
            self.delete_synthetic()
        elif synthetic(Claim).exists():
            raise CommandError("Synthetic claims already exist: pass --replace to regenerate.")
        self.ensure_curated_vocabulary()
        rng = random.Random(seed)
        with transaction.atomic():
            vocabulary = self.build_vocabulary(rng, clinics, treatments)
            totals = {"claims": 0, "published": 0, "citations": 0, "overrides": 0}
            for first in range(1, count + 1, CHUNK):
                numbers = range(first, min(first + CHUNK, count + 1))
                for key, n in self.create_claims(rng, vocabulary, numbers).items():
                    totals[key] += n
                if verbosity > 1:
                    self.stdout.write(f"  {totals['claims']} claims…")
        if connection.vendor == "postgresql":
            self.refresh_statistics()
        bump_data_version()
        if verbosity:
            self.stdout.write(
                f"Generated {totals['claims']} synthetic claims ({totals['published']} "
                f"published, {totals['citations']} citations, {totals['overrides']} overrides) "
                f"in {time.monotonic() - started:.1f} s."
            )

    def refresh_statistics(self):
        """Fresh planner statistics for every table written, the small ones included (without
        them the planner guesses one clinic, one treatment...), and (outside a transaction,
        where VACUUM can run) a visibility map, so the list's counts scan covering indexes
        alone."""
        models = (
            Claim,
            Claim.indications.through,
            Citation,
            ClaimStatusOverride,
            RegulatoryStatus,
            Treatment,
            ExosomeSource,
            Presentation,
            Conference,
            Clinic,
            Indication,
        )
        tables = ", ".join(model._meta.db_table for model in models)
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            cursor.execute(f"{command} {tables}")

    # --- Vocabulary --------------------------------------------------------------------------

    def delete_synthetic(self):
        with transaction.atomic():
            claims = synthetic(Claim)
            through = Claim.indications.through.objects
            delete_fast(through.filter(claim__in=claims))
            delete_fast(through.filter(indication__slug__startswith=PREFIX))
            delete_fast(Citation.objects.filter(claim__in=claims))
            delete_fast(ClaimStatusOverride.objects.filter(claim__in=claims))
            delete_fast(claims)
            delete_fast(RegulatoryStatus.objects.filter(treatment__slug__startswith=PREFIX))
            for model in (Treatment, ExosomeSource, Presentation, Conference, Clinic, Indication):
                delete_fast(synthetic(model))

    def ensure_curated_vocabulary(self):
        """The evidence scale and the jurisdictions are curated data from the seed."""
        if not EvidenceLevel.objects.exists() or not Jurisdiction.objects.exists():
            call_command("loaddata", "fixtures/seed.json", verbosity=0)

    def build_vocabulary(self, rng, clinic_count, treatment_count):
        jurisdictions = list(Jurisdiction.objects.all())
        clinics = self.create_clinics(rng, clinic_count)
        sources = self.create_sources()
        treatments = self.create_treatments(rng, sources, treatment_count)
        self.create_statuses(rng, treatments, jurisdictions)
        self.create_indications()
        conferences, presentations = self.create_conferences(rng)

        # Popularity falls off with rank, as it does for real clinics and products.
        def zipf(items, exponent):
            return list(accumulate(1 / (rank + 1) ** exponent for rank in range(len(items))))

        clinics = clinics[:]
        rng.shuffle(clinics)
        all_treatments = list(Treatment.objects.select_related("source").order_by("slug"))
        rng.shuffle(all_treatments)
        all_indications = list(Indication.objects.order_by("slug"))
        rng.shuffle(all_indications)
        levels = list(EvidenceLevel.objects.order_by("rank"))
        words = {s.pk: w for s, w in sources}
        return Vocabulary(
            clinics=clinics,
            clinic_weights=zipf(clinics, 0.7),
            treatments=all_treatments,
            treatment_weights=zipf(all_treatments, 0.8),
            treatment_words={t.pk: t.name.removesuffix(" (synthetic)") for t in all_treatments},
            source_words={t.pk: words.get(t.source_id, "") for t in all_treatments},
            indications=all_indications,
            indication_weights=zipf(all_indications, 0.9),
            levels=levels,
            level_weights=list(accumulate(EVIDENCE_WEIGHTS.get(lv.code, 3) for lv in levels)),
            conferences=conferences,
            presentations=presentations,
            jurisdictions=jurisdictions,
            statuses={
                (s.treatment_id, s.jurisdiction_id): s.status
                for s in RegulatoryStatus.objects.all()
            },
        )

    def create_clinics(self, rng, count):
        places = [(code, city) for code, weight, cities in PLACES for city in cities * weight]
        kinds = [Clinic.Kind.CLINIC] * 40 + [Clinic.Kind.COMPANY] * 6
        kinds += [Clinic.Kind.RESEARCH_GROUP] * 3 + [Clinic.Kind.UNKNOWN]
        clinics = []
        for n in range(1, count + 1):
            country, city = rng.choice(places)
            clinics.append(
                Clinic(
                    name=f"Synthetic clinic {n:04d} ({city})",
                    slug=f"{PREFIX}clinic-{n:04d}",
                    kind=rng.choice(kinds),
                    city=city,
                    country=country,
                    note=NOTE,
                )
            )
        return Clinic.objects.bulk_create(clinics)

    def create_sources(self):
        """(source, how statements name it) for the seed's sources and synthetic ones."""
        found = [(s, lower_first(s.name)) for s in ExosomeSource.objects.all()]
        created = ExosomeSource.objects.bulk_create(
            ExosomeSource(
                name=f"{name} (synthetic)",
                slug=f"{PREFIX}{slugify(name)}",
                category=category,
                origin=origin,
                description=NOTE,
            )
            for name, _words, category, origin in SOURCES
        )
        return found + [(s, spec[1]) for s, spec in zip(created, SOURCES, strict=True)]

    def create_treatments(self, rng, sources, count):
        routes, route_weights = zip(*ROUTES, strict=True)
        synthetic_sources = [(s, w) for s, w in sources if s.slug.startswith(PREFIX)]
        treatments, names = [], set()
        for _attempt in range(count * 20):
            if len(treatments) == count:
                break
            source, words = rng.choice(synthetic_sources)
            route = rng.choices(routes, route_weights)[0]
            procedure = rng.choice(PROCEDURES) if route == Route.TOPICAL_POST_PROCEDURE else ""
            name = treatment_name(route, words, procedure)
            if name in names:
                continue
            names.add(name)
            treatments.append(
                Treatment(
                    name=f"{name} (synthetic)",
                    slug=f"{PREFIX}{slugify(name)}"[:100],
                    source=source,
                    route=route,
                    combined_procedure=procedure,
                    description=NOTE,
                )
            )
        return Treatment.objects.bulk_create(treatments)

    def create_statuses(self, rng, treatments, jurisdictions):
        records = []
        for treatment in treatments:
            for jurisdiction in jurisdictions:
                status = plausible_status(rng, treatment, jurisdiction.code)
                records.append(
                    RegulatoryStatus(
                        treatment=treatment,
                        jurisdiction=jurisdiction,
                        status=status,
                        explanation=f"{NOTE}: an invented status for a synthetic treatment.",
                        source_url=f"https://example.org/synthetic/regulator/{jurisdiction.code}",
                        checked_on=CHECKED_ON,
                        appearance_claim=status == Status.COSMETIC,
                    )
                )
        RegulatoryStatus.objects.bulk_create(records)

    def create_indications(self):
        existing = {name.lower() for name in Indication.objects.values_list("name", flat=True)}
        Indication.objects.bulk_create(
            Indication(name=name, slug=f"{PREFIX}{slugify(name)}")
            for name in INDICATIONS
            if name.lower() not in existing
        )

    def create_conferences(self, rng):
        conferences = []
        for year in range(2019, 2027):
            for series, code in (("Aesthetics Congress", "ac"), ("Regenerative Skin Summit", "rs")):
                country, _weight, cities = rng.choice(PLACES)
                start = date(year, rng.randint(1, 11), rng.randint(1, 25))
                conferences.append(
                    Conference(
                        name=f"Synthetic {series} {year}",
                        slug=f"{PREFIX}{code}-{year}",
                        city=rng.choice(cities),
                        country=country,
                        starts_on=start,
                        ends_on=start + timedelta(days=2),
                        dates_note=NOTE,
                    )
                )
        conferences = Conference.objects.bulk_create(conferences)
        presentations = Presentation.objects.bulk_create(
            Presentation(
                conference=conference,
                slug=f"{conference.slug}-talk-{n}",
                title=f"Synthetic talk {n} on exosomes",
                speaker=f"Synthetic speaker {rng.randint(1, 300):03d}",
                given_on=conference.starts_on + timedelta(days=n % 3),
            )
            for conference in conferences
            for n in range(1, 5)
        )
        by_conference = {}
        for presentation in presentations:
            by_conference.setdefault(presentation.conference_id, []).append(presentation)
        return conferences, by_conference

    # --- Claims ------------------------------------------------------------------------------

    def create_claims(self, rng, v, numbers):
        k = len(numbers)
        clinics = weighted(rng, v.clinics, v.clinic_weights, k)
        treatments = weighted(rng, v.treatments, v.treatment_weights, k)
        levels = weighted(rng, v.levels, v.level_weights, k)
        states = rng.choices([s for s, _ in STATES], [w for _, w in STATES], k=k)
        claims, tags, plans = [], [], []
        for n, clinic, treatment, level, state in zip(
            numbers, clinics, treatments, levels, states, strict=True
        ):
            indications = self.pick_indications(rng, v)
            is_public = state in (Claim.State.PUBLISHED, Claim.State.RETRACTED)
            if not is_public and rng.random() < 0.5:
                level = None
            conference = rng.choice(v.conferences) if rng.random() < 0.55 else None
            presentation = None
            if conference and rng.random() < 0.3:
                presentation = rng.choice(v.presentations[conference.pk])
            published_at = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
            made_on = (
                conference.starts_on
                if conference
                else published_at.date() - timedelta(days=rng.randint(3, 200))
            )
            title, statement = self.words(rng, v, treatment, level, indications)
            outcome = ""
            if rng.random() < 0.4:
                outcome = rng.choice(OUTCOMES).format(p=rng.randint(20, 95), w=rng.randint(2, 24))
            claim = Claim(
                slug=f"{PREFIX}{n:06d}-{slugify(title.removeprefix('Synthetic: '))}"[:100],
                title=title,
                statement=statement,
                outcome=outcome,
                context_note=CONTEXT_NOTE,
                clinic=clinic,
                conference=conference,
                presentation=presentation,
                treatment=treatment,
                evidence_level=level,
                state=state,
                made_on=made_on,
                published_at=published_at if is_public else None,
                last_reviewed_on=published_at.date() if is_public else None,
            )
            claim.search_document = claim.build_search_document(indications)
            claims.append(claim)
            citations = rng.choices([1, 2, 3], [50, 35, 15])[0]
            if not is_public and rng.random() < 0.3:
                citations = 0
            tags.append(indications)
            plans.append(citations)
        claims = Claim.objects.bulk_create(claims, batch_size=1000)

        through = Claim.indications.through
        links, citations, overrides = [], [], []
        for claim, indications, citation_count in zip(claims, tags, plans, strict=True):
            links += [through(claim_id=claim.pk, indication_id=i.pk) for i in indications]
            for position in range(citation_count):
                kind = rng.choices(*zip(*CITATION_KINDS, strict=True))[0]
                citations.append(
                    Citation(
                        claim_id=claim.pk,
                        kind=kind,
                        title=f"Synthetic {kind.label.lower()} about claim {claim.slug[4:10]}",
                        publisher="Synthetic publisher",
                        url=f"https://example.org/synthetic/{claim.slug[:10]}/{position}",
                        accessed_on=CHECKED_ON,
                        note=NOTE,
                        position=position,
                    )
                )
            overrides += self.overrides(rng, v, claim, indications)
        through.objects.bulk_create(links, batch_size=2000)
        Citation.objects.bulk_create(citations, batch_size=1000)
        ClaimStatusOverride.objects.bulk_create(overrides, batch_size=1000)
        return {
            "claims": len(claims),
            "published": sum(c.state == Claim.State.PUBLISHED for c in claims),
            "citations": len(citations),
            "overrides": len(overrides),
        }

    def pick_indications(self, rng, v):
        k = rng.choices([0, 1, 2, 3], [8, 55, 27, 10])[0]
        picked = weighted(rng, v.indications, v.indication_weights, k)
        return list({i.pk: i for i in picked}.values())

    def words(self, rng, v, treatment, level, indications):
        treatment_words = lower_first(v.treatment_words[treatment.pk])
        indication = lower_first(indications[0].name) if indications else "skin rejuvenation"
        templates = STATEMENTS.get(level.code if level else "", FALLBACK_STATEMENTS)
        statement = rng.choice(templates).format(
            t=treatment_words,
            i=indication,
            s=v.source_words[treatment.pk] or "the",
            n=rng.randint(5, 80),
            w=rng.randint(2, 12),
        )
        title = f"Synthetic: {v.treatment_words[treatment.pk]} for {indication}"
        return title[:200], statement[0].upper() + statement[1:]

    def overrides(self, rng, v, claim, indications):
        """A disease claim turns a US cosmetic into an unapproved drug; now and then another
        jurisdiction's regulator has spoken about one clinic's claim."""
        found = []
        for jurisdiction in v.jurisdictions:
            inherited = v.statuses.get((claim.treatment_id, jurisdiction.pk), Status.UNKNOWN)
            disease = any(i.slug.removeprefix(PREFIX) in DISEASES for i in indications)
            if jurisdiction.code == "fda" and inherited == Status.COSMETIC and disease:
                status = Status.NOT_APPROVED
            elif rng.random() < 0.01:
                status = rng.choice([Status.NOT_APPROVED, Status.PROHIBITED])
            else:
                continue
            found.append(
                ClaimStatusOverride(
                    claim_id=claim.pk,
                    jurisdiction=jurisdiction,
                    status=status,
                    explanation=f"{NOTE}: an invented override.",
                    reason="Synthetic: the claim is to treat a disease, which makes the product "
                    "a drug there.",
                    source_url=f"https://example.org/synthetic/override/{jurisdiction.code}",
                    checked_on=CHECKED_ON,
                )
            )
        return found


def treatment_name(route, source_words, procedure):
    source = f"{source_words} exosomes" if source_words else "exosomes (source not stated)"
    serum = f"Topical {source_words} exosome serum" if source_words else "Topical exosome serum"
    return {
        Route.TOPICAL_POST_PROCEDURE: f"{procedure[:1].upper()}{procedure[1:]} with topical "
        f"{source}",
        Route.TOPICAL_INTACT_SKIN: serum,
        Route.INTRADERMAL_INJECTION: f"Intradermal injection of {source}",
        Route.SUBCUTANEOUS_INJECTION: f"Subcutaneous injection of {source}",
        Route.INTRAVENOUS: f"Intravenous infusion of {source}",
        Route.OTHER: f"Inhaled {source}",
        Route.UNKNOWN: f"{source[:1].upper()}{source[1:]} (route not stated)",
    }[route]


def plausible_status(rng, treatment, code):
    """Roughly how regulators treat exosome products: injections are unapproved drugs
    everywhere, topical cosmetics are lawful in the US, human-derived ones banned in EU
    cosmetics; approvals are rare and conditional routes exist outside the US and EU."""
    human = treatment.source.origin == Origin.HUMAN
    injected = Route(treatment.route).is_injection
    topical = treatment.route in (Route.TOPICAL_INTACT_SKIN, Route.TOPICAL_POST_PROCEDURE)
    if rng.random() < 0.02:
        return Status.APPROVED
    if code == "fda":
        if injected:
            options = {Status.NOT_APPROVED: 80, Status.INVESTIGATIONAL: 20}
        elif topical:
            options = {Status.COSMETIC: 60, Status.NOT_APPROVED: 25, Status.UNKNOWN: 15}
        else:
            options = {Status.NOT_APPROVED: 50, Status.UNKNOWN: 50}
    elif code == "eu":
        if topical and human:
            options = {Status.PROHIBITED: 90, Status.UNKNOWN: 10}
        elif injected:
            options = {Status.NOT_APPROVED: 75, Status.INVESTIGATIONAL: 25}
        elif topical:
            options = {Status.COSMETIC: 55, Status.UNKNOWN: 35, Status.CONDITIONAL: 10}
        else:
            options = {Status.UNKNOWN: 60, Status.NOT_APPROVED: 40}
    else:
        options = {
            Status.NOT_APPROVED: 35,
            Status.UNKNOWN: 30,
            Status.CONDITIONAL: 15,
            Status.COSMETIC: 10,
            Status.INVESTIGATIONAL: 10,
        }
    status = rng.choices(list(options), list(options.values()))[0]
    # Only what the cosmetic rule allows (StatusRecord.cosmetic_problems): on intact skin,
    # from a known non-human source.
    may_be_cosmetic = treatment.route == Route.TOPICAL_INTACT_SKIN and (
        treatment.source.origin not in (Origin.HUMAN, Origin.UNSPECIFIED)
    )
    if status == Status.COSMETIC and not may_be_cosmetic:
        return Status.UNKNOWN
    return status
