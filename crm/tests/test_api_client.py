"""A real third-party client: openapi-python-client generates a Python client from the committed
docs/openapi.yaml, and the test drives a running server through it (list, create, update, delete).
The generator refused the schema before (an empty `enum` on the pipelines' `ordering`, an integer enum
with an empty string on the tickets' `priority`) and the generated client then failed on a lead whose
status is "converted", which its enum did not list."""

import importlib
import os
import subprocess  # nosec B404 - runs the generator installed in this virtualenv, fixed arguments
import sys
from pathlib import Path

import pytest
from django.conf import settings

from crm.api import tokens
from sales import lead_services
from sales.models import Lead, LeadStatus
from sales.tests.factories import LeadFactory, PipelineFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMA = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
PACKAGE = "crm_api_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The client package, generated from the committed schema (no warnings: every endpoint made)."""
    root = tmp_path_factory.mktemp("client")
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(  # nosec B603 - fixed command line, no shell
        [str(bin_dir / "openapi-python-client"), "generate", "--path", str(SCHEMA), "--meta", "none",
         "--output-path", str(root / PACKAGE)],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout and "Error" not in result.stdout, result.stdout
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def module(name: str):
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_a_generated_client_lists_creates_updates_and_deletes(generated, live_server, owner):
    _token, key = tokens.api_token_create(user=owner, name="generated client")
    client = generated.AuthenticatedClient(base_url=live_server.url, token=key, prefix="Token",
                                           raise_on_unexpected_status=True)
    models = module("models")
    leads_list, leads_create = module("api.leads.leads_list"), module("api.leads.leads_create")
    leads_update, leads_destroy = module("api.leads.leads_partial_update"), module("api.leads.leads_destroy")
    leads_retrieve = module("api.leads.leads_retrieve")

    converted = LeadFactory(owner=owner, company="Converted Ltd", email="done@converted.example")
    lead_services.lead_convert(lead=converted, actor=owner)

    created = leads_create.sync(client=client, body=models.LeadRequest(
        first_name="Иван", last_name="Петров", company="Ромашка", email="ivan@romashka.example",
        phone="+7 916 638-38-11", owner=owner.pk))
    assert isinstance(created, models.Lead), created
    assert created.status == models.LeadStatusEnum.NEW and created.owner == owner.pk

    page = leads_list.sync(client=client)  # a converted lead in the list: its status parses
    statuses = {row.id: row.status for row in page.results}
    assert statuses == {created.id: models.LeadStatusEnum.NEW, converted.pk: models.LeadStatusEnum.CONVERTED}

    without_version = leads_update.sync(created.id, client=client, body=models.PatchedLeadRequest(title="CFO"))
    assert isinstance(without_version, models.ValidationErrors)  # a change must name its version
    changed = leads_update.sync(created.id, client=client,
                                body=models.PatchedLeadRequest(title="CFO", lock_version=created.lock_version))
    assert changed.title == "CFO" and changed.lock_version == created.lock_version + 1
    assert Lead.objects.get(pk=created.id).title == "CFO"

    assert leads_destroy.sync_detailed(created.id, client=client).status_code == 204
    assert leads_retrieve.sync_detailed(created.id, client=client).status_code == 404
    assert Lead.objects.get(pk=created.id).deleted_at is not None
    assert Lead.objects.get(pk=converted.pk).status == LeadStatus.CONVERTED

    # The endpoints the generator used to refuse or skip answer through the client too
    PipelineFactory(name="New business")
    pipelines = module("api.pipelines.pipelines_list").sync(client=client)
    assert [pipeline.name for pipeline in pipelines] == ["New business"]
    tickets_list = module("api.tickets.tickets_list")
    assert tickets_list.sync_detailed(client=client, priority=module("models").TicketsListPriority(1)
                                      ).status_code == 200
