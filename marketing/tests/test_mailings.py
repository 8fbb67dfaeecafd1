"""Mass e-mail: recipients frozen once, consent respected, never a second message to anyone (a
double click, the task run twice, a worker killed mid-run), and one-click unsubscribe with a signed
link that cannot be forged. Messages go through the project's outbox mailer (one .eml file each)."""

import email
import email.policy
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail as django_mail
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.mail import outbox_dir
from marketing import mailings, services
from marketing.models import Delivery, DeliveryStatus, Mailing, MailingStatus
from marketing.tests.factories import CampaignFactory

BASE = "https://crm.example.com"


@pytest.fixture
def outbox(settings, tmp_path):
    settings.EMAIL_OUTBOX_DIR = tmp_path / "mail"
    settings.MAILERS = {"default": {"BACKEND": "crm.mail.OutboxBackend"}}
    return tmp_path / "mail"


def sent_messages():
    folder = outbox_dir()
    if not folder.exists():
        return []
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(folder.glob("*.eml"))]


def recipients_count():
    return Counter(str(message["To"]) for message in sent_messages())


@pytest.fixture
def audience(marketer, owner):
    people = [ContactFactory(owner=owner, first_name=f"Получатель{n}", last_name="Тестов",
                             emails=[f"reader{n}@example.com"], email_opt_in=True) for n in range(7)]
    ContactFactory(owner=owner, first_name="Never", emails=["never@example.com"], email_opt_in=False)
    ContactFactory(owner=owner, first_name="Gone", emails=["gone@example.com"], email_opt_in=True,
                   email_opted_out_at=timezone.now())
    ContactFactory(owner=owner, first_name="Nomail", emails=[], email_opt_in=True)
    ContactFactory(owner=owner, first_name="Dnc", emails=["dnc@example.com"], email_opt_in=True, do_not_call=True)
    static_list = services.static_list_create(actor=marketer, name="Все")
    services.static_list_add(static_list=static_list, actor=marketer, contacts=Contact.objects.all())
    return {"people": people, "list": static_list}


def make_mailing(marketer, audience, **fields):
    campaign = CampaignFactory(owner=marketer)
    return Mailing.objects.create(owner=marketer, team=marketer.team, campaign=campaign,
                                  static_list=audience["list"], subject="Новинка для {first_name}",
                                  body="Здравствуйте, {first_name} {last_name}! {secret} остаётся как есть.", **fields)


def start(mailing, marketer, django_capture_on_commit_callbacks, execute=False):
    with django_capture_on_commit_callbacks(execute=execute):
        return mailings.mailing_start(mailing=mailing, actor=marketer, base_url=BASE)


def test_recipients_are_frozen_and_consent_respected(outbox, marketer, audience, django_capture_on_commit_callbacks):
    mailing = make_mailing(marketer, audience)
    assert start(mailing, marketer, django_capture_on_commit_callbacks)
    reasons = dict(Delivery.objects.filter(status=DeliveryStatus.SUPPRESSED).values_list("contact__first_name",
                                                                                         "reason"))
    assert reasons == {"Never": "no consent", "Gone": "no consent", "Nomail": "no address", "Dnc": "do not contact"}
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 7
    mailings.mailing_send(mailing.pk)
    assert recipients_count() == Counter({f"reader{n}@example.com": 1 for n in range(7)})
    counts = mailings.counts(mailing)
    assert (counts.recipients, counts.sent, counts.suppressed, counts.pending) == (11, 7, 4, 0)
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT and mailing.finished_at


def test_a_double_click_starts_once(outbox, marketer, audience, django_capture_on_commit_callbacks):
    mailing = make_mailing(marketer, audience)
    assert start(mailing, marketer, django_capture_on_commit_callbacks, execute=True)  # the task runs (eager)
    assert not start(mailing, marketer, django_capture_on_commit_callbacks, execute=True)
    assert Delivery.objects.count() == 11
    assert sum(recipients_count().values()) == 7 and set(recipients_count().values()) == {1}


def test_running_the_task_twice_sends_nobody_twice(outbox, marketer, audience, django_capture_on_commit_callbacks):
    from marketing.tasks import send_mailing

    mailing = make_mailing(marketer, audience)
    start(mailing, marketer, django_capture_on_commit_callbacks)
    assert send_mailing(mailing.pk) == 7
    assert send_mailing(mailing.pk) == 0  # redelivered: everything is claimed or sent already
    assert max(recipients_count().values()) == 1 and len(recipients_count()) == 7


class Killed(BaseException):
    """What SIGKILL looks like from inside: the worker stops between two statements."""


