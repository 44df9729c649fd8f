"""What each column of an import file means, and a template file holding the header row: both
read from the resource (claims.resources) and the model behind it, so the import page, the
template and the import itself cannot disagree."""

import csv
import io
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst
from django_countries.fields import CountryField
from import_export import widgets


@dataclass(frozen=True)
class Column:
    name: str
    meaning: str
    required: bool


def importable(resource):
    """The columns an import reads: not the preview's own (claims.reviewed_resources' `review`)."""
    return [field for field in resource.get_import_fields() if not field.readonly]


def template_csv(resource):
    """A CSV file with the header row an import of `resource` reads, and nothing else."""
    text = io.StringIO()
    csv.writer(text).writerow(field.column_name for field in importable(resource))
    return text.getvalue()


def describe_columns(resource):
    """A Column for each column `resource` imports, in the file's order."""
    model = resource._meta.model
    key_columns = [resource.fields[name].column_name for name in resource._meta.import_id_fields]
    return [describe(model, field, key_columns) for field in importable(resource)]


def describe(model, field, key_columns):
    try:
        model_field = model._meta.get_field(field.attribute)
    except FieldDoesNotExist:
        return Column(field.column_name, "", False)
    parts = [str(model_field.help_text or capfirst(model_field.verbose_name) + ".")]
    parts.append(form_of(field.widget, model_field))
    required = not model_field.blank and not model_field.has_default()
    if field.column_name in key_columns:
        required = True
        others = [name for name in key_columns if name != field.column_name]
        together = f", with {' and '.join(others)}," if others else ""
        parts.append(
            f"Matches the row{together} to the {model._meta.verbose_name} already there, which "
            "it updates; a new value adds one."
        )
    return Column(field.column_name, " ".join(part for part in parts if part), required)


def form_of(widget, model_field):
    """How a value is written in the column."""
    if isinstance(widget, widgets.ManyToManyWidget):
        related = model_field.related_model._meta
        return (
            f"{capfirst(related.verbose_name_plural)}, each by its {widget.field}"
            f"{named(related)}, separated by “;”."
        )
    if isinstance(widget, widgets.ForeignKeyWidget):
        related = model_field.related_model._meta
        return f"The {related.verbose_name}'s {widget.field}{named(related)}."
    if isinstance(model_field, CountryField):
        return "A two-letter country code, such as GB or FR."
    if model_field.choices:
        values = ", ".join(f"{value} ({label})" for value, label in model_field.flatchoices)
        return f"One of: {values}."
    if isinstance(model_field, models.DateTimeField):
        return "A date and time, YYYY-MM-DD HH:MM."
    if isinstance(model_field, models.DateField):
        return "A date, YYYY-MM-DD."
    if isinstance(model_field, models.URLField):
        return "A full address, https://…"
    return ""


def named(related_opts):
    if any(field.name == "name" for field in related_opts.fields):
        return f" (or its name, when only one {related_opts.verbose_name} has it)"
    return ""
