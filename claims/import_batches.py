"""An import's reads and writes a file or a batch at a time (claims.resources).

Saving a row at a time cost some twenty queries a row (docs/faults.md, "Imports"): its
references and its row looked up, each reference's existence checked again by full_clean, the
row, its history, its indications and their history saved one by one. Here the references a
file names and the rows it updates are read a few hundred at a time, and new and changed rows
are written in batches with their history and indications, as a one-row save would leave them.
"""

import threading
from contextlib import suppress

from django.db.models import Q
from import_export import widgets
from import_export.instance_loaders import BaseInstanceLoader

from claims.cells import restore
from claims.data_version import curated_data_changed
from claims.models import SEARCHED_COLUMNS
from claims.signals import named_thing_saved

# Values per `IN (…)` list, and rows per INSERT or UPDATE.
BATCH_SIZE = 500


# --- References, looked up once per file ------------------------------------------------------

_found = threading.local()


class found_in_file:
    """Within, each reference is looked up once; `remember` fills the cache a file at a time."""

    def __enter__(self):
        _found.rows = {}

    def __exit__(self, *exc_info):
        _found.rows = None


def find(model, key_field, value):
    """The one `model` row whose `key_field` is `value`, else the one whose name is."""
    found = getattr(_found, "rows", None)
    key = (model, key_field, value)
    if found is None or key not in found:
        match = choose(model, key_field, value, candidates(model, key_field, [value]))
        if found is None:
            return match
        found[key] = match
    return found[key]


def remember(model, key_field, values):
    """Look up every one of `values` at once, BATCH_SIZE a query, for `find` to answer."""
    found = getattr(_found, "rows", None)
    if found is None:
        return
    known = {key[2] for key in found if key[:2] == (model, key_field)}
    values = sorted({value for value in values if value} - known)
    for start in range(0, len(values), BATCH_SIZE):
        chunk = values[start : start + BATCH_SIZE]
        rows = candidates(model, key_field, chunk)
        for value in chunk:
            matches = [row for row in rows if value in {getattr(row, key_field), named(row)}]
            with suppress(ValueError):  # `find` asks again, and raises the row's error
                found[(model, key_field, value)] = choose(model, key_field, value, matches)


def named(row):
    return getattr(row, "name", None)


def candidates(model, key_field, values):
    by_name = Q(name__in=values) if has_name(model) else Q()
    return list(model.objects.filter(Q(**{f"{key_field}__in": values}) | by_name))


def has_name(model):
    return any(field.name == "name" for field in model._meta.fields)


def choose(model, key_field, value, matches):
    for match in matches:
        if getattr(match, key_field) == value:
            return match
    matches = [match for match in matches if named(match) == value]
    noun = model._meta.verbose_name
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ValueError(f"More than one {noun} is called “{value}”: give its {key_field}.")
    what = f"{key_field} or name" if has_name(model) else key_field
    raise ValueError(f"No {noun} has the {what} “{value}”.")


def cell_text(value):
    """A reference cell as the row will read it (CuratedResource.before_import_row)."""
    return restore(value).strip() if isinstance(value, str) else str(value or "").strip()


class FileInstanceLoader(BaseInstanceLoader):
    """The rows a file updates, read BATCH_SIZE keys a query when the import starts (the
    first key column narrows the query; the others are matched here)."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.key_fields = [resource.fields[name] for name in resource.get_import_id_fields()]
        first = self.key_fields[0]
        values = set()
        for row in dataset.dict if dataset else []:
            with suppress(ValueError):  # the row's error, when it is imported
                values.add(first.clean(self.readable(row, first)))
        values = sorted((value for value in values if value is not None), key=str)
        # With what the preview shows of each row and compares with the file's.
        fields = [field for field in resource.get_import_fields() if not field.readonly]
        queryset = (
            resource.get_queryset()
            .select_related(
                *[f.attribute for f in fields if isinstance(f.widget, widgets.ForeignKeyWidget)]
            )
            .prefetch_related(
                *[f.attribute for f in fields if isinstance(f.widget, widgets.ManyToManyWidget)]
            )
        )
        self.instances = {}
        for start in range(0, len(values), BATCH_SIZE):
            chunk = values[start : start + BATCH_SIZE]
            for instance in queryset.filter(**{f"{first.attribute}__in": chunk}):
                key = tuple(field.get_value(instance) for field in self.key_fields)
                self.instances[key] = instance

    @staticmethod
    def readable(row, field):
        return {field.column_name: cell_text(row.get(field.column_name))}

    def get_instance(self, row):
        if any(field.column_name not in row for field in self.key_fields):
            return None
        return self.instances.get(tuple(field.clean(row) for field in self.key_fields))


# --- Rows written a batch at a time ----------------------------------------------------------


def create(instances, links):
    """Insert `instances` (of one model), their history and the rows `links(instance)` links
    them to ({attribute: [rows]}), as saving each would."""
    model = type(instances[0])
    model.objects.bulk_create(instances, batch_size=BATCH_SIZE)
    finish(model, instances, links, update=False)


def update(instances, links):
    model = type(instances[0])
    fields = [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and not getattr(field, "auto_now_add", False)
    ]
    for instance in instances:
        for field in fields:
            if getattr(field, "auto_now", False):
                field.pre_save(instance, add=False)
    model.objects.bulk_update(instances, [field.name for field in fields], batch_size=BATCH_SIZE)
    finish(model, instances, links, update=True)


def finish(model, instances, links, update):
    for attribute in {name for instance in instances for name in links(instance)}:
        set_many_to_many(model, attribute, instances, links)
    records = model.history.bulk_history_create(instances, update=update, batch_size=BATCH_SIZE)
    for field in model.history.model._history_m2m_fields if records else []:
        snapshot_many_to_many(model, field.name, records)
    if update and model in SEARCHED_COLUMNS:
        for instance in instances:  # a renamed clinic or treatment: its claims' documents
            named_thing_saved(model, instance, created=False, raw=False)
    curated_data_changed(model)  # no post_save fired: the page cache's version still moves


def set_many_to_many(model, attribute, instances, links):
    field = model._meta.get_field(attribute)
    through = field.remote_field.through
    own, other = f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
    wanted = {
        instance.pk: {row.pk for row in links(instance)[attribute]}
        for instance in instances
        if attribute in links(instance)
    }
    existing = through.objects.filter(**{f"{own}__in": list(wanted)})
    have = {}
    stale = []
    for link in existing:
        have.setdefault(getattr(link, own), set()).add(getattr(link, other))
        if getattr(link, other) not in wanted[getattr(link, own)]:
            stale.append(link.pk)
    through.objects.filter(pk__in=stale).delete()
    through.objects.bulk_create(
        [
            through(**{own: pk, other: other_pk})
            for pk, others in wanted.items()
            for other_pk in sorted(others - have.get(pk, set()))
        ],
        batch_size=BATCH_SIZE,
    )


def snapshot_many_to_many(model, attribute, records):
    """Each history record holds the rows linked at the time, as simple_history's own do."""
    field = model._meta.get_field(attribute)
    through = field.remote_field.through
    own, other = f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
    snapshot = getattr(records[0], attribute).model
    record_of = {getattr(record, model._meta.pk.attname): record for record in records}
    links = through.objects.filter(**{f"{own}__in": list(record_of)})
    snapshot.objects.bulk_create(
        [
            snapshot(
                history=record_of[getattr(link, own)],
                id=link.pk,
                **{own: getattr(link, own), other: getattr(link, other)},
            )
            for link in links
        ],
        batch_size=BATCH_SIZE,
    )
