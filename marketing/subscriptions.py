"""Subscriptions: topics an admin defines, and each contact's choices (language, topics, or nothing at
all) made on a public preference page reached through a signed link with an expiry.

The link is `signing.dumps(contact id)` with its own salt, made when a message is sent and valid for
`MARKETING_PREFERENCE_LINK_DAYS` (60 by default) after that: a forwarded or leaked old e-mail stops
opening the page. A forged, altered or expired link shows no data and changes nothing. The one-click
unsubscribe link (marketing/mailings.py) never expires: stopping e-mail must always work.

Every change is recorded with its time and source: topic subscriptions and the language in their
pghistory tables, the global opt-out/opt-in on the contact (its audit history), each with the
context `source="preference page"`."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import pghistory
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from contacts.models import Contact
from marketing.models import ContactPreference, Topic, TopicSubscription

PREFERENCES_SALT = "marketing.preferences"
SOURCE = "preference page"
STAFF_SOURCE = "staff"
RESUME_WORDING = "Send me marketing e-mail again on the topics I chose (preference page)"


def link_lifetime() -> timedelta:
    return timedelta(days=int(getattr(settings, "MARKETING_PREFERENCE_LINK_DAYS", 60)))


def preference_token(contact_id: int) -> str:
    return signing.dumps(contact_id, salt=PREFERENCES_SALT, compress=True)


@dataclass(frozen=True)
class TokenCheck:
    contact: Contact | None
    expired: bool = False


def contact_for_token(token: str) -> TokenCheck:
    """The contact a preference link names; none when it is forged, altered or expired."""
    try:
        contact_id = signing.loads(token, salt=PREFERENCES_SALT, max_age=link_lifetime())
    except signing.SignatureExpired:
        return TokenCheck(None, expired=True)
    except signing.BadSignature:
        return TokenCheck(None)
    if not isinstance(contact_id, int):
        return TokenCheck(None)
    return TokenCheck(Contact.objects.filter(pk=contact_id, deleted_at__isnull=True).first())


def language_of(contact: Contact) -> str:
    preference = ContactPreference.objects.filter(contact=contact).only("language").first()
    return preference.language if preference else ""


def subscribed_topic_ids(contact: Contact) -> set[int]:
    return set(TopicSubscription.objects.filter(contact=contact).values_list("topic_id", flat=True))


def receives_email(contact: Contact) -> bool:
    return contact.email_opt_in and contact.email_opted_out_at is None


@transaction.atomic
def preferences_save(*, contact: Contact, language: str, topics: Iterable[Topic], stop_all: bool = False,
                     resume: bool = False, source: str = SOURCE) -> None:
    """The contact's own choices. Offered (active) topics not chosen are left; inactive topics are not
    on the page and stay as they are. `stop_all` opts out of all marketing e-mail; `resume` opts back
    in (the person asked for it on the page: recorded with its time, source and wording)."""
    now = timezone.now()
    chosen = {topic.pk for topic in topics}
    with pghistory.context(source=source, contact=contact.pk):
        ContactPreference.objects.update_or_create(contact=contact, defaults={"language": language,
                                                                              "updated_at": now})
        current = subscribed_topic_ids(contact)
        offered = set(Topic.objects.filter(is_active=True).values_list("pk", flat=True))
        TopicSubscription.objects.filter(contact=contact, topic_id__in=(offered & current) - chosen).delete()
        TopicSubscription.objects.bulk_create(
            [TopicSubscription(contact=contact, topic_id=pk, subscribed_at=now, source=source)
             for pk in (chosen & offered) - current], ignore_conflicts=True)
        if stop_all and receives_email(contact):
            Contact.objects.filter(pk=contact.pk).update(email_opt_in=False, email_opted_out_at=now, updated_at=now)
        elif resume and not stop_all and not receives_email(contact):
            Contact.objects.filter(pk=contact.pk).update(
                email_opt_in=True, email_opt_in_at=now, email_opt_in_source=source,
                email_opt_in_wording=RESUME_WORDING, email_opted_out_at=None, updated_at=now)


@transaction.atomic
def staff_topics_save(*, contact: Contact, actor, language: str, topics: Iterable[Topic]) -> None:
    """A staff member records the contact's topics and language (asked on the phone, at a fair …): the
    same change as on the preference page, with the source "staff" and who made it in the history.
    Staff cannot opt a contact back in to marketing e-mail: only the person can (their consent)."""
    with pghistory.context(actor=actor.pk):
        preferences_save(contact=contact, language=language, topics=topics, source=STAFF_SOURCE)


@transaction.atomic
def topic_save(*, topic: Topic | None, name: str, description: str = "", is_active: bool = True,
               translations: dict[str, str] | None = None,
               description_translations: dict[str, str] | None = None,
               product_family: str | None = None) -> Topic:
    topic = topic or Topic()
    topic.name, topic.description, topic.is_active = name, description, is_active
    if product_family is not None:
        topic.product_family = product_family
    if translations is not None:
        topic.translations = translations
    if description_translations is not None:
        topic.description_translations = description_translations
    topic.full_clean()
    topic.save()
    return topic
