"""The benchmark's limit: a view that does nothing, served through the site's own settings,
middleware stack and gunicorn command line. No page can be faster than this one."""

from django.http import HttpResponse
from django.urls import path


def nothing(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("", nothing)]
