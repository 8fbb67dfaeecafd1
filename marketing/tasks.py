from celery import shared_task

from marketing import mailings


@shared_task(ignore_result=True, queue_group="mail")
def send_mailing(mailing_id: int) -> int:
    """Thin: the claim in mailings.mailing_send makes a redelivered or doubled task harmless."""
    return mailings.mailing_send(mailing_id)
