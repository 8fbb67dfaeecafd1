from celery import shared_task

from exports import services


@shared_task(ignore_result=True, queue_group="reports")
def run_export(job_id: int) -> None:
    services.run_export(job_id)
