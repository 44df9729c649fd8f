"""The site's settings with bench.trivial as the only URL: DJANGO_SETTINGS_MODULE for the limit."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.trivial"
