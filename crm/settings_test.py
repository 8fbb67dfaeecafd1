"""Settings for the test suite: the real ones, with a few speed and isolation changes."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")

from crm.settings import *  # noqa: E402, F403
from crm.settings import CACHES, STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Unit tests run tasks in-process; tests that need a real worker (crm/tests/test_celery_worker.py)
# start one and switch this off for themselves.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "1") == "1"
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
# Per xdist worker, and per run (CACHE_KEY_PREFIX): two runs on one Redis never share keys.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": f"{CACHES['default']['KEY_PREFIX']}-test-{_worker}"}}
ALLOWED_HOSTS = ["*"]
TWO_FACTOR_REQUIRED_ROLES: list[str] = []  # tests that check the rule turn it on for themselves
