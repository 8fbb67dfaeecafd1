from celery import shared_task

from crm import scheduler


@shared_task(acks_late=True, queue_group="imports")
def run_import(job_id: int) -> None:
    """Thin: the service claims the job (compare-and-set) and resumes after the last committed batch."""
    from imports.services import job_run

    job_run(job_id=job_id)


@scheduler.source("imports")
def imports_tick(now) -> int:
    from imports.services import cleanup

    return cleanup(now)
