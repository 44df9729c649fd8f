"""System checks on data the code depends on."""

from django.apps import apps
from django.core import checks
from django.db import DatabaseError

from claims.facets import is_reserved_parameter, reserved_parameters


@checks.register(checks.Tags.database)
def jurisdiction_codes_are_free(app_configs=None, databases=None, **kwargs):
    """A jurisdiction's code is a parameter of the list (?fda=not-approved), so a facet or
    list parameter of the same name would take it over. Jurisdiction.clean() refuses such a
    code for a new row; this finds rows already saved, and a new facet named like an existing
    code. Database checks run with `migrate` (and `check --database default`)."""
    codes = set()
    for alias in databases or ():
        jurisdictions = apps.get_model("claims", "Jurisdiction").objects.using(alias)
        try:
            codes.update(jurisdictions.values_list("code", flat=True))
        except DatabaseError:  # no table yet (before the first migrate): nothing to collide
            continue
    taken = ", ".join(sorted(reserved_parameters()))
    return [
        checks.Error(
            f"Jurisdiction code “{code}” is also a parameter of the claims list.",
            hint=f"Give the jurisdiction another code, or the facet another name. Taken: {taken}.",
            id="claims.E001",
        )
        for code in sorted(codes)
        if is_reserved_parameter(code)
    ]
