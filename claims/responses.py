"""JSON responses and errors for the API and the downloads, and the site's 404 and 500
handlers, which answer those paths in JSON and every other path with the usual page."""

from functools import wraps

from django.http import JsonResponse
from django.urls import reverse
from django.views import defaults


def json_response(data, status=200):
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def json_error(status, message):
    return json_response({"error": message}, status=status)


# `json_error`'s shape, for the OpenAPI document.
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
    "additionalProperties": False,
}


def read_only(view):
    """GET and HEAD only (anything else gets a JSON 405), readable from any origin: the
    data is public."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method in ("GET", "HEAD"):
            response = view(request, *args, **kwargs)
        else:
            response = json_error(405, "Only GET is allowed: this API is read-only.")
            response["Allow"] = "GET, HEAD"
        response["Access-Control-Allow-Origin"] = "*"
        return response

    # Nothing here writes, so a POST gets the JSON 405 rather than an HTML CSRF failure.
    wrapper.csrf_exempt = True
    return wrapper


def export_paths():
    """{format: path} of the downloads (claims/exports.py), which the OpenAPI document
    describes beside the API and which answer errors in JSON as the API does."""
    return {"json": reverse("claims:export-json"), "csv": reverse("claims:export-csv")}


def wants_json_errors(request):
    return request.path.startswith(reverse("claims:api")) or request.path in export_paths().values()


def page_not_found(request, exception):
    if wants_json_errors(request):
        return json_error(404, "Nothing here: see /api/openapi.json for the endpoints.")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if wants_json_errors(request):
        return json_error(500, "Something went wrong on our side. Please try again later.")
    return defaults.server_error(request)
