"""What the portal app does when the service desk resolves a ticket (see crm/hooks.py)."""

import logging

from django.db import transaction

from crm import hooks
from portal.services import survey_create

logger = logging.getLogger(__name__)


def _enqueue(survey_id: int) -> None:
    """A broker that is down must not fail the agent's page: the scheduler's sweep sends what is left."""
    from portal.tasks import send_survey

    try:
        send_survey.delay(survey_id)
    except Exception:  # noqa: BLE001 - any broker error; the sweep retries
        logger.warning("Could not queue survey %s; the scheduler will send it", survey_id, exc_info=True)


@hooks.subscribe(hooks.TICKET_RESOLVED)
def create_survey(*, ticket, now, **_kwargs) -> None:
    """A one-question survey per resolution, e-mailed to the ticket's contact once the resolution commits."""
    survey = survey_create(ticket=ticket, now=now)
    if survey is not None and survey.emailed_to:
        transaction.on_commit(lambda: _enqueue(survey.pk))
