"""The Dockerfile and docker-compose.yml stay in step with the code they start (no Docker daemon here to build
them: docs/operations.md, "Containers")."""

from pathlib import Path

import yaml
from django.conf import settings

from crm.queues import all_queues

ROOT = Path(settings.BASE_DIR)


def test_the_compose_worker_listens_to_every_queue_and_the_web_uses_the_gunicorn_config():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    worker = services["worker"]["command"]
    listened = set(worker[worker.index("-Q") + 1].split(","))
    assert listened == set(all_queues("crm"))  # a new queue group must reach the container's worker too
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert '"python:crm.gunicorn_conf"' in dockerfile and (ROOT / "crm" / "gunicorn_conf.py").exists()


def test_the_image_has_what_the_preflight_asks_a_machine_for():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "libpango-1.0-0" in dockerfile and "libpangoft2-1.0-0" in dockerfile  # WeasyPrint's PDFs
    assert "npm ci" in dockerfile and "COPY package.json package-lock.json" in dockerfile  # no CDN
    assert "USER crm" in dockerfile  # not root
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "node_modules", "var", ".git"} <= set(ignored)
