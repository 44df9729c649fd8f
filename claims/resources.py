"""Bulk import and export in the editors' admin, through django-import-export.

A row points at what it refers to by slug (an evidence level by its code), as the admin's own
exports write it. A name is accepted too when exactly one row has it, so the public CSV export
(/claims.csv), which names things for readers, imports as it is. An unknown or ambiguous
reference is that row's error, and the admin writes nothing while any row has an error.

Importing never publishes: new claims start as drafts, and a claim already in the database keeps
its state (the admin's export has a `state` column for editors to read; imports ignore it).

This module reads files and matches and writes rows (CuratedResource); the rows readers see,
which may wait for a Publisher, are claims.reviewed_resources'.
"""

import io
import logging
import zipfile
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.template.defaultfilters import filesizeformat
from import_export import fields, resources, results, widgets
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ImportForm

from claims import import_batches, revisions
from claims.cells import defuse, restore
from claims.data_version import one_version_bump
from claims.import_batches import find
from claims.models import Clinic, ExosomeSource, Treatment

logger = logging.getLogger(__name__)

IMPORT_REASON = "Imported from a file"


# --- Files too big to read ------------------------------------------------------------------
# Refused before they are parsed, with the limit in the message: settings.IMPORT_MAX_FILE_BYTES,
# IMPORT_MAX_ROWS and IMPORT_MAX_COLUMNS (README, "Configuration").


class ImportRefused(Exception):
    """A whole file refused, with a message for editors (shown without a traceback)."""


# XML compresses about tenfold: an XLSX file may unpack to this many times its limit.
UNPACKED_PER_PACKED = 10


def check_file_size(size, unpacked=False):
    limit = settings.IMPORT_MAX_FILE_BYTES * (UNPACKED_PER_PACKED if unpacked else 1)
    if size > limit:
        what = "unpacks to" if unpacked else "is"
        raise ImportRefused(
            f"The file {what} {filesizeformat(size)}; at most {filesizeformat(limit)} can be "
            "imported. Split it into smaller files."
        )


def check_shape(rows, columns):
    """`rows` under the header and `columns`, as a file declares or holds them."""
    if columns > settings.IMPORT_MAX_COLUMNS:
        raise ImportRefused(
            f"The sheet has {columns:,} columns; at most {settings.IMPORT_MAX_COLUMNS} "
            "can be imported. Delete the columns that are not part of the data."
        )
    if rows > settings.IMPORT_MAX_ROWS:
        raise ImportRefused(
            f"The file has {rows:,} rows; at most {settings.IMPORT_MAX_ROWS:,} can be imported "
            "at once. Split it into smaller files."
        )


class CheckedImportForm(ImportForm):
    """The admin's import form, refusing an oversized upload before anything reads it."""

    def clean_import_file(self):
        import_file = self.cleaned_data["import_file"]
        try:
            check_file_size(import_file.size)
        except ImportRefused as error:
            raise ValidationError(str(error)) from None
        return import_file


class CheckedCSV(CSV):
    def create_dataset(self, in_stream, **kwargs):
        check_file_size(len(in_stream))
        dataset = super().create_dataset(in_stream, **kwargs)
        check_shape(len(dataset), dataset.width)
        return dataset


class CheckedXLSX(XLSX):
    """An XLSX file is a zip of XML: a few kilobytes may declare a sheet of a million rows by
    16,384 columns (<dimension ref="A1:XFD1048576"/>), which reading fills in cell by cell. Its
    unpacked size and its first sheet's declared dimension are checked before any row is."""

    def create_dataset(self, in_stream):
        import openpyxl

        check_file_size(len(in_stream))
        try:
            with zipfile.ZipFile(io.BytesIO(in_stream)) as archive:
                check_file_size(
                    sum(member.file_size for member in archive.infolist()), unpacked=True
                )
        except zipfile.BadZipFile:
            raise ImportRefused("This is not an XLSX file: choose the format it is in.") from None
        book = openpyxl.load_workbook(io.BytesIO(in_stream), read_only=True, data_only=True)
        sheet = book.active
        # In read-only mode these are the sheet's declared dimension, read without its rows.
        check_shape(max((sheet.max_row or 1) - 1, 0), sheet.max_column or 0)
        book.close()
        dataset = super().create_dataset(in_stream)
        check_shape(len(dataset), dataset.width)
        return dataset


class RefusalResult(results.Error):
    """A file-wide error as editors see it: the message, and the traceback only in the log."""

    @property
    def traceback(self):
        return ""


