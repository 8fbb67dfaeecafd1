"""Satisfaction surveys: one per resolution, e-mailed once, answered once through a signed link that
cannot be forged, re-pointed or reused."""

from datetime import timedelta

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from crm import scheduler
from crm.models import OutboxMail
from portal import mail as portal_mail
from portal import services as portal_services
from portal.models import Survey
from service import services
from service.models import Status


def resolve(ticket, actor, capture, now=None):
    with capture(execute=True):
        return services.ticket_set_status(ticket=ticket, actor=actor, status=Status.RESOLVED, now=now)


def survey_link(survey):
    return reverse("portal:survey", args=[portal_services.survey_token(survey)])


def test_resolving_creates_one_survey_and_emails_it_once(desk, django_capture_on_commit_callbacks, settings):
    settings.PUBLIC_URL = "https://crm.example.com"
    resolve(desk["ticket"], desk["agent"], django_capture_on_commit_callbacks)
    survey = Survey.objects.get(ticket=desk["ticket"])
    assert survey.agent == desk["agent"] and survey.queue == desk["queue"] and survey.emailed_to == "petr@vector.ru"
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["petr@vector.ru"] and desk["ticket"].number in sent.subject
    assert "https://crm.example.com/portal/survey/" in sent.body and "Пётр" in sent.body
    # A redelivered task and the sweep send nothing more: the row was claimed before sending.
    assert portal_mail.survey_send(survey_id=survey.pk) is False
    assert portal_mail.send_pending_surveys(timezone.now() + timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1


def test_the_same_resolution_published_twice_makes_one_survey(desk):
    ticket = services.ticket_set_status(ticket=desk["ticket"], actor=desk["agent"], status=Status.RESOLVED)
    assert portal_services.survey_create(ticket=ticket, now=timezone.now()) is None
    assert Survey.objects.filter(ticket=ticket).count() == 1


def test_each_resolution_gets_its_own_survey(desk, django_capture_on_commit_callbacks):
    now = timezone.now()
    resolve(desk["ticket"], desk["agent"], django_capture_on_commit_callbacks, now=now)
    services.ticket_customer_message(ticket=desk["ticket"], body="Опять не печатает")  # reopens
    resolve(desk["ticket"], desk["agent"], django_capture_on_commit_callbacks, now=now + timedelta(hours=1))
    assert Survey.objects.filter(ticket=desk["ticket"]).count() == 2
    assert len(mail.outbox) == 2


def test_a_rolled_back_resolution_leaves_no_survey_and_sends_nothing(desk, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            services.ticket_set_status(ticket=desk["ticket"], actor=desk["agent"], status=Status.RESOLVED)
            raise RuntimeError("the agent's page failed later")
    assert not Survey.objects.exists() and mail.outbox == []


def test_a_survey_refused_by_the_mail_server_waits_in_the_outbox(desk, settings):
    services.ticket_set_status(ticket=desk["ticket"], actor=desk["agent"], status=Status.RESOLVED)
    survey = Survey.objects.get()
    settings.MAILERS = {"default": {"BACKEND": "crm.tests.mail_helpers.RefusingBackend"}}
    assert portal_mail.send_pending_surveys(timezone.now() + timedelta(minutes=5)) == 1  # queued
    assert scheduler.tick(now=timezone.now())["outbox"] == 0
    queued = OutboxMail.objects.get(key=f"survey-{survey.pk}")
    assert "mail server down" in queued.last_error and mail.outbox == []
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert scheduler.tick(now=queued.next_attempt_at)["outbox"] == 1
    assert len(mail.outbox) == 1


def test_a_contact_without_email_gets_a_survey_to_answer_in_the_portal(desk, django_capture_on_commit_callbacks):
    ticket = services.ticket_create(actor=desk["agent"], subject="Без почты", owner=desk["agent"])
    resolve(ticket, desk["agent"], django_capture_on_commit_callbacks)
    assert Survey.objects.get(ticket=ticket).emailed_to == "" and mail.outbox == []


@pytest.fixture
def survey(desk):
    services.ticket_set_status(ticket=desk["ticket"], actor=desk["agent"], status=Status.RESOLVED)
    return Survey.objects.get(ticket=desk["ticket"])


def test_the_customer_answers_without_signing_in(client, survey):
    url = survey_link(survey)
    page = client.get(url + "?rating=4")
    assert page.status_code == 200 and "Не печатает принтер" in page.content.decode()
    response = client.post(url, {"rating": "2", "comment": "Долго ждали ответа"})
    assert response.status_code == 200 and "survey-thanks" in response.content.decode()
    survey.refresh_from_db()
    assert survey.rating == 2 and survey.comment == "Долго ждали ответа" and survey.answered_at is not None


def test_a_second_answer_is_refused_with_a_clear_page(client, survey):
    url = survey_link(survey)
    client.post(url, {"rating": "5"})
    again = client.post(url, {"rating": "1", "comment": "передумал"})
    assert again.status_code == 409 and "already been answered" in again.content.decode()
    assert client.get(url).status_code == 409
    survey.refresh_from_db()
    assert survey.rating == 5 and survey.comment == ""


def test_two_answers_at_once_record_one(survey):
    """The compare-and-set: the second writer, holding a stale copy, changes nothing."""
    stale = Survey.objects.get(pk=survey.pk)
    assert portal_services.survey_answer(survey=survey, rating=5) is True
    assert portal_services.survey_answer(survey=stale, rating=1, comment="x") is False
    assert Survey.objects.get(pk=survey.pk).rating == 5


def test_a_tampered_signature_is_refused(client, survey):
    token = portal_services.survey_token(survey)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.get(reverse("portal:survey", args=[forged]))
    assert response.status_code == 404
    assert client.post(reverse("portal:survey", args=[forged]), {"rating": "1"}).status_code == 404
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_another_surveys_id_cannot_be_put_in_a_valid_token(client, survey, desk):
    services.ticket_set_status(ticket=desk["foreign"], actor=desk["agent"], status=Status.RESOLVED)
    other = Survey.objects.get(ticket=desk["foreign"])
    token = portal_services.survey_token(survey)
    payload, _, signature = token.partition(":")
    forged_payload = signing.b64_encode(signing.JSONSerializer().dumps([other.pk, other.ticket_id])).decode()
    forged = token.replace(payload, forged_payload, 1)
    assert client.post(reverse("portal:survey", args=[forged]), {"rating": "1"}).status_code == 404
    other.refresh_from_db()
    assert other.answered_at is None


def test_a_token_cannot_be_pointed_at_another_ticket(client, survey, desk):
    """Even correctly signed (say, a key leaked to a test), a survey id with another ticket is refused."""
    forged = signing.dumps([survey.pk, desk["foreign"].pk], salt=portal_services.SURVEY_SALT)
    assert client.post(reverse("portal:survey", args=[forged]), {"rating": "1"}).status_code == 404
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_a_token_signed_for_another_purpose_is_refused(client, survey):
    forged = signing.dumps([survey.pk, survey.ticket_id], salt="another.feature")
    assert client.get(reverse("portal:survey", args=[forged])).status_code == 404


def test_an_expired_link_is_refused(client, survey, monkeypatch):
    url = survey_link(survey)
    later = timezone.now().timestamp() + portal_services.SURVEY_VALID_FOR.total_seconds() + 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    response = client.post(url, {"rating": "3"})
    assert response.status_code == 410 and "closed" in response.content.decode()
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_a_bad_rating_gets_a_message_and_changes_nothing(client, survey):
    response = client.post(survey_link(survey), {"rating": "9"})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    response = client.post(survey_link(survey), {"comment": "без оценки"})
    assert "Choose a rating from 1 to 5." in response.content.decode()
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_the_survey_page_speaks_the_customers_language(client, survey):
    response = client.get(survey_link(survey), HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200 and 'lang="ru"' in response.content.decode()