def test_a_worker_killed_mid_send_never_causes_a_second_message(outbox, marketer, audience, monkeypatch,
                                                                django_capture_on_commit_callbacks):
    mailing = make_mailing(marketer, audience)
    start(mailing, marketer, django_capture_on_commit_callbacks)
    real_send = mailings.message_for
    sent = []

    def dying(delivery, mailing_, *texts):
        if len(sent) == 3:  # the 4th message goes out, then the worker dies before recording it
            message = real_send(delivery, mailing_, *texts)
            message.send()
            raise Killed
        sent.append(delivery.pk)
        return real_send(delivery, mailing_, *texts)

    monkeypatch.setattr(mailings, "message_for", dying)
    with pytest.raises(Killed):
        mailings.mailing_send(mailing.pk, batch=5)
    monkeypatch.setattr(mailings, "message_for", real_send)
    assert Delivery.objects.filter(status=DeliveryStatus.SENDING).count() == 2  # the batch's unfinished claims

    # A new worker (the task redelivered) while the dead one's heartbeat is fresh: it leaves the mailing alone.
    assert mailings.mailing_send(mailing.pk, batch=5) == 0
    assert Delivery.objects.filter(status=DeliveryStatus.SENDING).count() == 2
    # A minute without a heartbeat: the next run takes over; the dead run's rows become "unknown", never resent.
    Mailing.objects.filter(pk=mailing.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    mailings.mailing_send(mailing.pk, batch=5)

    assert max(recipients_count().values()) == 1  # nobody got a second message
    counts = mailings.counts(mailing)
    assert counts.pending == 0 and counts.sending == 0 and counts.unknown == 2  # ≤ the batch in flight
    assert counts.sent + counts.unknown + counts.suppressed + counts.failed + counts.pending == counts.recipients
    assert sum(recipients_count().values()) == counts.sent + 1  # the 4th went out but is "unknown"


def test_a_failed_send_is_recorded_and_the_rest_go_on(outbox, marketer, audience, monkeypatch,
                                                      django_capture_on_commit_callbacks):
    mailing = make_mailing(marketer, audience)
    start(mailing, marketer, django_capture_on_commit_callbacks)
    real_send = mailings.message_for
    first = Delivery.objects.filter(status=DeliveryStatus.PENDING).order_by("id").first()

    def refusing(delivery, mailing_, *texts):
        if delivery.pk == first.pk:
            raise OSError("550 mailbox unavailable")
        return real_send(delivery, mailing_, *texts)

    monkeypatch.setattr(mailings, "message_for", refusing)
    assert mailings.mailing_send(mailing.pk) == 6
    first.refresh_from_db()
    assert first.status == DeliveryStatus.FAILED and "550" in first.reason


def test_message_headers_merge_fields_and_unsubscribe(client, outbox, marketer, audience,
                                                      django_capture_on_commit_callbacks):
    mailing = make_mailing(marketer, audience)
    start(mailing, marketer, django_capture_on_commit_callbacks)
    mailings.mailing_send(mailing.pk)
    message = next(m for m in sent_messages() if str(m["To"]) == "reader0@example.com")
    assert str(message["Subject"]) == "Новинка для Получатель0"
    text = message.get_body(("plain",)).get_content()
    assert "Здравствуйте, Получатель0 Тестов! {secret} остаётся как есть." in text  # only offered fields merge
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    link = str(message["List-Unsubscribe"]).split(",")[0].strip().strip("<>")  # https first, then mailto
    assert link.startswith(BASE + "/marketing/unsubscribe/") and link in text
    raw = next(path.read_bytes() for path in outbox_dir().glob("*.eml") if b"reader0@example.com" in path.read_bytes())
    assert f"\nList-Unsubscribe: <{link}>".encode() in raw  # as it is, not folded into encoded words
    delivery = Delivery.objects.get(email="reader0@example.com")
    assert str(message["Message-ID"]).startswith(f"<mailing-{mailing.pk}.delivery-{delivery.pk}@")

    path = link.removeprefix(BASE)
    assert client.get(path).status_code == 200  # a link scanner's GET changes nothing
    delivery.contact.refresh_from_db()
    assert delivery.contact.email_opted_out_at is None
    response = client.post(path, {"List-Unsubscribe": "One-Click"})  # RFC 8058: no sign-in, no CSRF token
    assert response.status_code == 200
    delivery.contact.refresh_from_db()
    delivery.refresh_from_db()
    assert delivery.contact.email_opted_out_at and not delivery.contact.email_opt_in and delivery.unsubscribed_at
    assert mailings.counts(mailing).unsubscribed == 1


def test_forged_or_altered_links_are_refused(client, outbox, marketer, audience,
                                             django_capture_on_commit_callbacks):
    mailing = make_mailing(marketer, audience)
    start(mailing, marketer, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.filter(status=DeliveryStatus.PENDING).first()
    token = mailings.unsubscribe_token(delivery.pk)
    other = Delivery.objects.filter(status=DeliveryStatus.PENDING).exclude(pk=delivery.pk).first()
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    from django.core import signing
    forged = signing.dumps(other.pk, salt="some.other.salt", compress=True)  # signed, but not for this
    for bad in (tampered, forged, "nonsense"):
        response = client.post(reverse("marketing:unsubscribe", args=[bad]))
        assert response.status_code == 404 and "This link is not valid" in response.content.decode()
    assert not Contact.objects.filter(pk__in=[delivery.contact_id, other.contact_id],
                                      email_opted_out_at__isnull=False).exists()


def test_later_mailings_skip_who_unsubscribed(client, outbox, marketer, audience,
                                              django_capture_on_commit_callbacks):
    first = make_mailing(marketer, audience)
    start(first, marketer, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.filter(mailing=first, status=DeliveryStatus.PENDING).first()
    assert mailings.unsubscribe(delivery=delivery) and not mailings.unsubscribe(delivery=delivery)
    second = make_mailing(marketer, audience)
    start(second, marketer, django_capture_on_commit_callbacks)
    assert Delivery.objects.get(mailing=second, contact_id=delivery.contact_id).status == DeliveryStatus.SUPPRESSED


def test_no_mail_is_sent_through_djangos_test_outbox(django_capture_on_commit_callbacks, outbox, marketer, audience):
    """The messages above are real files from the project's mailer, not Django's in-memory outbox."""
    mailing = make_mailing(marketer, audience)
    start(mailing, marketer, django_capture_on_commit_callbacks)
    mailings.mailing_send(mailing.pk)
    assert len(sent_messages()) == 7 and len(getattr(django_mail, "outbox", [])) == 0


# --- Pages ---------------------------------------------------------------------------------


def test_write_preview_and_send_from_the_pages(client, outbox, marketer, audience, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(owner=marketer, name="Весенняя рассылка")
    client.force_login(marketer)
    url = reverse("marketing:mailing_create", args=[campaign.pk])
    response = client.post(url, {"subject": "Привет", "body": "Текст"})
    assert "Send it either to a segment or to a static list." in response.content.decode()
    assert not Mailing.objects.exists()
    response = client.post(url, {"static_list": audience["list"].pk, "subject": "Привет, {first_name}",
                                 "body": "Новости для {company}"})
    mailing = Mailing.objects.get()
    assert response.url == mailing.get_absolute_url()
    body = client.get(mailing.get_absolute_url()).content.decode()
    assert "Send to 11 contacts" in body and "Привет, " in body  # the preview with the first recipient
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("marketing:mailing_send", args=[mailing.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("marketing:mailing_send", args=[mailing.pk]), follow=True)  # double click
    assert "This mailing was already sent: nothing was sent again." in response.content.decode()
    assert len(sent_messages()) == 7
    body = client.get(mailing.get_absolute_url()).content.decode()
    assert 'data-count="sent">7<' in body and 'data-count="suppressed">4<' in body
    assert "Весенняя рассылка" in body


def test_only_those_who_may_edit_the_campaign_write_and_send(client, outbox, marketer, owner, support_agent,
                                                             audience):
    mailing = make_mailing(marketer, audience)
    client.force_login(owner)  # reads campaigns, may not edit the marketer's
    assert client.get(reverse("marketing:mailing_create", args=[mailing.campaign_id])).status_code == 403
    assert client.post(reverse("marketing:mailing_send", args=[mailing.pk])).status_code == 403
    client.force_login(support_agent)
    assert client.get(mailing.get_absolute_url()).status_code == 404
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT and not Delivery.objects.exists()


def test_the_unsubscribe_page_needs_no_sign_in(client, outbox, marketer, audience, django_capture_on_commit_callbacks):
    mailing = make_mailing(marketer, audience)
    start(mailing, marketer, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.filter(status=DeliveryStatus.PENDING).first()
    url = reverse("marketing:unsubscribe", args=[mailings.unsubscribe_token(delivery.pk)])
    body = client.get(url).content.decode()
    assert "Stop marketing e-mail to" in body and delivery.email in body
    assert "You are unsubscribed" in client.post(url).content.decode()
