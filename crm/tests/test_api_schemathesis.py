"""Schemathesis against the live API: generated requests (valid and invalid) for every operation
in the served OpenAPI schema, sent over HTTP with a token. No answer may be a server error, and
every answer must match the schema (status code, content type, headers, body)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tests.factories import AccountFactory
from activities.models import Activity
from contacts.tests.factories import ContactFactory
from crm.api import tokens
from sales.tests.factories import LeadFactory, OpportunityFactory, PipelineFactory

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES_PER_OPERATION = 15  # × every operation × valid and invalid data


@pytest.fixture
def api_data(manager, teammate, outsider, settings):
    """A sales manager's token, their team's records (which they may change), and an outsider's
    (hidden from them): generated ids hit both."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "100000/minute"}}
    _, key = tokens.api_token_create(user=manager, name="schemathesis")
    ids = {"accounts": [], "contacts": [], "activities": [], "opportunities": [], "leads": []}
    pipeline = PipelineFactory(is_default=True)
    for owner in (manager, teammate, outsider):
        for number in range(3):
            account = AccountFactory(owner=owner, phone="+44 20 7946 0100")
            ids["opportunities"].append(OpportunityFactory(owner=owner, account=account, pipeline=pipeline).pk)
            ids["leads"].append(LeadFactory(owner=owner).pk)
            contact = ContactFactory(owner=owner, account=account, first_name="Ann", emails=["ann@example.com"])
            activity = Activity.objects.create(kind="task" if number else "meeting", subject="Follow up",
                                               owner=owner, team=owner.team, account=account, contact=contact,
                                               status="open" if number else "")
            ids["accounts"].append(account.pk)
            ids["contacts"].append(contact.pk)
            ids["activities"].append(activity.pk)
    return {"headers": {"Authorization": f"Token {key}"}, "ids": ids}


def _check_operation(operation, mode, base_url, data):
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate, Phase.shrink])
    def run(case):
        identifier = case.path_parameters.get("id") if case.path_parameters else None
        if isinstance(identifier, int) and identifier % 2 == 0:
            # Half the generated ids become real rows (the manager's, a teammate's, or a hidden outsider's).
            rows = data["ids"].get(case.path.strip("/").split("/")[1])
            if rows:
                case.path_parameters["id"] = rows[identifier // 2 % len(rows)]
        case.call_and_validate(base_url=base_url, headers=data["headers"], checks=CHECKS)

    run()


def test_api_conforms_to_its_schema(live_server, api_data):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json", headers=api_data["headers"])
    operations = [result.ok() for result in schema.get_all_operations()]
    # CRUD on accounts, contacts, activities, leads, opportunities, tickets (with a ticket's messages) and campaigns;
    # reads of pipelines, products, price books, quotes, orders, invoices, payments, knowledge-base articles,
    # contracts, work orders and satisfaction surveys.
    assert len(operations) == 65
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _check_operation(operation, mode, live_server.url, api_data)
            except Unsatisfiable:
                continue  # nothing in this operation can be made invalid (an integer id in the path)
            except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - try every operation, report all
                failures.append(f"{operation.label} ({mode.value}):\n{error}")
    assert not failures, "\n\n".join(failures)
