"""The import contracts only see the packages listed in pyproject.toml's root_packages, and an
app missing there would be skipped silently (its layer is optional until it exists). Every
first-party app in INSTALLED_APPS must be listed."""

import tomllib
from pathlib import Path

from django.apps import apps
from django.conf import settings


def test_every_first_party_app_is_checked_by_the_import_contracts():
    base_dir = Path(settings.BASE_DIR)
    config = tomllib.loads((base_dir / "pyproject.toml").read_text())["tool"]["importlinter"]
    # First-party: the app's package is a top-level folder of the project (not the .venv).
    first_party = {
        app.name.split(".")[0] for app in apps.get_app_configs()
        if Path(app.path).parent == base_dir or Path(app.path).parent.parent == base_dir
    }
    assert {"crm", "accounts", "sales"} <= first_party
    assert first_party - set(config["root_packages"]) == set(), "add the app to root_packages in pyproject.toml"
