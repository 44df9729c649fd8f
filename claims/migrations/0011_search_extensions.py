from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

# PostgreSQL only (both operations do nothing elsewhere): pg_trgm's similarity() and unaccent()
# find the "did you mean" of a misspelt search (claims.search.suggestion). Creating an
# extension needs a role allowed to: the database owner on PostgreSQL 13+ for these two.


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0010_i18n"),
    ]

    operations = [
        TrigramExtension(),
        UnaccentExtension(),
    ]