# --- Resources --------------------------------------------------------------------------------


class Reference(widgets.ForeignKeyWidget):
    """A foreign key written as a slug (or code), or as an unambiguous name."""

    def __init__(self, model, field="slug"):
        super().__init__(model, field=field)

    def clean(self, value, row=None, **kwargs):
        value = str(value or "").strip()
        return find(self.model, self.field, value) if value else None

    def render(self, value, obj=None, **kwargs):
        return getattr(value, self.field) if value else ""


class References(widgets.ManyToManyWidget):
    """Many-to-many, as slugs or names separated by “;”."""

    def __init__(self, model, field="slug"):
        super().__init__(model, separator=";", field=field)

    def clean(self, value, row=None, **kwargs):
        found = (find(self.model, self.field, key) for key in self.keys(value))
        return list({row.pk: row for row in found}.values())

    def keys(self, value):
        return [key.strip() for key in str(value or "").split(self.separator) if key.strip()]

    def render(self, value, obj=None, **kwargs):
        rows = value.all() if hasattr(value, "all") else value or []
        return "; ".join(getattr(row, self.field) for row in rows)


class Links(fields.Field):
    """A many-to-many column. A new row's links are written after the row, with its batch
    (claims.import_batches): until then, the preview shows those the file gives it."""

    def get_value(self, instance):
        links = getattr(instance, "imported_links", {})
        if instance.pk is None and self.attribute in links:
            return links[self.attribute]
        return super().get_value(instance)


class CountryWidget(widgets.CharWidget):
    """A country as its ISO 3166-1 alpha-2 code (GB), as the public export writes it."""

    def clean(self, value, row=None, **kwargs):
        return str(value or "").strip().upper()

    def render(self, value, obj=None, **kwargs):
        return value.code if value else ""


def validate_unique_constraints(instance, exclude):
    errors = {}
    for constraint in instance._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            try:
                constraint.validate(type(instance), instance, exclude=exclude)
            except ValidationError as error:
                errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


