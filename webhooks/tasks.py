from celery import shared_task

from webhooks import services


# Hard limit above the HTTP timeouts: a hung attempt ends, its row is taken over by the tick.
@shared_task(ignore_result=True, soft_time_limit=90, time_limit=120)
def deliver(delivery_id: int) -> None:
    """Idempotent: the claim inside makes a redelivered or duplicate message a no-op."""
    services.delivery_attempt(delivery_id=delivery_id)
