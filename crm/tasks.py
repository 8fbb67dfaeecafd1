from celery import shared_task

from crm import scheduler


@shared_task(ignore_result=True)
def scheduler_tick() -> dict[str, int]:
    return scheduler.tick()
