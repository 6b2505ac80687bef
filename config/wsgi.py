"""WSGI entry point."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 — every view module loaded now, as the first request would
# What is loaded by now lives as long as the worker: kept out of the collector's full passes, which otherwise
# walk all of it again and again while a large API page is built (a quarter of a 5,000-household page's time).
gc.freeze()
