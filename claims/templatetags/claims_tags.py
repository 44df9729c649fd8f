import json
from urllib.parse import urlsplit

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.formats import date_format
from django.utils.safestring import mark_safe

register = template.Library()

# The same escapes as Django's json_script: nothing editors type can close the <script>.
JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def json_ld(data):
    """`data` as the body of a <script type="application/ld+json"> element."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1)
    return mark_safe(text.translate(JSON_SCRIPT_ESCAPES))


@register.filter
def source_label(url, title=""):
    """How a link to a source reads: its title when we recorded one, else its site's name
    (“fda.gov”), never the raw address cut short."""
    if title:
        return title
    host = urlsplit(url or "").hostname or ""
    return host.removeprefix("www.") or url


@register.simple_tag
def claimed_when(claim):
    """When and where a claim was made, apart from when we published it: the claim's own
    date if recorded, else its conference's dates; "" when neither is known."""
    if claim.made_on:
        return date_format(claim.made_on, "j F Y")
    conference = claim.conference
    if conference is None or conference.starts_on is None:
        return ""
    end = conference.ends_on or conference.starts_on
    if conference.starts_on == end:
        return date_format(end, "j F Y")
    if (conference.starts_on.year, conference.starts_on.month) == (end.year, end.month):
        return f"{conference.starts_on.day}–{date_format(end, 'j F Y')}"
    return f"{date_format(conference.starts_on, 'j F')} – {date_format(end, 'j F Y')}"
