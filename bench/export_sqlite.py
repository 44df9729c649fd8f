"""Write the published claims to an SQLite file for Datasette, the benchmark's peer.

One denormalised `claims` table with a column per facet the list page offers (a JSON array for
the indications, which Datasette facets with `_facet_array`), each facet column indexed and an
FTS5 index over title and statement: Datasette at its best, as its documentation sets it up.

    python bench/export_sqlite.py bench/data/claims.db   (Django settings from the environment)
"""

import json
import os
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db.models import F  # noqa: E402

from claims.models import Claim, Jurisdiction  # noqa: E402

BATCH = 5000


def flag_columns(jurisdictions):
    return [f"{j.code}_status" for j in jurisdictions]


def main(path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    jurisdictions = list(Jurisdiction.objects.all())
    flags = flag_columns(jurisdictions)
    columns = [
        "id",
        "slug",
        "title",
        "statement",
        "clinic",
        "country",
        "treatment",
        "route",
        "origin",
        "source",
        "indications",
        "evidence",
        *flags,
        "conference",
        "published_at",
    ]
    facets = ["clinic", "country", "treatment", "route", "origin", "source", "evidence", *flags]
    facets.append("conference")

    db = sqlite3.connect(path)
    db.execute(
        f"CREATE TABLE claims ({', '.join(c + (' INTEGER PRIMARY KEY' if c == 'id' else ' TEXT') for c in columns)})"  # noqa: E501
    )
    queryset = Claim.objects.published()
    for jurisdiction in jurisdictions:
        queryset = queryset.with_flag(jurisdiction, f"flag_{jurisdiction.pk}", select=True)
    rows = (
        queryset.annotate(
            clinic_name=F("clinic__name"),
            country=F("clinic__country"),
            treatment_name=F("treatment__name"),
            route=F("treatment__route"),
            origin=F("treatment__source__origin"),
            source_name=F("treatment__source__name"),
            evidence=F("evidence_level__name"),
            conference_name=F("conference__name"),
        )
        .values_list(
            "pk",
            "slug",
            "title",
            "statement",
            "clinic_name",
            "country",
            "treatment_name",
            "route",
            "origin",
            "source_name",
            "evidence",
            *(f"flag_{j.pk}" for j in jurisdictions),
            "conference_name",
            "published_at",
        )
        .order_by("pk")
    )
    tags = {}
    through = Claim.indications.through.objects.filter(claim__state=Claim.State.PUBLISHED)
    for claim_id, name in through.values_list("claim_id", "indication__name").order_by("pk"):
        tags.setdefault(claim_id, []).append(name)

    placeholders = ", ".join("?" for _ in columns)
    batch = []
    for row in rows.iterator(chunk_size=BATCH):
        pk, slug, title, statement, clinic, country, treatment, route, origin, source, *rest = row
        evidence, *flag_values = rest[: 1 + len(flags)]
        conference, published_at = rest[1 + len(flags) :]
        batch.append(
            (
                pk,
                slug,
                title,
                statement,
                clinic,
                country,
                treatment,
                route,
                origin,
                source,
                json.dumps(tags.get(pk, [])),
                evidence,
                *flag_values,
                conference,
                published_at.isoformat() if published_at else None,
            )
        )
        if len(batch) == BATCH:
            db.executemany(f"INSERT INTO claims VALUES ({placeholders})", batch)
            batch = []
    db.executemany(f"INSERT INTO claims VALUES ({placeholders})", batch)
    for column in [*facets, "published_at"]:
        db.execute(f"CREATE INDEX claims_{column} ON claims ({column})")
    db.execute(
        "CREATE VIRTUAL TABLE claims_fts USING fts5(title, statement, content='claims', "
        "content_rowid='id')"
    )
    db.execute(
        "INSERT INTO claims_fts (rowid, title, statement) SELECT id, title, statement FROM claims"
    )
    db.commit()
    db.execute("ANALYZE")
    db.execute("VACUUM")
    db.close()
    return facets


if __name__ == "__main__":
    print(" ".join(main(sys.argv[1] if len(sys.argv) > 1 else "bench/data/claims.db")))
