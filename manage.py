#!/usr/bin/env python
import os
import sys
from pathlib import Path

if __name__ == "__main__":
    if not os.environ.get("DATABASE_URL"):
        # On a developer's machine without DATABASE_URL: go through stack.py, which starts the
        # embedded PostgreSQL and Redis and then runs this again with the variables set.
        stack = Path(__file__).resolve().with_name("stack.py")
        os.execv(sys.executable, [sys.executable, str(stack), "manage", *sys.argv[1:]])  # noqa: S606
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    from django.core.management import execute_from_command_line

    from crm.preflight import exit_on_bad_settings

    exit_on_bad_settings()  # a bad DATABASE_URL or a missing SECRET_KEY: one sentence, no traceback
    execute_from_command_line(sys.argv)
