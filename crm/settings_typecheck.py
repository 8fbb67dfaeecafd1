"""Settings for mypy's Django plugin (`make lint`): the test settings with placeholder service
URLs, since the plugin loads the app registry but never connects to PostgreSQL or Redis."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://typecheck@127.0.0.1:5432/typecheck")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")

from crm.settings_test import *  # noqa: E402, F403
