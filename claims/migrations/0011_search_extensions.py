from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

# PostgreSQL only: pg_trgm's similarity() and unaccent() find the "did you mean" of a misspelt
# search (claims.search.suggestion). Creating an extension needs a role allowed to: the
# database owner on PostgreSQL 13+ for these two.


class OnPostgreSQLOnly:
    """Django's extension operations skip other databases going forwards, but going backwards
    they ask PostgreSQL's catalogue whatever the database (SQLite has no pg_extension)."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Trigrams(OnPostgreSQLOnly, TrigramExtension):
    pass


class Unaccent(OnPostgreSQLOnly, UnaccentExtension):
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0010_i18n"),
    ]

    operations = [
        Trigrams(),
        Unaccent(),
    ]
