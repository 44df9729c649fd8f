"""Page numbers as every paginated list reads them: the HTML list and the API's."""

import re

from django.utils.translation import gettext as _

PAGE_SIZE = 25
# ASCII digits only: str.isdigit() also accepts "²" and "①", which int() then refuses.
PAGE_NUMBER = re.compile(r"[0-9]{1,9}")
LAST_PAGE_NUMBER = 999_999_999  # the largest PAGE_NUMBER reads; the OpenAPI document says so


def requested_page(raw_page):
    """The page number asked for, or (1, notice) when it is not a positive whole number."""
    if raw_page is None or raw_page == "":
        return 1, None
    if PAGE_NUMBER.fullmatch(raw_page) and int(raw_page) >= 1:
        return int(raw_page), None
    return 1, _("Ignored the page number: it is not a positive whole number.")
