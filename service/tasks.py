from celery import shared_task

from service import mail


@shared_task(ignore_result=True, queue_group="mail")
def send_reply(message_id: int) -> None:
    mail.reply_send(message_id=message_id)


@shared_task(ignore_result=True, queue_group="mail")
def read_imap_mailbox(mailbox_id: int) -> int:
    """Thin: the claim in imap.read keeps a second copy of this task (or an overlapping tick) out."""
    from service import imap

    return imap.read(mailbox_id)
