"""Every matching claim as a CSV or JSON download, streamed: rows are read from the database a
chunk at a time and written out as they come, so memory stays flat however many claims match.

A stream cut short (a worker killed, the database lost) can end on a whole line and look
complete to a client that cannot tell, over HTTP/1.0, how the response ended. So the number of
claims goes first, in the TOTAL_COUNT_HEADER, and the JSON ends with the number it holds:
a download is complete when its rows (CSV) or its "count" (JSON) match the header.
"""

import csv
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

from claims.cells import defuse
from claims.filters import ClaimFilter
from claims.responses import read_only
from claims.shapes import claims_as_data

FILENAME_SUMMARY_LENGTH = 80
# The response goes out in pieces of about this many characters: a piece per claim cost a
# system call each.
PIECE_SIZE = 64 * 1024
# Each flag's caveats go out with it: whoever downloads the data gets the reader's warnings.
FLAG_COLUMNS = ("status", "overridden", "explanation", "source_url", "checked_on")
# How many claims the download holds, counted as it starts.
TOTAL_COUNT_HEADER = "X-Total-Count"


def csv_header(jurisdictions):
    flag_columns = [f"{j.code}_{suffix}" for j in jurisdictions for suffix in FLAG_COLUMNS]
    return [
        "slug",
        "url",
        "title",
        "statement",
        "quote",
        "quote_source",
        "outcome",
        "context_note",
        "unverified",
        "clinic",
        "country",
        "treatment",
        "route",
        "source",
        "origin",
        "indications",
        "evidence_level",
        "conference",
        "conference_dates",
        "conference_dates_note",
        "presentation",
        *flag_columns,
        "citation_urls",
        "published_at",
        "updated_at",
    ]


def csv_row(data, jurisdictions):
    """A claim's JSON shape, flattened: names for what has one, ';'-separated lists."""
    flags = [data["flags"][j.code] for j in jurisdictions]
    conference = data["conference"]
    row = [
        data["slug"],
        data["url"],
        data["title"],
        data["statement"],
        data["quote"],
        data["quote_source"],
        data["outcome"],
        data["context_note"],
        data["unverified"],
        data["clinic"]["name"],
        data["country"] or "",
        data["treatment"]["name"],
        data["route"],
        data["source"]["name"],
        data["origin"],
        "; ".join(indication["name"] for indication in data["indications"]),
        data["evidence_level"]["name"] if data["evidence_level"] else "",
        data["conference"]["name"] if conference else "",
        conference_dates(conference),
        conference["dates_note"] if conference else "",
        data["presentation"]["name"] if data["presentation"] else "",
        *(cell for flag in flags for cell in flag_cells(flag)),
        "; ".join(data["citation_urls"]),
        data["published_at"].isoformat() if data["published_at"] else "",
        data["updated_at"].isoformat(),
    ]
    return [defuse(cell) for cell in row]


def yes_no(value):
    return "yes" if value else "no"


def flag_cells(flag):
    checked_on = flag["checked_on"].isoformat() if flag["checked_on"] else ""
    return [
        flag["status"],
        yes_no(flag["overridden"]),
        flag["explanation"],
        flag["source_url"],
        checked_on,
    ]


def conference_dates(conference):
    """e.g. 2024-02-01/2024-02-03 (ISO 8601 interval); "" when not known."""
    if not conference or conference["starts_on"] is None:
        return ""
    start, end = conference["starts_on"], conference["ends_on"] or conference["starts_on"]
    return start.isoformat() if start == end else f"{start.isoformat()}/{end.isoformat()}"


class Echo:
    """A file-like object whose write() returns the line, for csv.writer to stream through."""

    def write(self, value):
        return value


def csv_lines(records, jurisdictions):
    writer = csv.writer(Echo())
    # The byte order mark tells spreadsheet programs the file is UTF-8.
    yield "\ufeff" + writer.writerow(csv_header(jurisdictions))
    for data in records:
        yield writer.writerow(csv_row(data, jurisdictions))


def json_lines(records, jurisdictions):
    """{"claims": [...], "count": n}: the count last, so only a complete file has it."""
    yield '{"claims": ['
    separator, count = "\n", 0
    for data in records:
        yield separator + json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
        separator, count = ",\n", count + 1
    yield f'\n], "count": {count}}}\n'


def in_pieces(lines):
    """`lines` joined into pieces of about PIECE_SIZE characters."""
    piece, size = [], 0
    for line in lines:
        piece.append(line)
        size += len(line)
        if size >= PIECE_SIZE:
            yield "".join(piece)
            piece, size = [], 0
    if piece:
        yield "".join(piece)


def filename(claim_filter, extension, count):
    """e.g. claimwatch-3-claims-intradermal-injection-2026-12-01.csv"""
    summary = slugify(claim_filter.summary(count))
    if len(summary) > FILENAME_SUMMARY_LENGTH:
        summary = summary[:FILENAME_SUMMARY_LENGTH].rsplit("-", 1)[0]
    return f"claimwatch-{summary}-{timezone.localdate().isoformat()}.{extension}"


def export(request, extension, content_type, lines):
    claim_filter = ClaimFilter(request.GET, request=request)
    jurisdictions = claim_filter.jurisdictions
    records = claims_as_data(claim_filter.ordered_qs, jurisdictions, request.build_absolute_uri)
    response = StreamingHttpResponse(
        in_pieces(lines(records, jurisdictions)), content_type=content_type
    )
    count = claim_filter.qs.count()
    response["Content-Disposition"] = (
        f'attachment; filename="{filename(claim_filter, extension, count)}"'
    )
    response[TOTAL_COUNT_HEADER] = str(count)
    response["Access-Control-Expose-Headers"] = TOTAL_COUNT_HEADER
    return response


@read_only
def claims_csv(request):
    return export(request, "csv", "text/csv; charset=utf-8", csv_lines)


@read_only
def claims_json(request):
    return export(request, "json", "application/json", json_lines)
