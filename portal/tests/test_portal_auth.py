"""The portal's own sign-in: invitation links, lockout, reset, idle expiry, and the wall between portal
and staff sessions."""

import re
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal import auth, services
from portal.models import PortalToken, PortalUser, TokenPurpose
from portal.tests.factories import PORTAL_PASSWORD, PortalUserFactory

NEW_PASSWORD = "Новый-пароль-2026"


def sign_in(client, email, password=PORTAL_PASSWORD):
    return client.post(reverse("portal:login"), {"email": email, "password": password})


def link_from(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def test_support_invites_a_contact_who_sets_a_password_once(client, desk, django_capture_on_commit_callbacks):
    client.force_login(desk["agent"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal_staff:invite", args=[desk["contact"].pk]))
    assert response.status_code == 302
    portal_user = PortalUser.objects.get(contact=desk["contact"])
    assert portal_user.email == "petr@vector.ru" and not portal_user.has_password
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["petr@vector.ru"]
    link = link_from(mail.outbox[0])
    client.logout()
    assert client.get(link).status_code == 200
    response = client.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.url == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200  # signed in to the portal
    # The link is used up: a second use (or a second tab) is refused and changes nothing.
    client.cookies.clear()
    again = client.post(link, {"password1": "Другой-пароль-2026", "password2": "Другой-пароль-2026"})
    assert again.status_code == 410 and "no longer valid" in again.content.decode()
    assert sign_in(client, "petr@vector.ru", NEW_PASSWORD).status_code == 302


def test_an_invitation_expires(client, desk):
    portal_user, token = services.portal_invite(contact=desk["contact"], actor=desk["agent"],
                                                now=timezone.now() - services.INVITE_VALID_FOR - timedelta(minutes=1))
    url = reverse("portal:set_password", args=[token])
    assert client.get(url).status_code == 410
    assert client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 410
    portal_user.refresh_from_db()
    assert not portal_user.has_password


def test_a_new_invitation_voids_the_old_link(client, desk):
    _, old = services.portal_invite(contact=desk["contact"], actor=desk["agent"])
    services.portal_invite(contact=desk["contact"], actor=desk["agent"])
    assert client.get(reverse("portal:set_password", args=[old])).status_code == 410


def test_a_weak_password_is_refused_with_a_message(client, desk):
    _, token = services.portal_invite(contact=desk["contact"], actor=desk["agent"])
    response = client.post(reverse("portal:set_password", args=[token]), {"password1": "12345", "password2": "12345"})
    assert response.status_code == 200 and "too short" in response.content.decode()
    assert PortalToken.objects.get().used_at is None


def test_only_roles_that_write_tickets_may_invite(client, desk, owner):
    client.force_login(owner)  # a sales rep who owns the contact
    assert client.post(reverse("portal_staff:invite", args=[desk["contact"].pk])).status_code == 403
    assert 'id="portal-invite"' not in client.get(desk["contact"].get_absolute_url()).content.decode()
    client.force_login(desk["agent"])
    assert 'id="portal-invite"' in client.get(desk["contact"].get_absolute_url()).content.decode()
    assert not PortalUser.objects.exists()


def test_a_contact_without_email_cannot_be_invited(client, desk):
    desk["contact"].emails = []
    desk["contact"].save(update_fields=["emails"])
    client.force_login(desk["agent"])
    client.post(reverse("portal_staff:invite", args=[desk["contact"].pk]))
    assert not PortalUser.objects.exists()


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(client, customer):
    for _attempt in range(services.MAX_FAILED_LOGINS - 1):
        response = sign_in(client, customer.email, "wrong")
        assert response.status_code == 400 and "not right" in response.content.decode()
    response = sign_in(client, customer.email, "wrong")
    assert "locked for 15 minutes" in response.content.decode()
    customer.refresh_from_db()
    assert customer.locked_until > timezone.now() + timedelta(minutes=14)
    # Locked: even the right password is refused.
    response = sign_in(client, customer.email)
    assert response.status_code == 400 and "locked" in response.content.decode()
    assert client.get(reverse("portal:home")).status_code == 302
    # Fifteen minutes later it opens again.
    PortalUser.objects.filter(pk=customer.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert sign_in(client, customer.email).status_code == 302


def test_a_right_password_resets_the_count(customer):
    for _attempt in range(services.MAX_FAILED_LOGINS - 1):
        try:
            services.portal_authenticate(email=customer.email, password="wrong")
        except services.SignInError:
            pass
    services.portal_authenticate(email=customer.email, password=PORTAL_PASSWORD)
    customer.refresh_from_db()
    assert customer.failed_logins == 0 and customer.locked_until is None


def test_unknown_addresses_and_wrong_passwords_get_the_same_answer(client, customer):
    unknown = sign_in(client, "nobody@example.ru", "whatever").content.decode()
    wrong = sign_in(client, customer.email, "whatever").content.decode()
    assert "The e-mail or password is not right." in unknown and "The e-mail or password is not right." in wrong


def test_reset_sends_a_single_use_link_and_unlocks(client, customer, django_capture_on_commit_callbacks):
    PortalUser.objects.filter(pk=customer.pk).update(locked_until=timezone.now() + timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:password_reset"), {"email": "PETR@vector.ru"})
    assert response.status_code == 200 and len(mail.outbox) == 1
    nobody = client.post(reverse("portal:password_reset"), {"email": "nobody@example.ru"})
    assert nobody.content.decode().count("Check your e-mail") == response.content.decode().count("Check your e-mail")
    assert len(mail.outbox) == 1  # nothing sent to an address without access
    link = link_from(mail.outbox[0])
    client.post(link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert client.get(link).status_code == 410
    client.cookies.clear()
    assert sign_in(client, customer.email, NEW_PASSWORD).status_code == 302


def test_a_reset_link_expires(client, customer):
    token = services.token_issue(portal_user=customer, purpose=TokenPurpose.RESET,
                                 now=timezone.now() - services.RESET_VALID_FOR - timedelta(seconds=1))
    assert client.get(reverse("portal:set_password", args=[token])).status_code == 410


def test_a_portal_session_never_opens_staff_pages(client, customer, desk):
    assert sign_in(client, customer.email).status_code == 302
    assert client.get(reverse("portal:home")).status_code == 200
    for url in (reverse("home"), reverse("service:home"), desk["ticket"].get_absolute_url(),
                reverse("contacts:list"), reverse("portal_staff:feedback")):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url
    assert client.get("/api/tickets/").status_code in (401, 403)


def test_a_staff_session_is_not_a_portal_session(client, desk):
    client.force_login(desk["agent"])
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302 and response.url.startswith(reverse("portal:login"))
    assert client.get(reverse("portal:ticket", args=[desk["ticket"].pk])).status_code == 302


def test_the_portal_cookie_is_its_own_and_scoped_to_the_portal(client, customer):
    response = sign_in(client, customer.email)
    cookie = response.cookies[auth.COOKIE_NAME]
    assert cookie["path"] == "/portal/" and cookie["httponly"]
    assert "sessionid" not in response.cookies


def test_signing_in_again_gives_a_new_session_key(client, customer):
    sign_in(client, customer.email)
    first = client.cookies[auth.COOKIE_NAME].value
    client.post(reverse("portal:logout"))
    sign_in(client, customer.email)
    assert client.cookies[auth.COOKIE_NAME].value != first


def test_sign_out_ends_the_portal_session(client, customer):
    sign_in(client, customer.email)
    key = client.cookies[auth.COOKIE_NAME].value
    client.post(reverse("portal:logout"))
    client.cookies[auth.COOKIE_NAME] = key  # an old cookie replayed
    assert client.get(reverse("portal:home")).status_code == 302


def test_an_idle_session_expires(client, customer, settings):
    sign_in(client, customer.email)
    session = auth._store_class()(client.cookies[auth.COOKIE_NAME].value)
    session[auth.SEEN_KEY] -= auth.idle_seconds() + 1
    session.save()
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302 and "expired=1" in response.url
    assert "signed out after a while" in client.get(response.url).content.decode()


def test_a_password_change_ends_other_sessions(client, customer):
    sign_in(client, customer.email)
    PortalUser.objects.filter(pk=customer.pk).update(password=make_password("Другой-пароль-2026"))
    assert client.get(reverse("portal:home")).status_code == 302


def test_revoked_access_ends_the_session_and_the_sign_in(client, customer, desk):
    sign_in(client, customer.email)
    client.force_login(desk["agent"])
    client.post(reverse("portal_staff:access", args=[desk["contact"].pk]), {"action": "revoke"})
    assert client.get(reverse("portal:home")).status_code == 302
    assert sign_in(client, customer.email).status_code == 400


def test_the_next_parameter_stays_inside_the_portal(client, customer):
    response = client.post(reverse("portal:login"), {"email": customer.email, "password": PORTAL_PASSWORD,
                                                     "next": "https://evil.example.com/"})
    assert response.url == reverse("portal:home")
    client.post(reverse("portal:logout"))
    response = client.post(reverse("portal:login"), {"email": customer.email, "password": PORTAL_PASSWORD,
                                                     "next": "/service/"})
    assert response.url == reverse("portal:home")


def test_another_portal_user_cannot_take_the_same_address(desk, customer):
    PortalUserFactory(contact=desk["stranger"], email="taras@svitanok.ua")
    desk["stranger"].emails = ["PETR@vector.ru"]
    desk["stranger"].save(update_fields=["emails"])
    try:
        services.portal_invite(contact=desk["stranger"], actor=desk["agent"])
    except services.InviteError as error:
        assert "already signs in" in str(error)
    else:
        raise AssertionError("the invitation should have been refused")


def test_reset_mails_are_limited_per_address(client, customer, settings, django_capture_on_commit_callbacks):
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(reverse("portal:password_reset"), {"email": customer.email}).status_code == 200
    assert len(mail.outbox) == settings.PASSWORD_RESET_PER_HOUR
