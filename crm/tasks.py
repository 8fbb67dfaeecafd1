from celery import shared_task

from crm import scheduler


@shared_task(ignore_result=True)
def scheduler_tick() -> dict[str, int]:
    return scheduler.tick()


@shared_task(ignore_result=True, queue_group="mail")
def send_outbox_mail(mail_id: int) -> bool:
    """Thin: the claim in outbox.deliver makes a redelivered task harmless; the tick retries failures."""
    from crm import outbox

    return outbox.deliver(mail_id)
