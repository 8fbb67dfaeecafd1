from celery import shared_task

from portal import mail


@shared_task(ignore_result=True, queue_group="mail")
def send_survey(survey_id: int) -> None:
    mail.survey_send(survey_id=survey_id)
