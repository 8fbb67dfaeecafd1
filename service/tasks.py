from celery import shared_task

from service import mail


@shared_task(ignore_result=True, queue_group="mail")
def send_reply(message_id: int) -> None:
    mail.reply_send(message_id=message_id)
