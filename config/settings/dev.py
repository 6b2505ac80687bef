"""Local development: the embedded default (SQLite, in-process Celery) unless the environment says otherwise."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
