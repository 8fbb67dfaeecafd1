import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import KEY_PREFIX, SessionStore
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD


def test_pages_require_sign_in(client, db):
    for name in ("home", "sales:overview", "service:home", "marketing:overview", "reports", "accounts:list",
                 "user_list"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_sign_in_gives_a_fresh_session_key(client, owner):
    client.get(reverse("login"))
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    response = client.post(reverse("login"), {"username": owner.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != "x" * 32


def test_wrong_password_is_refused_with_a_message(client, owner):
    response = client.post(reverse("login"), {"username": owner.email, "password": "wrong"})
    assert response.status_code == 200
    assert "correct" in response.content.decode()


def test_sign_out_ends_the_session(client, owner):
    client.force_login(owner)
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_sessions_expire_after_idle_time(client, owner):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    client.force_login(owner)
    client.get(reverse("home"))
    session = Session.objects.get(session_key=client.session.session_key)
    first_expiry = session.expire_date
    # The stored expiry, not only the setting: 30 minutes from now, give or take the test's own time.
    assert timedelta(minutes=29) < first_expiry - timezone.now() <= timedelta(minutes=30)
    # Within a minute the row is not rewritten (saves queries on every page) ...
    client.get(reverse("home"))
    assert Session.objects.get(pk=session.pk).expire_date == first_expiry
    # ... after a minute of idling it is, so the 30 minutes count from the last request.
    stale = client.session
    stale["_seen"] -= 120
    stale.save()
    Session.objects.filter(pk=session.pk).update(expire_date=first_expiry)
    client.get(reverse("home"))
    assert Session.objects.get(pk=session.pk).expire_date > first_expiry
    # The cached copy (crm/sessions.py) lives no longer than the idle time either ...
    cache = caches[settings.SESSION_CACHE_ALIAS]
    raw_key = cache.make_key(KEY_PREFIX + session.session_key)
    assert 0 < cache._cache.get_client(raw_key).ttl(raw_key) <= 30 * 60
    # ... and past the expiry (the cached copy gone with its time to live) the session signs no one in.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    cache.delete(KEY_PREFIX + session.session_key)
    assert client.get(reverse("home")).status_code == 302


def test_password_change(client, owner):
    client.force_login(owner)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "a-much-longer-pass-42", "new_password2": "a-much-longer-pass-42"},
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("a-much-longer-pass-42")


def test_password_reset_by_email(client, owner):
    client.post(reverse("password_reset"), {"email": owner.email})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/auth/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session marker
    response = client.post(form_url, {"new_password1": "brand-new-pass-77", "new_password2": "brand-new-pass-77"})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("brand-new-pass-77")


def test_unknown_address_gets_the_same_answer(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 0


@pytest.mark.django_db
def test_security_headers_and_csp(client, owner):
    client.force_login(owner)
    response = client.get(reverse("home"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.content.decode()  # no inline script at all


def test_deactivation_ends_sessions_at_once(client, admin_user, owner):
    from django.test import Client

    rep_client = Client()
    rep_client.post(reverse("login"), {"username": owner.email, "password": PASSWORD})
    assert rep_client.get(reverse("home")).status_code == 200
    rep_session_key = rep_client.session.session_key
    assert Session.objects.filter(session_key=rep_session_key).exists()

    client.force_login(admin_user)
    client.post(reverse("user_set_active", args=[owner.pk]), {"active": "0"})

    assert not Session.objects.filter(session_key=rep_session_key).exists()
    assert rep_client.get(reverse("home")).status_code == 302
    assert rep_client.post(reverse("login"), {"username": owner.email, "password": PASSWORD}).status_code == 200


def test_the_stored_session_ends_after_the_idle_time(client, owner):
    """The row's own expiry, not the setting: a session kept longer (a year, say) fails here."""
    client.force_login(owner)
    client.get(reverse("home"))
    expiry = Session.objects.get(session_key=client.session.session_key).expire_date
    now = timezone.now()
    assert now + timedelta(minutes=29) <= expiry <= now + timedelta(minutes=31)
    # Sessions are read from the cache first: its copy expires with the row.
    key = client.session.session_key
    store = SessionStore(key)
    ttl = caches["default"]._cache.get_client(write=False).ttl(caches["default"].make_key(store.cache_key))
    assert 29 * 60 <= ttl <= 31 * 60
    # Without the cached copy (Redis restarted, say) the row's expiry decides.
    Session.objects.filter(session_key=key).update(expire_date=now - timedelta(seconds=1))
    caches["default"].delete(store.cache_key)
    assert client.get(reverse("home")).status_code == 302  # idled out: back to sign-in
