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

from claims.facets import FlagFacet, facet_specs  # noqa: E402
from claims.models import Claim, Jurisdiction  # noqa: E402

BATCH = 5000


def facet_columns(queryset, jurisdictions):
    """The list's facets as Datasette columns, from the registry (claims.facets): (the
    queryset with what they read annotated, {column: annotation} of the single-valued ones,
    the many-valued specs, each a JSON array column named after its relation). A column holds
    what the list shows: the label where the database has one, else the value; a flag column
    `<code>_status` holds the flag's status."""
    single, arrays = {}, []
    for spec in facet_specs(jurisdictions):
        if isinstance(spec, FlagFacet):
            name = f"flag_{spec.jurisdiction.pk}"
            queryset = queryset.with_flag(spec.jurisdiction, name, select=True)
            single[f"{spec.param}_status"] = name
        elif spec.many:
            arrays.append(spec)
        else:
            name = f"facet_{spec.param}"
            queryset = queryset.annotate(**{name: F(spec.label_path or spec.path)})
            single[spec.param] = name
    return queryset, single, arrays


def array_values(spec):
    """{claim id: the labels of its `spec` values} over published claims."""
    values = {}
    rows = (
        Claim.objects.published()
        .filter(**{f"{spec.relation}__isnull": False})
        .values_list("pk", spec.label_path)
        .order_by("pk", spec.label_path)
    )
    for claim_id, label in rows:
        values.setdefault(claim_id, []).append(label)
    return values


def main(path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    jurisdictions = list(Jurisdiction.objects.all())
    queryset, single, arrays = facet_columns(Claim.objects.published(), jurisdictions)
    array_columns = [spec.relation for spec in arrays]
    columns = ["id", "slug", "title", "statement", *single, *array_columns, "published_at"]

    db = sqlite3.connect(path)
    db.execute(
        f"CREATE TABLE claims ({', '.join(c + (' INTEGER PRIMARY KEY' if c == 'id' else ' TEXT') for c in columns)})"  # noqa: E501
    )
    rows = queryset.values_list(
        "pk", "slug", "title", "statement", *single.values(), "published_at"
    ).order_by("pk")
    tags = [array_values(spec) for spec in arrays]

    placeholders = ", ".join("?" for _ in columns)
    batch = []
    for pk, *values, published_at in rows.iterator(chunk_size=BATCH):
        arrays_of_claim = [json.dumps(tagged.get(pk, [])) for tagged in tags]
        published = published_at.isoformat() if published_at else None
        batch.append((pk, *values, *arrays_of_claim, published))
        if len(batch) == BATCH:
            db.executemany(f"INSERT INTO claims VALUES ({placeholders})", batch)
            batch = []
    db.executemany(f"INSERT INTO claims VALUES ({placeholders})", batch)
    for column in [*single, "published_at"]:
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
    return list(single), array_columns


if __name__ == "__main__":
    # bench/run.py reads the facet columns from these two lines: single-valued, then arrays.
    facets, array_facets = main(sys.argv[1] if len(sys.argv) > 1 else "bench/data/claims.db")
    print(" ".join(facets))
    print(" ".join(array_facets))