class CuratedResource(resources.ModelResource):
    """Rows are matched to the database by slug; unchanged rows are skipped; every row is
    validated like the admin's form (full_clean: choices, constraints, clean()); and history
    records the import and who ran it. References and existing rows are read a file at a
    time, and rows written BATCH_SIZE at a time (claims.import_batches), so the queries of
    an import do not grow with its rows."""

    def import_data(self, *args, **kwargs):
        # One version bump for the whole file rather than several per row, and each
        # reference looked up once.
        with import_batches.found_in_file(), one_version_bump():
            return super().import_data(*args, **kwargs)

    def get_error_result_class(self):
        return RefusalResult

    def handle_import_error(self, result, error, raise_errors=False):
        if not isinstance(error, ImportRefused):
            logger.error("Import failed", exc_info=error)
        super().handle_import_error(result, error, raise_errors)

    def before_import(self, dataset, **kwargs):
        """Refuse the whole file when a row could not be matched to the database: a missing
        key column, or two rows with the same key (the last would silently win)."""
        super().before_import(dataset, **kwargs)
        try:
            self.check_keys(dataset)
        except ImportRefused:
            del dataset[:]  # no row is read: the one error is the file's
            raise
        self.look_up_references(dataset)

    def look_up_references(self, dataset):
        """Every row each reference column names, a few queries for the whole file."""
        for field in self.get_import_fields():
            widget = field.widget
            if not isinstance(widget, Reference | References) or field.readonly:
                continue
            if field.column_name not in (dataset.headers or []):
                continue
            cells = [import_batches.cell_text(value) for value in dataset[field.column_name]]
            if isinstance(widget, References):
                cells = [key for cell in cells for key in widget.keys(cell)]
            import_batches.remember(widget.model, widget.field, cells)

    def check_keys(self, dataset):
        key_columns = [self.fields[name].column_name for name in self.get_import_id_fields()]
        missing = [column for column in key_columns if column not in (dataset.headers or [])]
        if missing:
            raise ImportRefused(
                "The file has no “{}” column, which says which row each line is. Its columns "
                "are: {}.".format("”, “".join(missing), ", ".join(map(str, dataset.headers or [])))
            )
        rows_by_key = defaultdict(list)
        for number, row in enumerate(dataset.dict, 1):
            key = tuple(str(row[column] or "").strip() for column in key_columns)
            if any(key):
                rows_by_key[key].append(number)
        duplicates = [(key, numbers) for key, numbers in rows_by_key.items() if len(numbers) > 1]
        if duplicates:
            key, numbers = duplicates[0]
            raise ImportRefused(
                "Rows {} have the same {} “{}”: each may appear once in a file.".format(
                    " and ".join(map(str, numbers)), " and ".join(key_columns), " / ".join(key)
                )
            )

    def text_columns(self):
        """Columns of text fields, where an empty cell means "" as in the admin's forms: an
        empty XLSX cell reads as None, which import-export keeps as NULL in a TextField."""
        model_fields = {field.name: field for field in self._meta.model._meta.get_fields()}
        return {
            field.column_name
            for field in self.get_import_fields()
            if isinstance(model_fields.get(field.attribute), models.CharField | models.TextField)
            and not model_fields[field.attribute].null
        }

    def before_import_row(self, row, **kwargs):
        text_columns = self.text_columns()
        for column, value in row.items():
            if isinstance(value, str):
                row[column] = restore(value)
            elif value is None and column in text_columns:
                row[column] = ""

    def export_field(self, field, instance, **kwargs):
        # What editors typed goes out as text, never as a formula (claims.cells).
        value = super().export_field(field, instance, **kwargs)
        return defuse(value) if isinstance(value, str) else value

    def import_instance(self, instance, row, **kwargs):
        # import-export reads many-to-many columns only once the row is saved, so a wrong
        # value there would end the import with a traceback instead of this row's error.
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        user = kwargs.get("user")
        if user is not None:
            for name in revisions.locked_changes(instance, user):
                errors[name] = ValidationError(
                    "Published claims use this row: only a Publisher changes its "
                    f"{instance._meta.get_field(name).verbose_name}.",
                    code="locked",
                )
        instance.imported_links = {}
        for field in self.get_import_fields():
            if isinstance(field.widget, References) and field.column_name in row:
                try:
                    instance.imported_links[field.attribute] = field.clean(row)
                except ValueError as error:
                    errors[field.attribute] = ValidationError(str(error), code="invalid")
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """full_clean, less the checks that cost a query a row and that this import has made
        already or the database makes when the batch is written:
        - a reference this file found exists (import_batches.find read it);
        - the row's key is unique: FileInstanceLoader looked it up, and check_keys refused a
          file naming it twice;
        - a CheckConstraint is mirrored by the model's clean() (STYLE, habit 5)."""
        errors = dict(import_validation_errors or {})
        found = {
            field.attribute
            for field in self.get_import_fields()
            if isinstance(field.widget, Reference)
            and getattr(instance, f"{field.attribute}_id", None) is not None
        }
        key = {self.fields[name].attribute for name in self.get_import_id_fields()}
        checks = [
            lambda: instance.clean_fields(exclude={*errors, *found}),
            instance.clean,
            lambda: validate_unique and instance.validate_unique(exclude={*errors, *key}),
            lambda: validate_unique_constraints(instance, exclude={*errors, *key}),
        ]
        for check in checks:
            try:
                check()
            except ValidationError as error:
                errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        self.write_batch(import_batches.create, self.create_instances, result, raise_errors)

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        self.write_batch(import_batches.update, self.update_instances, result, raise_errors)

    def write_batch(self, write, instances, result, raise_errors):
        # Imports always run in a transaction (Meta.use_transactions), a preview's rolled back.
        try:
            if instances:
                write(instances, lambda instance: getattr(instance, "imported_links", {}))
        except Exception as error:
            self.handle_import_error(result, error, raise_errors)
        finally:
            instances.clear()

    def before_save_instance(self, instance, row, **kwargs):
        if kwargs.get("user") is not None:
            instance._history_user = kwargs["user"]
        instance._change_reason = IMPORT_REASON

    class Meta:
        import_id_fields = ["slug"]
        instance_loader_class = import_batches.FileInstanceLoader
        use_bulk = True
        batch_size = import_batches.BATCH_SIZE
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True


class ClinicResource(CuratedResource):
    country = fields.Field(attribute="country", column_name="country", widget=CountryWidget())

    class Meta(CuratedResource.Meta):
        model = Clinic
        fields = ["slug", "name", "kind", "city", "country", "website", "note"]


class TreatmentResource(CuratedResource):
    source = fields.Field(attribute="source", column_name="source", widget=Reference(ExosomeSource))

    class Meta(CuratedResource.Meta):
        model = Treatment
        fields = [
            "slug",
            "name",
            "source",
            "route",
            "combined_procedure",
            "product",
            "description",
        ]
